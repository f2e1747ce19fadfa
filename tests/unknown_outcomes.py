"""SMS notifications whose send ended without an answer, failed by a real worker.

Twilio's adapter does not resend after an unknown outcome, so the worker fails
such a notification for an operator to check with the provider.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from notifications.delivery import UNKNOWN_NOT_RESENT, deliver_next
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests.fakes.base import Reply
from tests.fakes.twilio import FakeTwilio

RECIPIENT = "+8613800138000"


def sms(channel: Channel, **spec: Any) -> Notification:
    spec.setdefault("recipient", RECIPIENT)
    spec.setdefault("body", "db-1 is down")
    return create_notification(NotificationSpec(channel=channel, **spec), via="api")


def failed_with_unknown_outcome(
    channel: Channel, fake: FakeTwilio, **spec: Any
) -> Notification:
    """Send an SMS through `channel` while Twilio's gateway times out (504).

    A worker sends it, so queue nothing else before calling this.
    """
    notification = sms(channel, **spec)
    fake.fail_next(Reply(504, "Gateway Timeout"))

    delivered = deliver_next(actor="test worker")

    assert delivered is not None and delivered.pk == notification.pk
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert UNKNOWN_NOT_RESENT in notification.last_error
    return notification


def record_attempt(notification: Notification, outcome: str) -> None:
    """Record an attempt of `notification` that ended with `outcome`."""
    DeliveryAttempt.objects.create(
        notification=notification,
        number=notification.attempts,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        outcome=outcome,
    )
