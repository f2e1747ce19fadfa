"""The figures the admin index shows: the last 24 hours at a glance."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode

from notifications import health, stats
from notifications.admin.common import status_badge
from notifications.models import WAITING, Notification, Status


def dashboard() -> dict[str, Any]:
    """Sends by status and channel, failure rates, the oldest wait, workers.

    Built on `stats.summary()` and `health.check_workers()`, so the figures
    are those of the API and `manage.py stats`.
    """
    figures = stats.summary()
    day = figures["day"]
    changelist = reverse("admin:notifications_notification_changelist")
    by_status = [
        {
            "badge": status_badge(status),
            "count": day["by_status"].get(status, 0),
            "url": changelist + "?" + urlencode({"status__exact": status}),
        }
        for status in Status.values
    ]
    channels = []
    for slug, counts in sorted(day["by_channel"].items()):
        waiting = sum(counts.get(s, 0) for s in (*WAITING, Status.SENDING))
        channels.append(
            {
                "slug": slug,
                "total": sum(counts.values()),
                "sent": counts.get(Status.SENT, 0),
                "failed": counts.get(Status.FAILED, 0),
                "waiting": waiting,
                "failure_rate": day["failure_rate"].get(slug, 0.0),
            }
        )
    oldest = figures["oldest_waiting_at"]
    oldest_pk = (
        Notification.objects.filter(status__in=WAITING)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
        .first()
        if oldest
        else None
    )
    return {
        "total": day["total"],
        "by_status": by_status,
        "channels": channels,
        "latency": day["latency_seconds"],
        "oldest_waiting_at": parse_datetime(oldest) if oldest else None,
        "oldest_url": (
            reverse("admin:notifications_notification_change", args=[oldest_pk])
            if oldest_pk
            else ""
        ),
        "workers_alive": health.check_workers(),
    }
