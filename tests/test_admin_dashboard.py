"""The admin index shows the last 24 hours: statuses, channels, waits, workers."""

from __future__ import annotations

import datetime
import re

from django.test import Client
from django.utils import timezone

from notifications.models import Channel, Lease, Status
from tests.admin_helpers import make_notification

pytest_plugins = ("tests.admin_support",)


def row_of(html: str, slug: str) -> list[str]:
    row = re.search(rf"<tr>\s*<td>{slug}</td>(.*?)</tr>", html, re.S)
    assert row, f"no dashboard row for {slug}"
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)


def test_it_counts_sends_by_status_and_channel_with_the_failure_rate(
    operator_client: Client, feishu_channel: Channel
) -> None:
    for status in (Status.SENT, Status.SENT, Status.SENT, Status.FAILED):
        make_notification(feishu_channel, status=status)
    make_notification(feishu_channel)
    make_notification(
        feishu_channel,
        status=Status.FAILED,
        created_at=timezone.now() - datetime.timedelta(days=2),
    )

    html = operator_client.get("/admin/").content.decode()

    # total, sent, failed, waiting, failure rate
    assert [cell.strip() for cell in row_of(html, "ops-feishu")] == [
        "5",
        "3",
        "1",
        "1",
        "25%",
    ]
    assert "?status__exact=sent" in html


def test_it_links_to_the_oldest_waiting_notification(
    operator_client: Client, feishu_channel: Channel
) -> None:
    now = timezone.now()
    oldest = make_notification(
        feishu_channel, created_at=now - datetime.timedelta(hours=3)
    )
    make_notification(feishu_channel, created_at=now - datetime.timedelta(hours=1))
    make_notification(
        feishu_channel,
        status=Status.SENT,
        created_at=now - datetime.timedelta(hours=5),
    )

    html = operator_client.get("/admin/").content.decode()

    url = f"/admin/notifications/notification/{oldest.pk}/change/"
    assert f'href="{url}" id="orion-oldest"' in html
    assert "Waiting for 3\xa0hours" in html


def test_it_says_when_no_worker_cluster_is_alive(
    operator_client: Client, feishu_channel: Channel
) -> None:
    html = operator_client.get("/admin/").content.decode()

    assert "No worker cluster is running" in html


def test_it_says_when_a_worker_cluster_is_alive(
    operator_client: Client, feishu_channel: Channel
) -> None:
    Lease.objects.create(
        name="dispatcher",
        holder="worker 1",
        expires_at=timezone.now() + datetime.timedelta(seconds=10),
    )

    html = operator_client.get("/admin/").content.decode()

    assert "A worker cluster is running." in html
    assert "No worker cluster is running" not in html
