"""Cancel, retry and resend through the domain functions every caller shares."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications import services
from notifications.models import Batch, Channel, Notification, Status
from tests.builders import notify


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
