"""Every line an adapter logs names the notification it was sending."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from adapters import get_adapter
from adapters.base import DeliveryError, Envelope
from adapters.http import HttpClient
from tests.envelopes import envelope
from tests.fakes.aliyun import FakeAliyun
from tests.fakes.base import FakeProvider, Reply
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.feishu import FakeFeishu
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio import FakeTwilio
from tests.fakes.wecom import FakeWeCom

NOTIFICATION = uuid.UUID("6f1c2a9e-0d4b-4c37-9a51-2e8f7b3c1d40")
PORTAL = Reply(200, "<html>captive portal</html>")


def bot(fake: Any) -> dict[str, Any]:
    return {
        "config": {"message_type": "text"},
        "secrets": {"webhook_url": fake.webhook_url},
    }


def twilio(fake: FakeTwilio) -> dict[str, Any]:
    return {
        "config": {
            "account_sid": fake.account_sid,
            "from_number": "+14155550100",
            "base_url": fake.base_url,
        },
        "secrets": {"auth_token": fake.auth_token},
        "recipient": "+8613800138000",
    }


def aliyun(fake: FakeAliyun) -> dict[str, Any]:
    return {
        "config": {
            "access_key_id": fake.access_key_id,
            "sign_name": fake.sign_name,
            "template_code": "SMS_154950909",
            "endpoint": fake.base_url,
            "region_id": "cn-hangzhou",
        },
        "secrets": {"access_key_secret": fake.access_key_secret},
        "recipient": "+8613800138000",
        "context": {"host": "db-1", "disk": "95%"},
    }


# kind, the fake provider, the envelope's fields for it, and a reply the
# adapter does not expect (and logs).
UNEXPECTED: list[tuple[str, type[FakeProvider], Callable[[Any], dict], Reply]] = [
    ("feishu", FakeFeishu, bot, PORTAL),
    ("wecom", FakeWeCom, bot, PORTAL),
    ("dingtalk", FakeDingTalk, bot, PORTAL),
    (
        "slack",
        FakeSlack,
        lambda fake: {"secrets": {"webhook_url": fake.webhook_url}},
        PORTAL,
    ),
    ("sms_twilio", FakeTwilio, twilio, Reply(201, {"status": "queued"})),
    ("sms_aliyun", FakeAliyun, aliyun, PORTAL),
]


def adapter_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("adapters")]


@pytest.mark.parametrize(
    ("kind", "fake_class", "fields", "reply"),
    UNEXPECTED,
    ids=[row[0] for row in UNEXPECTED],
)
def test_an_unexpected_reply_is_logged_with_the_notification(
    caplog: pytest.LogCaptureFixture,
    kind: str,
    fake_class: type[FakeProvider],
    fields: Callable[[Any], dict],
    reply: Reply,
) -> None:
    caplog.set_level(logging.DEBUG, logger="adapters")
    with fake_class() as fake:
        fake.fail_next(reply)
        sent: Envelope = envelope(notification_id=NOTIFICATION, **fields(fake))
        with pytest.raises(DeliveryError):
            get_adapter(kind).send(sent, HttpClient(read_timeout=5))

    lines = adapter_lines(caplog)
    assert lines
    assert all(str(NOTIFICATION) in line for line in lines), lines


def test_reopening_the_email_connection_is_logged_with_the_notification(
    caplog: pytest.LogCaptureFixture, fake_smtp: FakeSmtp
) -> None:
    caplog.set_level(logging.DEBUG, logger="adapters")
    adapter = get_adapter("email")
    sent = envelope(
        notification_id=NOTIFICATION,
        config={"from_email": "orion@alerts.example.com"},
        recipient="alice@example.org",
        subject="Disk almost full",
    )
    adapter.send(sent, HttpClient())
    fake_smtp.drop_connections()

    adapter.send(sent, HttpClient())

    lines = adapter_lines(caplog)
    assert any("reopening" in line for line in lines)
    assert all(str(NOTIFICATION) in line for line in lines), lines
