"""In a real browser: an operator sends, follows and resends; a viewer only looks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, expect, sync_playwright

from notifications.delivery import deliver_next
from notifications.models import Channel, Notification, Status
from tests.admin_helpers import make_user
from tests.fakes.feishu import FakeFeishu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = "/tmp/orion-admin-detail.png"


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an event loop in this thread, which makes
    # Django refuse ORM calls here; the test's own queries are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    release_live_server_connections()


def release_live_server_connections() -> None:
    """Wait for the live server's request threads to let go of the database.

    Chromium keeps its HTTP connections alive, and each of the live server's
    request threads holds a database connection until its HTTP connection
    closes. On PostgreSQL one still open would stop pytest from dropping the
    test database, so sessions left after a grace period are ended.
    """
    if connection.vendor != "postgresql":
        return
    others = (
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(others)
            if not cursor.fetchall():
                return
            time.sleep(0.1)
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({others}) AS o")


class Deliverer(threading.Thread):
    """Plays the worker cluster: delivers whatever is queued until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                if deliver_next(actor="test worker") is None:
                    self.stopping.wait(0.05)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


@pytest.fixture
def deliverer() -> Iterator[Deliverer]:
    thread = Deliverer()
    thread.start()
    yield thread
    thread.stop()


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_be_visible()


def wait_for_status(page: Page, status: str, attempts: int = 100) -> None:
    """Reload the detail page until its status badge reads `status`."""
    badge = page.locator(".orion-actionbar-status .orion-badge")
    for _ in range(attempts):
        if badge.inner_text().strip() == status:
            return
        time.sleep(0.1)
        page.reload()
    expect(badge).to_have_text(status)


def test_an_operator_sends_follows_and_resends_and_a_viewer_only_looks(
    live_server: object,
    browser: Browser,
    fake_feishu: FakeFeishu,
    deliverer: Deliverer,
) -> None:
    Channel.objects.create(
        slug="ops-feishu",
        name="Ops Feishu group",
        kind="feishu",
        config={"message_type": "text"},
        secrets={"webhook_url": fake_feishu.webhook_url},
    )
    make_user("olga", "Operators")
    make_user("victor", "Viewers")
    base_url = str(live_server)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})

    log_in(page, base_url, "olga")
    page.click("text=Send a notification")
    page.get_by_label("ops-feishu").check()
    page.fill("#id_subject", "Disk almost full")
    page.fill("#id_body", "db-1 is at 91%. Clean up /var/log.")
    page.click("input[name=_preview]")
    expect(page.locator("#orion-send-summary")).to_contain_text("1 notification")
    expect(page.locator(".orion-preview")).to_contain_text("db-1 is at 91%")
    page.click("input[name=_confirm]")

    wait_for_status(page, "sent")
    expect(page.locator(".inline-group").first).to_contain_text("sent")
    page.screenshot(path=SCREENSHOT, full_page=True)
    original = Notification.objects.get()
    assert original.status == Status.SENT

    page.click("a.orion-action-resend")
    page.click("input[type=submit][value='Yes, resend']")
    expect(page.locator(".messagelist")).to_contain_text("Resent as")
    wait_for_status(page, "sent")
    copy = Notification.objects.exclude(pk=original.pk).get()
    assert copy.resend_of_id == original.pk
    assert copy.status == Status.SENT
    assert len(fake_feishu.requests) == 2

    page.context.clear_cookies()
    log_in(page, base_url, "victor")
    page.goto(f"{base_url}/admin/notifications/notification/{original.pk}/change/")
    expect(page.locator(".orion-actionbar-status")).to_contain_text("sent")
    expect(page.locator("a.orion-action")).to_have_count(0)
    page.goto(f"{base_url}/admin/notifications/notification/")
    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator("select[name=action]")).to_have_count(0)
    expect(page.locator("text=Send a notification")).to_have_count(0)
