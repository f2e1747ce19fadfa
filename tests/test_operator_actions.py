"""Cancel, retry and resend through the domain functions every caller shares."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from adapters import http
from adapters.http import HttpClient
from notifications import services
from notifications.delivery import deliver_next
from notifications.models import Batch, Channel, Notification, Outcome, Status
from tests.builders import in_state, notify
from tests.fakes.twilio import FakeTwilio
from tests.unknown_outcomes import failed_with_unknown_outcome, record_attempt, sms


def failed(channel: Channel) -> Notification:
    notification = notify(channel)
    notification.claim()
    notification.save()
    notification.fail(reason="Feishu refused the message.")
    notification.save()
    return notification


@pytest.fixture
def channel(db: None, feishu_channel: Channel) -> Channel:
    return feishu_channel


def test_retry_puts_a_failed_notification_back_in_the_queue(channel: Channel) -> None:
    notification = failed(channel)

    services.retry(notification, via="test")

    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
    assert notification.attempts_left > 0
    assert notification.status_changes.last().transition == "retry"


def test_retry_refuses_a_notification_whose_channel_is_disabled(
    channel: Channel,
) -> None:
    notification = failed(channel)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    notification.refresh_from_db()

    with pytest.raises(ValidationError, match="disabled"):
        services.retry(notification)

    notification.refresh_from_db()
    assert notification.status == Status.FAILED


def test_cancel_refuses_a_sent_notification(channel: Channel) -> None:
    notification = notify(channel)
    notification.claim()
    notification.save()
    notification.mark_sent()
    notification.save()

    with pytest.raises(services.ActionRefused, match="it is sent"):
        services.cancel(notification)


def test_resend_copies_the_message_and_links_the_original(channel: Channel) -> None:
    original = failed(channel)

    copy = services.resend(original, via="test")

    assert copy.pk != original.pk
    assert copy.resend_of == original
    assert (copy.body, copy.recipient, copy.status) == (
        original.body,
        original.recipient,
        Status.QUEUED,
    )


def test_bulk_action_reports_what_it_skipped_and_why(channel: Channel) -> None:
    waiting = notify(channel)
    done_already = failed(channel)

    done, skipped = services.bulk_action([waiting, done_already], "cancel", via="test")

    assert [n.pk for n in done] == [waiting.pk]
    assert [(n.pk, why) for n, why in skipped] == [(done_already.pk, "it is failed")]


def test_a_bulk_resend_that_skips_everything_leaves_no_empty_batch(
    channel: Channel,
) -> None:
    notification = failed(channel)
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    notification.refresh_from_db()

    done, skipped = services.bulk_action([notification], "resend", via="test")

    assert done == []
    assert len(skipped) == 1
    assert not Batch.objects.exists()


# -- sending again after an unknown outcome ----------------------------------


@pytest.fixture
def sms_failure(twilio_channel: Channel, fake_twilio: FakeTwilio) -> Notification:
    return failed_with_unknown_outcome(twilio_channel, fake_twilio)


def test_a_twilio_send_that_timed_out_is_a_failure_with_an_unknown_outcome(
    twilio_channel: Channel,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "_client", HttpClient(read_timeout=0.5))
    fake_twilio.behave("hang")
    notification = sms(twilio_channel)

    deliver_next(actor="test worker")

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert services.failed_with_unknown_outcome(notification)
    with pytest.raises(services.UnknownOutcome, match="Check with the provider"):
        services.retry(notification, via="test")
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert len(fake_twilio.requests) == 1


def test_retry_refuses_an_unknown_outcome_until_the_operator_confirms(
    sms_failure: Notification,
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.retry(sms_failure, via="test")

    assert caught.value.code == "unknown_outcome"
    assert "may already have delivered" in caught.value.messages[0]
    sms_failure.refresh_from_db()
    assert sms_failure.status == Status.FAILED

    services.retry(sms_failure, via="test", confirm_unknown=True)

    sms_failure.refresh_from_db()
    change = sms_failure.status_changes.last()
    assert sms_failure.status == Status.QUEUED
    assert change.transition == "retry"
    assert services.CONFIRMED_UNKNOWN in change.reason


def test_resend_refuses_an_unknown_outcome_until_the_operator_confirms(
    sms_failure: Notification,
) -> None:
    with pytest.raises(services.UnknownOutcome):
        services.resend(sms_failure, via="test")
    assert not Notification.objects.filter(resend_of=sms_failure).exists()

    copy = services.resend(sms_failure, via="test", confirm_unknown=True)

    assert copy.resend_of == sms_failure
    assert copy.status == Status.QUEUED
    assert services.CONFIRMED_UNKNOWN in copy.status_changes.get().reason


def test_an_unknown_outcome_on_a_channel_that_resends_needs_no_confirmation(
    channel: Channel,
) -> None:
    # A chat bot's duplicate is harmless; the worker itself retries those.
    notification = notify(channel)
    notification.claim()
    notification.save()
    record_attempt(notification, Outcome.UNKNOWN)
    notification.fail(reason="Gave up after 1 attempts.")
    notification.save()

    assert not services.failed_with_unknown_outcome(notification)
    services.retry(notification, via="test")


def test_only_the_last_attempt_counts(twilio_channel: Channel) -> None:
    notification = sms(twilio_channel)
    for outcome in (Outcome.UNKNOWN, Outcome.PERMANENT):
        notification.claim()
        notification.save()
        record_attempt(notification, outcome)
        if outcome == Outcome.UNKNOWN:
            notification.fail(reason="No answer.")
            notification.save()
            assert services.failed_with_unknown_outcome(notification)
            services.retry(notification, via="test", confirm_unknown=True)
    notification.fail(reason="Twilio refused the number.")
    notification.save()

    assert not services.failed_with_unknown_outcome(notification)
    services.retry(notification, via="test")


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.QUEUED, Status.SENDING, Status.RETRYING]
)
def test_resend_refuses_a_notification_still_waiting_or_in_flight(
    channel: Channel, status: str
) -> None:
    notification = in_state(channel, status)

    with pytest.raises(services.ActionRefused, match="Cancel it or retry it") as no:
        services.resend(notification, via="test")

    assert no.value.action == "resend"
    assert not Notification.objects.filter(resend_of=notification).exists()


@pytest.mark.parametrize(
    "status", [Status.SENT, Status.FAILED, Status.CANCELLED, Status.EXPIRED]
)
def test_resend_takes_every_finished_notification(
    channel: Channel, status: str
) -> None:
    notification = in_state(channel, status)

    copy = services.resend(notification, via="test")

    assert copy.resend_of == notification


def test_a_bulk_retry_skips_an_unknown_outcome_with_the_reason(
    sms_failure: Notification, channel: Channel
) -> None:
    plain = failed(channel)

    done, skipped = services.bulk_action([sms_failure, plain], "retry", via="test")

    assert [n.pk for n in done] == [plain.pk]
    assert [n.pk for n, _ in skipped] == [sms_failure.pk]
    assert "Check with the provider" in skipped[0][1]


def test_a_bulk_action_passes_the_confirmation_on(sms_failure: Notification) -> None:
    done, skipped = services.bulk_action(
        [sms_failure], "resend", via="test", confirm_unknown=True
    )

    assert skipped == []
    assert [n.resend_of_id for n in done] == [sms_failure.pk]


def test_a_bulk_resend_says_to_cancel_or_retry_what_is_not_finished(
    channel: Channel,
) -> None:
    queued = notify(channel)

    done, skipped = services.bulk_action([queued], "resend", via="test")

    assert done == []
    assert skipped == [
        (queued, "it is queued and not finished yet; cancel or retry it instead")
    ]


def test_the_refusals_are_explained_in_chinese(
    sms_failure: Notification, channel: Channel
) -> None:
    queued = notify(channel)

    with translation.override("zh-hans"):
        with pytest.raises(services.UnknownOutcome) as unknown:
            services.retry(sms_failure)
        done, skipped = services.bulk_action([queued], "resend")

    assert unknown.value.messages[0].startswith("服务商可能已经送达这条消息")
    assert skipped == [(queued, "其状态为排队中，尚未结束；请改为取消或重试它")]
