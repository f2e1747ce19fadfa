"""End to end: a real `qcluster` process delivers, retries and gives up."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Notification, Status
from tests.builders import saved_channel
from tests.fakes.feishu import FakeFeishu

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    """The URL of the test database this test runs in, for the child process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def qcluster() -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orion.test_settings",
        "ORION_DATABASE_URL": database_url(),
        "ORION_TEST_QUEUE": settings.Q_CLUSTER["name"],
        "ORION_WORKERS": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(ids: list[int], statuses: set[str], seconds: float = 60) -> dict[int, str]:
    """Poll until every notification has one of `statuses`; return the last seen."""
    deadline = time.monotonic() + seconds
    seen: dict[int, str] = {}
    while time.monotonic() < deadline:
        seen = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
        if all(status in statuses for status in seen.values()):
            return seen
        time.sleep(0.2)
    return seen


def feishu(slug: str, url: str) -> Channel:
    return saved_channel(
        slug=slug, name=slug, kind="feishu", secrets={"webhook_url": url}
    )


def test_a_real_cluster_sends_schedules_and_fails(qcluster: subprocess.Popen) -> None:
    with FakeFeishu() as fake:
        good = feishu("good", fake.webhook_url)
        dead = feishu("dead", fake.webhook_url.replace(fake.token, "deleted-bot"))
        spec = services.NotificationSpec
        now = timezone.now()
        sent = services.create_notification(spec(channel=good, body="disk full"))
        later = services.create_notification(
            spec(
                channel=good, body="later", send_at=now + datetime.timedelta(seconds=2)
            )
        )
        failed = services.create_notification(spec(channel=dead, body="to a dead bot"))
        assert later.status == Status.PENDING

        final = wait_for([sent.pk, later.pk, failed.pk], {Status.SENT, Status.FAILED})

        assert qcluster.poll() is None, "the cluster died"
        assert final == {
            sent.pk: Status.SENT,
            later.pk: Status.SENT,
            failed.pk: Status.FAILED,
        }
        bodies = [r.json()["content"]["text"] for r in fake.requests]
        assert sorted(bodies) == ["disk full", "later", "to a dead bot"]
        later.refresh_from_db()
        assert later.sent_at >= later.send_at
        failed.refresh_from_db()
        assert "invalid" in failed.last_error
        assert Channel.objects.get(slug="dead").credential_dead_at is not None


def test_a_transient_failure_is_retried_by_the_cluster(
    qcluster: subprocess.Popen,
) -> None:
    from tests.fakes.base import Reply

    with FakeFeishu() as fake:
        fake.fail_next(Reply(200, {"code": 11232, "msg": "frequency limited"}))
        channel = feishu("flaky", fake.webhook_url)
        notification = services.create_notification(
            services.NotificationSpec(channel=channel, body="try again")
        )

        final = wait_for([notification.pk], {Status.SENT, Status.FAILED}, seconds=90)

        assert final == {notification.pk: Status.SENT}
        outcomes = list(
            notification.delivery_attempts.order_by("number").values_list(
                "outcome", flat=True
            )
        )
        assert outcomes == ["transient", "sent"]
        assert len(fake.requests) == 2
