"""Retries: capped exponential backoff with full jitter, and when to give up."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.delivery import backoff, deliver_next
from notifications.models import (
    Channel,
    DeliveryAttempt,
    Notification,
    RateWindow,
    Status,
)
from tests.builders import feishu_channel_for, notify
from tests.fakes.base import Reply
from tests.fakes.feishu import CODES, FakeFeishu, feishu_error

SAMPLES = 2000


@pytest.fixture(autouse=True)
def seeded() -> Iterator[None]:
    # Reproducible runs; every bound below also holds for any seed with
    # overwhelming probability (e.g. 0.9 ** 2000 for "no sample near the top").
    state = random.getstate()
    random.seed(20240611)
    yield
    random.setstate(state)


def samples(attempt: int, retry_after: float | None = None) -> list[float]:
    return [backoff(attempt, retry_after) for _ in range(SAMPLES)]


@override_settings(ORION_RETRY_BASE_SECONDS=2.0, ORION_RETRY_MAX_SECONDS=3600.0)
@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8])
def test_backoff_spreads_over_the_whole_exponential_window(attempt: int) -> None:
    top = 2.0 * 2 ** (attempt - 1)
    delays = samples(attempt)

    assert all(1.0 <= d <= top for d in delays)
    assert max(delays) > 0.9 * top
    # Full jitter: the delays spread over the window instead of bunching.
    if top >= 8:
        assert min(delays) < 0.2 * top
        assert 0.4 * top < sum(delays) / len(delays) < 0.6 * top


@override_settings(ORION_RETRY_BASE_SECONDS=2.0, ORION_RETRY_MAX_SECONDS=3600.0)
def test_backoff_grows_exponentially_with_the_attempt() -> None:
    longest = [max(samples(attempt)) for attempt in range(1, 9)]

    for shorter, longer in zip(longest, longest[1:], strict=False):
        assert longer > 1.6 * shorter


@override_settings(ORION_RETRY_BASE_SECONDS=5.0, ORION_RETRY_MAX_SECONDS=60.0)
def test_backoff_is_capped_by_the_retry_max_setting() -> None:
    delays = samples(12)

    assert all(1.0 <= d <= 60.0 for d in delays)
    assert max(delays) > 54.0


@override_settings(ORION_RETRY_BASE_SECONDS=5.0, ORION_RETRY_MAX_SECONDS=60.0)
def test_backoff_stays_capped_after_a_very_long_history_of_attempts() -> None:
    # Operator retries add attempts without bound; 2 ** 1100 overflows a float.
    assert all(1.0 <= d <= 60.0 for d in samples(1100)[:50])


@override_settings(ORION_RETRY_BASE_SECONDS=0.001, ORION_RETRY_MAX_SECONDS=3600.0)
def test_backoff_waits_at_least_one_second() -> None:
    assert min(samples(1)) == 1.0


@override_settings(ORION_RETRY_BASE_SECONDS=1.0, ORION_RETRY_MAX_SECONDS=3600.0)
def test_backoff_honours_the_providers_retry_after_as_a_floor() -> None:
    assert min(samples(1, retry_after=30)) >= 30
    # Later attempts still jitter above the floor.
    assert max(samples(8, retry_after=30)) > 100


# -- through the pipeline ---------------------------------------------------


@pytest.fixture
def channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return feishu_channel_for(fake_feishu)


@override_settings(ORION_RETRY_BASE_SECONDS=60.0, ORION_RETRY_MAX_SECONDS=3600.0)
def test_a_transient_failure_schedules_a_retry_within_the_backoff_window(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    fake_feishu.fail_next(Reply(503, "upstream unavailable"))

    before = timezone.now()
    deliver_next()
    after = timezone.now()

    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    assert notification.attempts == 1
    assert notification.lease_expires_at is None
    assert "503" in notification.last_error
    assert before + timezone.timedelta(seconds=1) <= notification.next_attempt_at
    assert notification.next_attempt_at <= after + timezone.timedelta(seconds=60)
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.number, attempt.outcome, attempt.status_code) == (
        1,
        "transient",
        503,
    )


@override_settings(ORION_RETRY_BASE_SECONDS=1.0, ORION_RETRY_MAX_SECONDS=3600.0)
def test_a_rate_limited_send_waits_at_least_as_long_as_feishu_asks(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    fake_feishu.fail_next(feishu_error(11232, CODES[11232]))

    before = timezone.now()
    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    # The adapter asks for 10 s on 11232; the jitter alone would be <= 1 s.
    assert notification.next_attempt_at >= before + timezone.timedelta(seconds=10)


def test_it_gives_up_after_the_attempt_limit(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    limit = notification.max_attempts
    fake_feishu.fail_next(Reply(502, "bad gateway"), times=limit)

    for attempt in range(1, limit + 1):
        deliver_next()
        notification.refresh_from_db()
        assert notification.attempts == attempt
        if attempt < limit:
            assert notification.status == Status.RETRYING
            notification.requeue(actor="test", reason="Retry due.")
            notification.save()

    assert notification.status == Status.FAILED
    assert notification.last_error.startswith(f"Gave up after {limit} attempts")
    assert len(fake_feishu.requests) == limit
    assert DeliveryAttempt.objects.filter(notification=notification).count() == limit


def test_a_permanent_error_fails_at_once(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    fake_feishu.fail_next(feishu_error(19022, CODES[19022]))

    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == 1
    assert notification.next_attempt_at is None
    assert "IP" in notification.last_error
    assert len(fake_feishu.requests) == 1


def channel_with_its_daily_limit_spent(fake: FakeFeishu) -> Channel:
    """A channel allowed one send a day that has sent it, today and tomorrow."""
    channel = feishu_channel_for(fake, rate_limit=[{"count": 1, "seconds": 86400}])
    # Fill this day's window and the next, so the test holds at midnight too.
    today = int(timezone.now().timestamp() // 86400) * 86400
    for start in (today, today + 86400):
        RateWindow.objects.create(
            channel=channel, seconds=86400, window_start=start, count=1
        )
    return channel


def test_our_own_rate_limit_defers_without_spending_an_attempt(
    db: None, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel_with_its_daily_limit_spent(fake_feishu))

    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    assert notification.attempts == 0
    assert notification.next_attempt_at > timezone.now()
    assert "rate limit" in notification.status_changes.last().reason
    assert not DeliveryAttempt.objects.filter(notification=notification).exists()
    assert fake_feishu.requests == []


def test_a_deferred_notification_keeps_its_whole_allowance(
    db: None, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel_with_its_daily_limit_spent(fake_feishu))

    for _ in range(notification.max_attempts + 2):
        deliver_next()
        notification = Notification.objects.get(pk=notification.pk)
        notification.requeue(actor="test", reason="Retry due.")
        notification.save()

    assert notification.status == Status.QUEUED
    assert notification.attempts == 0
