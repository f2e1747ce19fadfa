"""Steps the HTTP adapters' tests share: misbehaving servers and the pipeline.

Each adapter's test file keeps its own tests and assertions; these helpers
only drive its fake provider the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters import http
from adapters.base import DeliveryError
from adapters.http import HttpClient
from notifications.delivery import UNKNOWN_NOT_RESENT, deliver_next
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests.fakes.base import FakeProvider

# A hanging provider costs the suite SHORT_TIMEOUT; a slow one answers after
# SLOW_REPLY, well inside the read timeout `slow_reply` sends with.
SHORT_TIMEOUT = 0.5
SLOW_REPLY = 0.3
READ_TIMEOUT = 5.0


def timed_out(
    fake: FakeProvider, failure: Callable[..., DeliveryError]
) -> DeliveryError:
    """Return the error of a send to `fake` when it never answers."""
    fake.behave("hang")
    return failure(fake, read_timeout=SHORT_TIMEOUT)


def closed_mid_reply(
    fake: FakeProvider, failure: Callable[..., DeliveryError]
) -> DeliveryError:
    """Return the error of a send to `fake` when it hangs up mid-reply."""
    fake.behave("close_mid_reply")
    return failure(fake)


def slow_reply(fake: FakeProvider, send: Callable[..., Any]) -> Any:
    """Return the result of a send to `fake` that answers slowly but in time."""
    fake.delay = SLOW_REPLY
    return send(fake, read_timeout=READ_TIMEOUT)


def delivered(channel: Channel, **spec: Any) -> Notification:
    """Create a notification, deliver it once and return it reloaded."""
    notification = create_notification(NotificationSpec(channel=channel, **spec))

    deliver_next()

    notification.refresh_from_db()
    return notification


def assert_a_timeout_fails_once_for_an_operator(
    fake: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    channel: Channel,
    **spec: Any,
) -> None:
    """A provider that never answers may have sent it: fail, never resend."""
    monkeypatch.setattr(http, "_client", HttpClient(read_timeout=SHORT_TIMEOUT))
    fake.behave("hang")
    notification = create_notification(NotificationSpec(channel=channel, **spec))

    deliver_next()
    again = deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert UNKNOWN_NOT_RESENT in notification.last_error
    assert again is None
    assert len(fake.requests) == 1
    attempts = DeliveryAttempt.objects.filter(notification=notification)
    assert [a.outcome for a in attempts] == ["unknown"]
