"""Shared fixtures: fake providers on loopback and channels pointing at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from adapters import mail
from notifications.models import Channel
from tests.builders import saved_channel
from tests.fakes.aliyun import FakeAliyun
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.feishu import FakeFeishu
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio import FakeTwilio
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.wecom import FakeWeCom


@pytest.fixture(autouse=True)
def empty_broker(settings: object) -> Iterator[None]:
    """Start every test with no delivery tasks in the broker.

    The ORM broker's rows go with each test's transaction; a Redis list
    outlives tests, so it is emptied before and after each.
    """
    if "redis" not in settings.Q_CLUSTER:
        yield
        return
    from django_q.brokers import get_broker

    broker = get_broker()
    broker.delete_queue()
    yield
    broker.delete_queue()


@pytest.fixture
def fake_feishu() -> Iterator[FakeFeishu]:
    with FakeFeishu() as fake:
        yield fake


@pytest.fixture
def feishu_channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return saved_channel(
        slug="ops-feishu",
        name="Ops Feishu group",
        kind="feishu",
        secrets={"webhook_url": fake_feishu.webhook_url},
    )


@pytest.fixture
def fake_wecom() -> Iterator[FakeWeCom]:
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def fake_dingtalk() -> Iterator[FakeDingTalk]:
    with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_webhook() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver() as fake:
        yield fake


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    """An SMTP server on loopback, with Django's SMTP backend pointed at it."""
    with FakeSmtp() as fake, override_settings(**fake.settings()):
        yield fake
        # The email adapter keeps a connection per thread; drop it with
        # the server, so no test inherits another's connection.
        mail.close_connection()


@pytest.fixture
def email_channel(db: None, fake_smtp: FakeSmtp) -> Channel:
    return saved_channel(
        slug="ops-email",
        name="Ops email",
        kind="email",
        config={
            "from_email": "Orion <orion@alerts.example.com>",
            "reply_to": "oncall@example.com",
        },
    )


@pytest.fixture
def fake_aliyun() -> Iterator[FakeAliyun]:
    with FakeAliyun() as fake:
        yield fake


@pytest.fixture
def aliyun_channel(db: None, fake_aliyun: FakeAliyun) -> Channel:
    return saved_channel(
        slug="ops-sms-aliyun",
        name="Ops SMS (Aliyun)",
        kind="sms_aliyun",
        config={
            "access_key_id": fake_aliyun.access_key_id,
            "sign_name": fake_aliyun.sign_name,
            "template_code": "SMS_154950909",
            "endpoint": fake_aliyun.base_url,
        },
        secrets={"access_key_secret": fake_aliyun.access_key_secret},
    )


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def twilio_channel(db: None, fake_twilio: FakeTwilio) -> Channel:
    return saved_channel(
        slug="ops-sms-twilio",
        name="Ops SMS (Twilio)",
        kind="sms_twilio",
        config={
            "account_sid": fake_twilio.account_sid,
            "from_number": "+14155550100",
            "base_url": fake_twilio.base_url,
        },
        secrets={"auth_token": fake_twilio.auth_token},
    )
