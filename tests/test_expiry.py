"""Time limits: never send after `expires_at`, never before `send_at`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications import queue
from notifications.delivery import deliver_next
from notifications.dispatcher import dispatch_once, expire_due, release_due
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from tests.builders import feishu_channel_for, in_state, notify
from tests.fakes.feishu import FakeFeishu


@pytest.fixture
def channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return feishu_channel_for(fake_feishu)


def minutes(n: float) -> timezone.timedelta:
    return timezone.timedelta(minutes=n)


@pytest.mark.parametrize("status", [Status.PENDING, Status.QUEUED, Status.RETRYING])
def test_the_dispatcher_expires_waiting_notifications_past_their_expiry(
    channel: Channel, fake_feishu: FakeFeishu, status: str
) -> None:
    now = timezone.now()
    notification = in_state(
        channel,
        status,
        send_at=now - minutes(10),
        queued_at=now - minutes(10),
        next_attempt_at=now - minutes(1),
        expires_at=now - minutes(1),
    )

    assert dispatch_once(now)["expired"] == 1
    assert deliver_next() is None

    notification.refresh_from_db()
    assert notification.status == Status.EXPIRED
    change = notification.status_changes.get()
    assert (change.transition, change.actor) == ("expire", "dispatcher")
    assert fake_feishu.requests == []


def test_a_notification_is_not_expired_before_its_expiry(channel: Channel) -> None:
    expires = timezone.now() + minutes(30)
    notification = notify(channel, expires_at=expires)

    assert expire_due(expires - timezone.timedelta(seconds=1)) == 0

    notification.refresh_from_db()
    assert notification.status == Status.QUEUED


def test_a_worker_expires_a_queued_notification_instead_of_sending_it(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel, expires_at=timezone.now() + minutes(30))
    # Time passes while it waits in the queue, before the dispatcher's pass.
    Notification.objects.update(expires_at=timezone.now() - minutes(1))

    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.EXPIRED
    assert notification.attempts == 0
    assert not DeliveryAttempt.objects.exists()
    assert fake_feishu.requests == []


def test_an_expired_notification_does_not_hide_the_next_one(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    stale = notify(channel, body="stale", expires_at=timezone.now() + minutes(30))
    fresh = notify(channel, body="fresh")
    Notification.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - minutes(1)
    )

    assert deliver_next() == fresh

    assert Notification.objects.get(pk=stale.pk).status == Status.EXPIRED
    assert Notification.objects.get(pk=fresh.pk).status == Status.SENT
    assert [r.json()["content"]["text"] for r in fake_feishu.requests] == ["fresh"]


def test_a_scheduled_notification_waits_until_its_send_at(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    send_at = timezone.now() + minutes(10)
    notification = notify(channel, send_at=send_at)
    assert notification.status == Status.PENDING

    assert release_due(send_at - timezone.timedelta(seconds=1)) == 0
    assert deliver_next() is None
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert fake_feishu.requests == []


def test_the_dispatcher_releases_a_scheduled_notification_when_send_at_comes(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    send_at = timezone.now() + minutes(10)
    notification = notify(channel, send_at=send_at)
    tasks = queue.queue_size()

    assert release_due(send_at) == 1

    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
    assert notification.queued_at is not None
    assert queue.queue_size() == tasks + 1
    assert deliver_next() == notification
    assert len(fake_feishu.requests) == 1
