"""Per-channel rate limits, counted in the database for every worker at once."""

from __future__ import annotations

import importlib
import random
import threading

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from notifications import ratelimit
from notifications.models import Channel, RateWindow
from tests.builders import idle_channel

# A fixed clock: a multiple of 3600 (so of 60 and 1) seconds.
NOW = 1_699_999_200.0


def limited(slug: str, limits: list[dict[str, int]]) -> Channel:
    channel = idle_channel(slug)
    channel.rate_limit = limits
    channel.full_clean()
    channel.save()
    return channel


def assert_wait(wait: float | None, at_least: float, count: int, seconds: int) -> None:
    """A refusal: the time until a slot frees, plus at most the jitter."""
    assert wait is not None
    jitter = min(seconds / count, ratelimit.MAX_JITTER) + ratelimit.MINUTE_EDGE
    assert at_least - 1e-6 <= wait <= at_least + jitter + 1e-6


def counts() -> list[tuple[int, int, float, int]]:
    return sorted(
        RateWindow.objects.values_list("channel", "seconds", "window_start", "count")
    )


def test_a_limit_allows_its_count_then_says_how_long_to_wait(db: None) -> None:
    channel = limited("three-a-minute", [{"count": 3, "seconds": 60}])

    allowed = [ratelimit.acquire(channel, NOW + 15) for _ in range(3)]
    refused = ratelimit.acquire(channel, NOW + 15)

    assert allowed == [None, None, None]
    # Sends are counted until a window after the end of their slice, a
    # sixtieth of the window (here the second from 15 to 16).
    assert_wait(refused, 61.0, 3, 60)
    assert ratelimit.is_limited(channel, NOW + 75.9)
    assert not ratelimit.is_limited(channel, NOW + 76)


def test_a_slot_frees_one_window_after_its_send(db: None) -> None:
    channel = limited("one-a-minute", [{"count": 1, "seconds": 60}])
    assert ratelimit.acquire(channel, NOW) is None
    assert_wait(ratelimit.acquire(channel, NOW + 59.5), 1.5, 1, 60)

    assert ratelimit.is_limited(channel, NOW + 60.9)
    assert not ratelimit.is_limited(channel, NOW + 61)
    assert ratelimit.acquire(channel, NOW + 61) is None


def test_a_window_boundary_allows_no_second_burst(db: None) -> None:
    # DingTalk and WeCom allow 20 a minute, and DingTalk throttles a bot for
    # ten minutes that goes over.
    channel = limited("twenty-a-minute", [{"count": 20, "seconds": 60}])

    burst = [ratelimit.acquire(channel, NOW + 59.9) for _ in range(20)]

    assert burst == [None] * 20
    assert_wait(ratelimit.acquire(channel, NOW + 60.0), 60.0, 20, 60)
    assert ratelimit.is_limited(channel, NOW + 119.9)
    assert ratelimit.acquire(channel, NOW + 120) is None


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_no_interval_of_a_limits_length_holds_more_than_its_count(
    db: None,
) -> None:
    # Feishu's defaults, 5 a second and 100 a minute, against senders
    # arriving at random moments for three minutes.
    channel = idle_channel()
    arrivals = random.Random(11232)
    moments = sorted(NOW + arrivals.uniform(0, 180) for _ in range(1200))

    sent = [t for t in moments if ratelimit.acquire(channel, t) is None]

    for limit in channel.rate_limits():
        for first, last in zip(sent, sent[limit.count :], strict=False):
            assert last - first >= limit.seconds
    # Erring on the safe side costs at most a slice (1/60) of each window.
    assert len(sent) >= 290


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_every_limit_of_a_channel_holds(db: None) -> None:
    channel = idle_channel()

    per_second = [ratelimit.acquire(channel, NOW + 0.25) for _ in range(6)]
    assert per_second[:5] == [None] * 5
    assert_wait(per_second[5], 1 + 1 / 60, 5, 1)

    sent = 5
    for half_second in range(1, 120):
        for _ in range(5):
            if ratelimit.acquire(channel, NOW + 0.25 + half_second / 2) is None:
                sent += 1
    assert sent == 100


def test_limits_are_per_channel(db: None) -> None:
    first = limited("first", [{"count": 1, "seconds": 60}])
    second = limited("second", [{"count": 1, "seconds": 60}])

    assert ratelimit.acquire(first, NOW) is None
    assert ratelimit.acquire(second, NOW) is None
    assert ratelimit.acquire(first, NOW) is not None


def test_a_channel_without_limits_is_never_limited(db: None) -> None:
    channel = limited("unlimited", [])

    assert [ratelimit.acquire(channel, NOW) for _ in range(50)] == [None] * 50
    assert not ratelimit.is_limited(channel, NOW)
    assert counts() == []


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_an_operators_limit_applies_on_top_of_the_providers(db: None) -> None:
    # Feishu allows 5 a second; the operator allows 8 a minute. Both hold.
    channel = limited("operator-limited", [{"count": 8, "seconds": 60}])

    first_second = [ratelimit.acquire(channel, NOW) for _ in range(6)]
    later = [ratelimit.acquire(channel, NOW + 1.5) for _ in range(4)]

    assert first_second[:5] == [None] * 5
    assert_wait(first_second[5], 1 + 1 / 60, 5, 1)
    assert later[:3] == [None] * 3
    assert_wait(later[3], 59.5, 8, 60)


def test_a_refused_send_takes_no_slot_from_any_limit(db: None) -> None:
    channel = limited(
        "two-limits", [{"count": 3, "seconds": 10}, {"count": 4, "seconds": 20}]
    )
    assert [ratelimit.acquire(channel, NOW) for _ in range(3)] == [None] * 3
    assert ratelimit.acquire(channel, NOW + 11) is None
    before = counts()

    # The 20-second limit is full; the 10-second one has two slots left.
    refused = [ratelimit.acquire(channel, NOW + 15) for _ in range(5)]

    assert all(wait is not None for wait in refused)
    assert counts() == before
    # Once the first three sends leave the 20-second window, the 10-second
    # window still has the room it had: two more sends, not none.
    later = [ratelimit.acquire(channel, NOW + 21) for _ in range(3)]
    assert later[:2] == [None, None]
    assert_wait(later[2], 11 + 1 / 6 + 10 - 21, 3, 10)


def test_the_longest_wait_of_the_refusing_limits_is_returned(db: None) -> None:
    channel = limited(
        "short-and-long", [{"count": 1, "seconds": 10}, {"count": 2, "seconds": 60}]
    )
    assert ratelimit.acquire(channel, NOW) is None
    assert ratelimit.acquire(channel, NOW + 10.5) is None

    wait = ratelimit.acquire(channel, NOW + 11)

    # The 10-second limit frees at 20.67, the minute's at 61: wait for both.
    assert_wait(wait, 50.0, 2, 60)


def test_senders_refused_together_come_back_spread_out(db: None) -> None:
    channel = limited("herd", [{"count": 20, "seconds": 60}])
    for _ in range(20):
        assert ratelimit.acquire(channel, NOW + 30) is None

    waits = [ratelimit.acquire(channel, NOW + 31) for _ in range(200)]

    for wait in waits:
        assert_wait(wait, 60.0, 20, 60)
    assert len(set(waits)) > 190
    assert max(waits) - min(waits) > 1.5  # of the 3 s between two sends


def test_deferred_sends_do_not_return_at_the_top_of_a_minute(db: None) -> None:
    channel = limited("top-of-the-minute", [{"count": 20, "seconds": 60}])
    for _ in range(20):
        assert ratelimit.acquire(channel, NOW + 59.5) is None

    # Their slot frees at exactly NOW + 120, a whole minute.
    waits = [ratelimit.acquire(channel, NOW + 60) for _ in range(200)]

    for wait in waits:
        assert_wait(wait, 60.0, 20, 60)
        assert (NOW + 60 + wait) % 60 >= ratelimit.MINUTE_EDGE


def test_a_small_count_over_a_long_window_is_not_jittered_for_long(
    db: None,
) -> None:
    channel = limited("one-a-day", [{"count": 1, "seconds": 86400}])
    assert ratelimit.acquire(channel, NOW) is None

    waits = [ratelimit.acquire(channel, NOW + 10) for _ in range(20)]

    # The send counts until the end of its slice (24 minutes) plus a day;
    # the jitter adds at most a minute, not a day.
    for wait in waits:
        assert_wait(wait, 86400 + 1440 - 10, 1, 86400)


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_of_two_limits_over_the_same_time_the_lower_count_holds(db: None) -> None:
    # Feishu allows 100 a minute; the operator's 3 a minute is the one in force,
    # and it is counted once, not once for each limit.
    channel = limited("same-window", [{"count": 3, "seconds": 60}])

    assert [(lim.count, lim.seconds) for lim in channel.rate_limits()] == [
        (5, 1),
        (3, 60),
    ]
    results = [ratelimit.acquire(channel, NOW + second) for second in range(4)]
    assert results[:3] == [None] * 3
    assert_wait(results[3], 58.0, 3, 60)


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_the_providers_documented_limits_apply_by_default(db: None) -> None:
    channel = limited("defaults", [])

    assert [(lim.count, lim.seconds) for lim in channel.rate_limits()] == [
        (5, 1),
        (100, 60),
    ]
    results = [ratelimit.acquire(channel, NOW) for _ in range(6)]
    assert results[:5] == [None] * 5
    assert_wait(results[5], 1 + 1 / 60, 5, 1)


@override_settings(ORION_PROVIDER_RATE_LIMITS=False)
def test_without_provider_limits_only_the_operators_apply(db: None) -> None:
    channel = limited("relay", [{"count": 2, "seconds": 60}])

    assert [(lim.count, lim.seconds) for lim in channel.rate_limits()] == [(2, 60)]


def test_a_malformed_operator_limit_is_refused(db: None) -> None:
    channel = idle_channel()
    channel.rate_limit = [{"count": 0, "seconds": 60}]

    with pytest.raises(ValidationError) as caught:
        channel.full_clean()

    assert "rate_limit" in caught.value.message_dict


def test_slices_are_forgotten_once_they_no_longer_count(db: None) -> None:
    channel = limited(
        "forgetful", [{"count": 5, "seconds": 1}, {"count": 5, "seconds": 60}]
    )
    assert ratelimit.acquire(channel, NOW) is None

    assert ratelimit.forget_old_windows(NOW + 1) == 0
    assert ratelimit.forget_old_windows(NOW + 1 + 1 / 60) == 1
    assert ratelimit.forget_old_windows(NOW + 60.9) == 0
    assert ratelimit.forget_old_windows(NOW + 61) == 1
    assert counts() == []


def test_a_fixed_window_from_before_the_migration_counts_to_its_end(
    db: None,
) -> None:
    migration = importlib.import_module("notifications.migrations.0004_rate_limiter")
    channel = limited("migrated", [{"count": 3, "seconds": 60}])
    RateWindow.objects.create(channel=channel, seconds=60, window_start=NOW, count=3)

    migration.fixed_windows_to_slices(apps, None)

    # Its sends may have come as late as NOW + 59.99.
    assert ratelimit.is_limited(channel, NOW + 119.9)
    assert ratelimit.acquire(channel, NOW + 120) is None


@pytest.mark.parametrize(
    ("limits", "allowed", "wait"),
    [
        # A slice of an hour is a minute: the sends count until 3660.
        ([{"count": 5, "seconds": 3600}], 5, 3650.0),
        ([{"count": 3, "seconds": 1}, {"count": 5, "seconds": 60}], 3, 1 + 1 / 60),
    ],
)
def test_threads_racing_for_the_last_slots_take_exactly_that_many(
    transactional_db: None, limits: list[dict[str, int]], allowed: int, wait: float
) -> None:
    channel = limited("racing", limits)
    workers = 12
    barrier = threading.Barrier(workers)
    results: list[float | None] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            barrier.wait()
            results.append(ratelimit.acquire(channel, NOW + 10))
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == workers
    assert results.count(None) == allowed
    refusing = limits[0]
    for result in results:
        if result is not None:
            assert_wait(result, wait, refusing["count"], refusing["seconds"])
    # Every limit counted the sends that went, and only those.
    for limit in channel.rate_limits():
        rows = RateWindow.objects.filter(channel=channel, seconds=limit.seconds)
        assert sum(rows.values_list("count", flat=True)) == allowed
