"""Delivery stays safe when a worker, a channel or the broker misbehaves."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings
from django.utils import timezone

from notifications import delivery, queue, ratelimit, services
from notifications.dispatcher import recover_lost, requeue_due
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from tests.builders import feishu_channel_for, notify
from tests.fakes.feishu import FakeFeishu


@pytest.fixture
def channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return feishu_channel_for(fake_feishu)


def test_a_notification_of_an_unknown_kind_fails_without_blocking_the_queue(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    stranded = notify(channel, body="on a kind this worker lacks", priority="urgent")
    other = feishu_channel_for(fake_feishu, slug="other")
    fine = notify(other, body="behind it")
    Channel.objects.filter(pk=channel.pk).update(kind="carrier_pigeon")

    delivery.deliver_next()
    delivery.deliver_next()

    stranded.refresh_from_db()
    fine.refresh_from_db()
    assert stranded.status == Status.FAILED
    assert "carrier_pigeon" in stranded.last_error
    assert fine.status == Status.SENT
    assert [r.json()["content"]["text"] for r in fake_feishu.requests] == ["behind it"]


def test_secrets_that_no_longer_decrypt_fail_only_their_own_channel(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    broken = notify(channel, priority="urgent")
    other = feishu_channel_for(fake_feishu, slug="other")
    fine = notify(other, body="still goes")
    # Secrets written under another key, as after a careless key rotation.
    with override_settings(ORION_SECRETS_KEY="another-key"):
        Channel.objects.filter(pk=channel.pk).update(secrets={"webhook_url": "x"})

    delivery.deliver_next()
    delivery.deliver_next()

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == Status.FAILED
    assert "ORION_SECRETS_KEY" in broken.last_error
    assert fine.status == Status.SENT


def test_a_worker_that_outlived_its_lease_does_not_overwrite_the_next_claim(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    slow = delivery.claim_next("slow worker")
    later = slow.lease_expires_at + timezone.timedelta(seconds=1)
    recover_lost(later)
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=later)
    requeue_due(later)
    fast = delivery.claim_next("fast worker")

    delivery.send(slow, "slow worker")
    notification.refresh_from_db()
    assert notification.status == Status.SENDING
    assert notification.attempts == 2

    delivery.send(fast, "fast worker")
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    outcomes = list(
        DeliveryAttempt.objects.filter(notification=notification)
        .order_by("id")
        .values_list("number", "outcome")
    )
    assert outcomes == [(1, "unknown"), (1, "sent"), (2, "sent")]


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_does_not_fail_the_creation(
    channel: Channel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broker_down(count: int = 1) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(queue, "enqueue", broker_down)

    notification = services.create_notification(
        services.NotificationSpec(channel=channel, body="saved anyway")
    )

    assert Notification.objects.filter(pk=notification.pk, status="queued").exists()
    assert "dispatcher will re-enqueue" in caplog.text


def test_a_failing_rate_limit_check_hands_the_notification_back(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    notification = notify(channel)

    def limiter_down(channel: Channel, now: float | None = None) -> None:
        raise RuntimeError("limiter unavailable")

    monkeypatch.setattr(ratelimit, "acquire", limiter_down)
    delivery.deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    assert notification.attempts == 0
    assert not DeliveryAttempt.objects.exists()


def test_backoff_after_an_operator_retry_starts_again_from_the_first_attempt(
    channel: Channel,
) -> None:
    notification = notify(channel)
    Notification.objects.filter(pk=notification.pk).update(attempts=8, max_attempts=8)
    notification.refresh_from_db()
    notification.claim()
    notification.save()
    notification.fail(reason="gave up")
    notification.save()

    services.retry(notification)
    claimed = delivery.claim_next()

    assert claimed.attempts == 10
    assert claimed.attempt_in_round == 1


@override_settings(ORION_LEASE_SECONDS=60, ORION_SEND_TIMEOUT=60)
def test_a_lease_shorter_than_the_send_timeout_is_a_configuration_error() -> None:
    ids = {message.id for message in checks.run_checks()}

    assert "notifications.E006" in ids
