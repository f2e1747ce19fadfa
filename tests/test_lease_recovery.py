"""Lost workers and lost tasks: the dispatcher recovers both, and holds a lease."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection
from django.utils import timezone

import adapters
from adapters.feishu import FeishuAdapter
from notifications import queue
from notifications.delivery import UNKNOWN_NOT_RESENT, claim_next
from notifications.dispatcher import (
    LEASE_SECONDS,
    dispatch_once,
    hold_lease,
    recover_lost,
    rescue_tasks,
)
from notifications.models import (
    Channel,
    DeliveryAttempt,
    Notification,
    Outcome,
    Status,
)
from tests.builders import feishu_channel_for, notify
from tests.fakes.feishu import FakeFeishu


class NoResendAdapter(FeishuAdapter):
    """Feishu on the wire, but a duplicate is worse than a loss (like SMS)."""

    kind = "test_nosafe"
    label = "Test: never resend after an unknown outcome"
    resend_after_unknown = False


@pytest.fixture
def no_resend_kind() -> Iterator[str]:
    adapters.get_adapter("feishu")  # load the real kinds first
    adapters.register(NoResendAdapter)
    yield NoResendAdapter.kind
    adapters._registry.pop(NoResendAdapter.kind, None)


def claimed(channel: Channel) -> Notification:
    """A notification a worker claimed and then vanished with."""
    notify(channel)
    notification = claim_next("worker that dies")
    assert notification is not None and notification.status == Status.SENDING
    return notification


@pytest.fixture
def channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return feishu_channel_for(fake_feishu)


def test_a_send_whose_lease_has_not_expired_is_left_alone(channel: Channel) -> None:
    notification = claimed(channel)

    moved = recover_lost(notification.lease_expires_at - timezone.timedelta(seconds=1))

    assert moved == 0
    notification.refresh_from_db()
    assert notification.status == Status.SENDING
    assert not DeliveryAttempt.objects.exists()


def test_a_lost_chat_bot_send_is_recorded_as_unknown_and_retried(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = claimed(channel)
    later = notification.lease_expires_at + timezone.timedelta(seconds=1)

    counts = dispatch_once(later)

    assert counts["recovered"] == 1
    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    assert notification.attempts == 1
    assert notification.lease_expires_at is None
    assert notification.next_attempt_at is not None
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.number, attempt.outcome) == (1, Outcome.UNKNOWN)
    assert "stopped before recording" in attempt.error
    assert notification.status_changes.last().actor == "dispatcher"
    assert fake_feishu.requests == []


def test_a_lost_send_that_must_not_be_duplicated_fails_for_a_human_to_check(
    db: None, fake_feishu: FakeFeishu, no_resend_kind: str
) -> None:
    channel = feishu_channel_for(fake_feishu, slug="no-resend", kind=no_resend_kind)
    notification = claimed(channel)

    recover_lost(notification.lease_expires_at + timezone.timedelta(seconds=1))

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert UNKNOWN_NOT_RESENT in notification.last_error
    assert DeliveryAttempt.objects.get().outcome == Outcome.UNKNOWN
    assert fake_feishu.requests == []


def test_a_lost_send_on_its_last_attempt_fails(channel: Channel) -> None:
    notify(channel)
    Notification.objects.update(max_attempts=1)
    notification = claim_next("worker that dies")

    recover_lost(notification.lease_expires_at + timezone.timedelta(seconds=1))

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.last_error.startswith("Gave up after 1 attempts")


# -- lost broker tasks ------------------------------------------------------


def stale_queued(channel: Channel, count: int) -> None:
    for i in range(count):
        notify(channel, body=f"queued {i}")
    Notification.objects.update(queued_at=timezone.now() - timezone.timedelta(hours=1))


def test_tasks_the_broker_lost_are_enqueued_again(channel: Channel) -> None:
    stale_queued(channel, 3)
    assert queue.queue_size() == 0

    assert rescue_tasks(timezone.now()) == 3

    assert queue.queue_size() == 3
    # The tasks are back: the next pass does not double them.
    assert rescue_tasks(timezone.now()) == 0
    assert queue.queue_size() == 3


def test_only_the_missing_tasks_are_enqueued(channel: Channel) -> None:
    stale_queued(channel, 3)
    queue.enqueue(1)

    assert rescue_tasks(timezone.now()) == 2
    assert queue.queue_size() == 3


def test_no_task_is_enqueued_while_the_broker_holds_enough(channel: Channel) -> None:
    stale_queued(channel, 2)
    queue.enqueue(2)

    assert rescue_tasks(timezone.now()) == 0
    assert queue.queue_size() == 2


def test_recently_queued_notifications_are_not_rescued(channel: Channel) -> None:
    notify(channel)

    assert rescue_tasks(timezone.now()) == 0
    assert queue.queue_size() == 0


# -- the dispatcher lease ---------------------------------------------------


def test_only_one_dispatcher_holds_the_lease(db: None) -> None:
    now = timezone.now()

    assert hold_lease("host-a", now)
    assert not hold_lease("host-b", now)
    assert hold_lease("host-a", now + timezone.timedelta(seconds=LEASE_SECONDS - 1))
    assert not hold_lease("host-b", now + timezone.timedelta(seconds=LEASE_SECONDS - 1))


def test_another_dispatcher_takes_over_when_the_lease_expires(db: None) -> None:
    now = timezone.now()
    hold_lease("host-a", now)
    later = now + timezone.timedelta(seconds=LEASE_SECONDS + 1)

    assert hold_lease("host-b", later)
    assert not hold_lease("host-a", later)


def test_dispatchers_racing_for_a_free_lease_get_it_once(
    transactional_db: None,
) -> None:
    now = timezone.now()
    barrier = threading.Barrier(6)
    winners: list[str] = []

    def contend(name: str) -> None:
        try:
            barrier.wait()
            if hold_lease(name, now):
                winners.append(name)
        finally:
            connection.close()

    threads = [threading.Thread(target=contend, args=(f"host-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1
