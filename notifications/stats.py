"""Delivery figures shared by the API, the admin dashboard and `manage.py stats`."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, F, Min
from django.utils import timezone

from notifications.models import WAITING, Notification, Status

WINDOWS = {"hour": datetime.timedelta(hours=1), "day": datetime.timedelta(days=1)}


def _counts(queryset: Any, field: str) -> dict[str, int]:
    rows = queryset.values(field).annotate(n=Count("id")).order_by(field)
    return {str(row[field]): row["n"] for row in rows}


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(
        len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1)))
    )
    return sorted_values[index]


def latency(since: datetime.datetime, limit: int = 50_000) -> dict[str, float | None]:
    """Median and 95th percentile seconds from creation to sent.

    Computed in Python over at most `limit` of the newest sends: portable
    across SQLite and PostgreSQL, and bounded in cost.
    """
    rows = (
        Notification.objects.filter(status=Status.SENT, sent_at__gte=since)
        .order_by("-sent_at")
        .values_list("created_at", "sent_at")[:limit]
    )
    values = sorted((sent - created).total_seconds() for created, sent in rows)
    return {
        "p50": _percentile(values, 0.5),
        "p95": _percentile(values, 0.95),
        "count": len(values),
    }


def window_summary(since: datetime.datetime) -> dict[str, Any]:
    recent = Notification.objects.filter(created_at__gte=since)
    by_channel = recent.values("channel__slug", "status").annotate(n=Count("id"))
    channels: dict[str, dict[str, int]] = {}
    for row in by_channel:
        channels.setdefault(row["channel__slug"], {})[row["status"]] = row["n"]
    return {
        "total": recent.count(),
        "by_status": _counts(recent, "status"),
        "by_priority": _counts(recent, "priority"),
        "by_channel": channels,
        "failure_rate": {
            slug: round(
                c.get(Status.FAILED, 0)
                / max(1, c.get(Status.SENT, 0) + c.get(Status.FAILED, 0)),
                4,
            )
            for slug, c in channels.items()
        },
        "latency_seconds": latency(since),
    }


def summary(now: datetime.datetime | None = None) -> dict[str, Any]:
    """Counts by status, channel and priority over the last hour and day,
    delivery latency, and the oldest notification still waiting."""
    now = now or timezone.now()
    oldest = Notification.objects.filter(status__in=WAITING).aggregate(
        oldest=Min(F("created_at"))
    )["oldest"]
    result: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "oldest_waiting_at": oldest.isoformat() if oldest else None,
    }
    for name, span in WINDOWS.items():
        result[name] = window_summary(now - span)
    return result
