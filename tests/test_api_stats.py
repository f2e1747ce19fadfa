"""GET /api/v1/stats/ gives the delivery figures of notifications.stats.summary()."""

from __future__ import annotations

import datetime

from django.utils import timezone

from notifications.models import Notification, Status
from tests.api_support import send

pytest_plugins = ["tests.api_fixtures"]


def test_counts_by_status_channel_and_priority_with_latency(
    viewer_client, feishu_channel
):
    sent = send(feishu_channel, priority="urgent")
    send(feishu_channel)
    now = timezone.now()
    Notification.objects.filter(pk=sent.pk).update(
        status=Status.SENT,
        created_at=now - datetime.timedelta(seconds=4),
        sent_at=now,
    )

    response = viewer_client.get("/api/v1/stats/")

    assert response.status_code == 200
    body = response.json()
    hour = body["hour"]
    assert hour["total"] == 2
    assert hour["by_status"] == {"queued": 1, "sent": 1}
    assert hour["by_priority"] == {"normal": 1, "urgent": 1}
    assert hour["by_channel"] == {"ops-feishu": {"queued": 1, "sent": 1}}
    assert hour["latency_seconds"]["count"] == 1
    assert 3 <= hour["latency_seconds"]["p50"] <= 5
    assert body["day"]["total"] == 2
    assert body["oldest_waiting_at"] is not None
