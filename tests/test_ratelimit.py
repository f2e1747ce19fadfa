"""Per-channel rate limits, counted in the database for every worker at once."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from notifications import ratelimit
from notifications.models import Channel
from tests.builders import idle_channel

# A fixed clock: window arithmetic is exact and no test straddles a window.
NOW = 1_699_999_200.0  # a multiple of 3600 (so of 60 and 1) seconds


def limited(slug: str, limits: list[dict[str, int]]) -> Channel:
    channel = idle_channel(slug)
    channel.rate_limit = limits
    channel.full_clean()
    channel.save()
    return channel


def test_a_limit_allows_its_count_per_window_then_says_how_long_to_wait(
    db: None,
) -> None:
    channel = limited("three-a-minute", [{"count": 3, "seconds": 60}])

    allowed = [ratelimit.acquire(channel, NOW + 15) for _ in range(3)]
    refused = ratelimit.acquire(channel, NOW + 15)

    assert allowed == [None, None, None]
    assert refused == pytest.approx(45.0)
    assert ratelimit.is_limited(channel, NOW + 59)


def test_the_next_window_starts_afresh(db: None) -> None:
    channel = limited("one-a-minute", [{"count": 1, "seconds": 60}])
    assert ratelimit.acquire(channel, NOW) is None
    assert ratelimit.acquire(channel, NOW + 59.5) == pytest.approx(0.5)

    assert not ratelimit.is_limited(channel, NOW + 60)
    assert ratelimit.acquire(channel, NOW + 60) is None


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_every_limit_of_a_channel_holds(db: None) -> None:
    # Feishu's defaults: 5 a second and 100 a minute.
    channel = idle_channel()

    per_second = [ratelimit.acquire(channel, NOW + 0.25) for _ in range(6)]
    assert per_second[:5] == [None] * 5
    assert per_second[5] == pytest.approx(0.75)

    sent = 5
    for second in range(1, 60):
        for _ in range(5):
            if ratelimit.acquire(channel, NOW + second) is None:
                sent += 1
    assert sent == 100


def test_limits_are_per_channel(db: None) -> None:
    first = limited("first", [{"count": 1, "seconds": 60}])
    second = limited("second", [{"count": 1, "seconds": 60}])

    assert ratelimit.acquire(first, NOW) is None
    assert ratelimit.acquire(second, NOW) is None
    assert ratelimit.acquire(first, NOW) is not None


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_an_operators_limit_applies_on_top_of_the_providers(db: None) -> None:
    # Feishu allows 5 a second; the operator allows 8 a minute. Both hold.
    channel = limited("operator-limited", [{"count": 8, "seconds": 60}])

    first_second = [ratelimit.acquire(channel, NOW) for _ in range(6)]
    next_second = [ratelimit.acquire(channel, NOW + 1) for _ in range(4)]

    assert first_second[:5] == [None] * 5
    assert first_second[5] == pytest.approx(1.0)
    assert next_second[:3] == [None] * 3
    assert next_second[3] == pytest.approx(59.0)


def test_a_malformed_operator_limit_is_refused(db: None) -> None:
    channel = idle_channel()
    channel.rate_limit = [{"count": 0, "seconds": 60}]

    with pytest.raises(ValidationError) as caught:
        channel.full_clean()

    assert "rate_limit" in caught.value.message_dict


def test_threads_racing_for_the_last_slots_take_exactly_that_many(
    transactional_db: None,
) -> None:
    channel = limited("five-an-hour", [{"count": 5, "seconds": 3600}])
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
    assert results.count(None) == 5
    assert sorted(r for r in results if r is not None) == [pytest.approx(3590.0)] * 7


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
    assert results[3] == pytest.approx(57.0)


@override_settings(ORION_PROVIDER_RATE_LIMITS=True)
def test_the_providers_documented_limits_apply_by_default(db: None) -> None:
    channel = limited("defaults", [])

    assert [(lim.count, lim.seconds) for lim in channel.rate_limits()] == [
        (5, 1),
        (100, 60),
    ]
    results = [ratelimit.acquire(channel, NOW) for _ in range(6)]
    assert results[:5] == [None] * 5
    assert results[5] == pytest.approx(1.0)


@override_settings(ORION_PROVIDER_RATE_LIMITS=False)
def test_without_provider_limits_only_the_operators_apply(db: None) -> None:
    channel = limited("relay", [{"count": 2, "seconds": 60}])

    assert [(lim.count, lim.seconds) for lim in channel.rate_limits()] == [(2, 60)]
