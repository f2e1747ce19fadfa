"""Per-channel rate limits that hold across every worker on every host."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F

from notifications.models import Channel, RateWindow


def acquire(channel: Channel, now: float | None = None) -> float | None:
    """Count one send against each of the channel's limits.

    Return None when the send may go, or the seconds to wait until the window
    that is full ends. Windows are fixed and counted with a conditional
    UPDATE, so two workers can never both take the last slot.
    """
    now = time.time() if now is None else now
    for limit in channel.rate_limits():
        start = int(now // limit.seconds) * limit.seconds
        with transaction.atomic():
            RateWindow.objects.bulk_create(
                [
                    RateWindow(
                        channel=channel, seconds=limit.seconds, window_start=start
                    )
                ],
                ignore_conflicts=True,
            )
            taken = RateWindow.objects.filter(
                channel=channel,
                seconds=limit.seconds,
                window_start=start,
                count__lt=limit.count,
            ).update(count=F("count") + 1)
        if not taken:
            return start + limit.seconds - now
    return None


def is_limited(channel: Channel, now: float | None = None) -> bool:
    """Whether a send through `channel` would have to wait right now."""
    now = time.time() if now is None else now
    for limit in channel.rate_limits():
        start = int(now // limit.seconds) * limit.seconds
        if RateWindow.objects.filter(
            channel=channel,
            seconds=limit.seconds,
            window_start=start,
            count__gte=limit.count,
        ).exists():
            return True
    return False


def forget_old_windows(now: float | None = None) -> int:
    """Delete windows that ended more than a day ago; return how many."""
    now = time.time() if now is None else now
    deleted, _ = RateWindow.objects.filter(window_start__lt=now - 2 * 86400).delete()
    return deleted
