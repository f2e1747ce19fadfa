"""Per-channel sliding-window rate limits that hold across every worker and host.

Each limit (`count` sends per `seconds`) is counted in RateWindow rows, one
per slice of 1/SLICES of its window that saw a send: `window_start` is the
slice's start and `count` the sends in it. A send is taken to have happened
at the end of its slice, so it stays counted until that end plus `seconds`.
This errs on the safe side only: no interval of `seconds` ever holds more
than `count` sends (a provider such as DingTalk throttles a bot for ten
minutes when it does), and a slot frees at most one slice late (1/60 of the
window, a second of a minute). In exchange a limit never has more than
min(count, SLICES + 1) rows in its window, however large its count; an exact
log of send times would keep and read `count` rows per send (thousands for a
daily limit).

Every limit of a channel is checked before any is counted, in one
transaction that holds the channel's row lock on PostgreSQL; SQLite's
IMMEDIATE transactions already serialise writers. The lock is the channel's
row, not the slices': before the first send in a new slice there is no slice
row that two workers could both lock.

The limiter trusts the hosts' clocks: keep them synchronised (NTP), since a
host whose clock runs behind by D seconds may see a window D seconds short.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F, Q

from adapters.base import RateLimit
from notifications.models import Channel, RateWindow

# Each window is counted in this many slices: more slices free slots closer
# to exact time, at the cost of up to one row per slice in the window.
SLICES = 60
# Scheduled jobs everywhere fire on the minute (Feishu warns that the hour
# and the half hour risk 11232), so deferred sends avoid returning in the
# first seconds of any minute.
MINUTE_EDGE = 2.0
# A refused send returns up to one emission interval (seconds / count) late,
# so a herd comes back spread out at about the pace slots free up; a long
# limit with a small count (one a day) must not hold a send back for a day.
MAX_JITTER = 60.0

Slices = dict[int, list[tuple[float, int]]]


def acquire(channel: Channel, now: float | None = None) -> float | None:
    """Count one send against every limit of `channel`, or against none.

    Return None when the send may go now. Otherwise count nothing and return
    the seconds to wait: until the refusing limit that frees last has room,
    plus a jitter of up to one of its emission intervals (`seconds / count`,
    at most MAX_JITTER), so that senders refused together do not all come
    back together, and never in the first MINUTE_EDGE seconds of a minute.
    """
    now = time.time() if now is None else now
    limits = channel.rate_limits()
    if not limits:
        return None

    # Hot path, whatever the number of limits: one transaction with (on
    # PostgreSQL) a SELECT FOR NO KEY UPDATE of the channel's row, one SELECT
    # of the slices in the windows (an index range of the unique constraint
    # per limit, at most min(count, SLICES + 1) rows each) and one upsert of
    # the current slices. A refusal stops after the second statement.
    with transaction.atomic():
        _lock(channel)
        slices = _slices_in_windows(channel, limits, now)
        refusals = [
            (wait, limit)
            for limit in limits
            if (wait := _wait(limit, slices[limit.seconds], now)) is not None
        ]
        if refusals:
            wait, limit = max(refusals, key=lambda refusal: refusal[0])
            return _jittered(wait, limit, now)
        _count_send(channel, limits, slices, now)
    return None


def is_limited(channel: Channel, now: float | None = None) -> bool:
    """Whether a send through `channel` would have to wait right now."""
    now = time.time() if now is None else now
    limits = channel.rate_limits()
    if not limits:
        return False

    slices = _slices_in_windows(channel, limits, now)
    return any(_wait(limit, slices[limit.seconds], now) is not None for limit in limits)


def forget_old_windows(now: float | None = None) -> int:
    """Delete the slices that no longer count against any limit; return how many.

    A slice counts until `seconds` after its end, for whatever limit its
    channel has now, so this holds even for limits an operator removed.
    """
    now = time.time() if now is None else now
    deleted, _ = RateWindow.objects.filter(
        window_start__lte=now - F("seconds") * (1.0 + 1.0 / SLICES)
    ).delete()
    return deleted


def _lock(channel: Channel) -> None:
    if not connection.features.has_select_for_update:
        return  # SQLite: the IMMEDIATE transaction already holds the write lock
    # NO KEY UPDATE still lets other transactions insert rows that refer to
    # the channel (notifications, these slices) while the limiter holds it.
    rows = (
        Channel.objects.select_for_update(
            no_key=connection.features.has_select_for_no_key_update
        )
        .filter(pk=channel.pk)
        .order_by()
    )
    list(rows.values_list("pk", flat=True))


def _slices_in_windows(
    channel: Channel, limits: tuple[RateLimit, ...], now: float
) -> Slices:
    """The (start, count) of each slice still counted, by window length."""
    counted = Q()
    for limit in limits:
        counted |= Q(
            channel=channel,
            seconds=limit.seconds,
            window_start__gt=now - limit.seconds - _slice_length(limit.seconds),
        )
    slices: Slices = defaultdict(list)
    rows = RateWindow.objects.filter(counted).values_list(
        "seconds", "window_start", "count"
    )
    for seconds, start, count in rows:
        slices[seconds].append((start, count))
    return slices


def _wait(
    limit: RateLimit, slices: list[tuple[float, int]], now: float
) -> float | None:
    """Seconds until `limit` has room for one more send; None if it has now."""
    excess = sum(count for _, count in slices) - limit.count + 1
    if excess <= 0:
        return None
    # The oldest slices leave the window first.
    for start, count in sorted(slices):
        excess -= count
        if excess <= 0:
            return start + _slice_length(limit.seconds) + limit.seconds - now
    raise AssertionError("the slices outnumber the limit but none frees it")


def _jittered(wait: float, limit: RateLimit, now: float) -> float:
    jitter = min(limit.seconds / limit.count, MAX_JITTER)
    resume = now + wait + random.uniform(0.0, jitter)
    into_minute = resume % 60
    if into_minute < MINUTE_EDGE:
        resume += MINUTE_EDGE
    return resume - now


def _count_send(
    channel: Channel, limits: tuple[RateLimit, ...], slices: Slices, now: float
) -> None:
    # The channel's row is locked, so the counts just read are still current
    # and the upsert can write the new count rather than add one.
    rows = []
    for limit in limits:
        start = _slice_start(limit.seconds, now)
        counts = dict(slices[limit.seconds])
        rows.append(
            RateWindow(
                channel=channel,
                seconds=limit.seconds,
                window_start=start,
                count=counts.get(start, 0) + 1,
            )
        )
    RateWindow.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["channel", "seconds", "window_start"],
        update_fields=["count"],
    )


def _slice_length(seconds: int) -> float:
    return seconds / SLICES


def _slice_start(seconds: int, now: float) -> float:
    """The start of the slice that holds `now`, the same on every host."""
    index = math.floor(now * SLICES / seconds)
    # Rounding may put `now` a hair past the slice's end; never count a send
    # in a slice that ends before it, or it would leave the window early.
    while (index + 1) * seconds / SLICES <= now:
        index += 1
    return index * seconds / SLICES
