"""The generic webhook adapter against a fake Standard Webhooks receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError

from adapters import get_adapter
from adapters.base import DeliveryError, Envelope
from adapters.http import HttpClient
from adapters.webhook import sign
from notifications.delivery import deliver_next
from notifications.models import Channel, Status
from notifications.services import NotificationSpec, create_notification
from tests import adapter_checks as checks
from tests.builders import saved_channel
from tests.envelopes import envelope
from tests.fakes.base import Reply
from tests.fakes.webhook import FakeWebhookReceiver

adapter = get_adapter("webhook")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def signed_webhook() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(secret=SECRET) as fake:
        yield fake


def to(fake: FakeWebhookReceiver, **fields: object) -> Envelope:
    secrets = {"signing_secret": fake.secret} if fake.secret else {}
    fields.setdefault("provider_message_id", "msg_2b9pS3bOq1ZtL0GOxTf4qg")
    return envelope(config={"url": fake.url}, secrets=secrets, **fields)


def send(
    fake: FakeWebhookReceiver, read_timeout: float = 5.0, **fields: object
) -> object:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(fake: FakeWebhookReceiver, **fields: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(fake, **fields)
    return caught.value


# -- signing and body ----------------------------------------------------------


def test_signs_the_standard_webhooks_test_vector() -> None:
    signature = sign(
        SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_signed_delivery_passes_the_receivers_verification(
    signed_webhook: FakeWebhookReceiver,
) -> None:
    result = send(signed_webhook)

    headers = signed_webhook.requests[0].headers
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert result.status_code == 204
    assert result.provider_message_id == "msg_2b9pS3bOq1ZtL0GOxTf4qg"


def test_the_receiver_refuses_a_delivery_signed_with_another_secret(
    signed_webhook: FakeWebhookReceiver,
) -> None:
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    stale = envelope(
        config={"url": signed_webhook.url},
        secrets={"signing_secret": other},
        provider_message_id="msg_1",
    )

    with pytest.raises(DeliveryError) as caught:
        adapter.send(stale, HttpClient(read_timeout=5.0))

    assert caught.value.status_code == 401 and caught.value.permanent


def test_posts_the_notification_as_a_standard_webhooks_event(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    send(
        fake_webhook,
        recipient="team-a",
        subject="db-1",
        body="is down",
        metadata={"ticket": 42},
    )

    assert fake_webhook.requests[0].json() == {
        "type": "notification.message",
        "timestamp": "2024-05-01T08:30:00Z",
        "data": {
            "id": "00000000-0000-4000-8000-000000000001",
            "channel": "ops",
            "recipient": "team-a",
            "subject": "db-1",
            "body": "is down",
            "metadata": {"ticket": 42},
            "created_at": "2024-05-01T08:30:00Z",
        },
    }


def test_sends_unsigned_without_a_signing_secret(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    send(fake_webhook)

    headers = fake_webhook.requests[0].headers
    assert "webhook-signature" not in headers
    assert headers["webhook-id"] == "msg_2b9pS3bOq1ZtL0GOxTf4qg"
    assert headers["webhook-timestamp"].isdigit()


# -- the webhook-id ------------------------------------------------------------


def test_message_key_makes_a_new_msg_id_each_time() -> None:
    first = adapter.message_key(envelope())
    second = adapter.message_key(envelope())

    assert first.startswith("msg_") and second.startswith("msg_")
    assert first != second


def test_keeps_the_same_webhook_id_on_a_retry(
    signed_webhook: FakeWebhookReceiver,
) -> None:
    message_id = adapter.message_key(envelope())
    signed_webhook.fail_next(Reply(503, "try later"))

    with pytest.raises(DeliveryError):
        send(signed_webhook, provider_message_id=message_id, attempt=1)
    send(signed_webhook, provider_message_id=message_id, attempt=2)

    assert signed_webhook.seen_ids == [message_id, message_id]


def test_a_failure_before_any_reply_still_carries_the_webhook_id(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    fake_webhook.behave("close")

    error = failure(fake_webhook, provider_message_id="")

    assert error.provider_message_id.startswith("msg_")
    assert fake_webhook.requests[0].headers["webhook-id"] == error.provider_message_id


# -- statuses ------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_a_success(fake_webhook: FakeWebhookReceiver, status: int) -> None:
    fake_webhook.fail_next(Reply(status, b"" if status == 204 else "accepted"))

    assert send(fake_webhook).status_code == status


def test_410_disables_the_channel(fake_webhook: FakeWebhookReceiver) -> None:
    fake_webhook.fail_next(Reply(410, "gone"))

    error = failure(fake_webhook)

    assert error.permanent and error.disable_channel


@pytest.mark.parametrize("status", [429, 502, 504])
def test_throttling_statuses_are_retried_honouring_retry_after(
    fake_webhook: FakeWebhookReceiver, status: int
) -> None:
    fake_webhook.fail_next(Reply(status, "slow down", {"Retry-After": "45"}))

    error = failure(fake_webhook)

    assert not error.permanent and error.retry_after == 45
    assert not error.disable_channel


@pytest.mark.parametrize("status", [500, 503])
def test_other_server_errors_are_retried(
    fake_webhook: FakeWebhookReceiver, status: int
) -> None:
    fake_webhook.fail_next(Reply(status, "oops"))

    error = failure(fake_webhook)

    assert not error.permanent and error.retry_after is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent(
    fake_webhook: FakeWebhookReceiver, status: int
) -> None:
    fake_webhook.fail_next(Reply(status, "no"))

    error = failure(fake_webhook)

    assert error.permanent and not error.disable_channel


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_permanent_failure_and_not_followed(
    fake_webhook: FakeWebhookReceiver, status: int
) -> None:
    fake_webhook.fail_next(
        Reply(status, b"", {"Location": fake_webhook.base_url + "/elsewhere"})
    )

    error = failure(fake_webhook)

    assert error.permanent and error.status_code == status
    assert [r.path for r in fake_webhook.requests] == ["/hooks/orion"]


# -- misbehaving servers -------------------------------------------------------


def test_a_timeout_is_an_unknown_outcome(fake_webhook: FakeWebhookReceiver) -> None:
    error = checks.timed_out(fake_webhook, failure)

    assert error.unknown
    assert error.provider_message_id == "msg_2b9pS3bOq1ZtL0GOxTf4qg"


def test_a_connection_closed_mid_reply_is_an_unknown_outcome(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    fake_webhook.fail_next(Reply(200, "received, thank you"))

    assert checks.closed_mid_reply(fake_webhook, failure).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    assert checks.slow_reply(fake_webhook, send).status_code == 204


# -- configuration and recipients ----------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/orion", "http://example.org:8080/in?x=1"]
)
def test_accepts_any_public_http_url(settings: object, url: str) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    config, secrets = adapter.clean_config({"url": url}, {"signing_secret": SECRET})

    assert config == {"url": url}
    assert secrets == {"signing_secret": SECRET}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/in",
        "file:///etc/passwd",
        "https:///no-host",
        "example.com/in",
        "http://127.0.0.1:8000/in",
        "http://localhost/in",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/in",
        "http://[fd00::1]/in",
        "http://10.1.2.3/in",
        "http://192.168.0.10/in",
        "http://0.0.0.0/in",
        "http://2130706433/in",
        "http://[::ffff:127.0.0.1]/in",
    ],
)
def test_refuses_a_url_orion_may_not_send_to(settings: object, url: str) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = False  # type: ignore[attr-defined]

    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({"url": url}, {})

    assert list(caught.value.message_dict) == ["config.url"]


def test_takes_a_private_url_when_private_destinations_are_allowed(
    settings: object,
) -> None:
    settings.ORION_ALLOW_PRIVATE_DESTINATIONS = True  # type: ignore[attr-defined]

    config, _ = adapter.clean_config({"url": "http://10.1.2.3/in"}, {})

    assert config["url"] == "http://10.1.2.3/in"


def test_requires_a_url() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({}, {})

    assert "config.url" in caught.value.message_dict


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not*base64!", "whsec_", "whsec_abc"],
)
def test_refuses_a_signing_secret_that_is_not_whsec_base64(secret: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config(
            {"url": "https://example.com/in"}, {"signing_secret": secret}
        )

    assert list(caught.value.message_dict) == ["secrets.signing_secret"]


def test_passes_any_recipient_through() -> None:
    assert adapter.clean_recipient("  team-a / pager  ") == "team-a / pager"
    assert adapter.clean_recipient("") == ""


# -- through the pipeline ------------------------------------------------------


def webhook_channel(fake: FakeWebhookReceiver, slug: str = "ops-webhook") -> Channel:
    return saved_channel(
        slug=slug,
        name=slug,
        kind="webhook",
        config={"url": fake.url},
        secrets={"signing_secret": SECRET},
    )


@pytest.mark.django_db(transaction=True)
def test_a_retried_notification_reaches_sent_with_one_webhook_id(
    signed_webhook: FakeWebhookReceiver,
) -> None:
    channel = webhook_channel(signed_webhook)
    notification = create_notification(
        NotificationSpec(channel=channel, subject="db-1", body="is down")
    )
    signed_webhook.fail_next(Reply(503, "try later"))

    deliver_next()
    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    notification.requeue(reason="test: retry now")
    notification.save()
    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.provider_message_id.startswith("msg_")
    assert signed_webhook.seen_ids == [notification.provider_message_id] * 2
    body = json.loads(signed_webhook.requests[1].body)
    assert body["data"]["id"] == str(notification.uuid)


@pytest.mark.django_db(transaction=True)
def test_a_410_fails_the_notification_and_disables_the_channel(
    fake_webhook: FakeWebhookReceiver,
) -> None:
    channel = saved_channel(
        slug="gone-webhook",
        name="gone",
        kind="webhook",
        config={"url": fake_webhook.url},
    )
    fake_webhook.fail_next(Reply(410, "gone"))

    notification = checks.delivered(channel, body="x")

    channel.refresh_from_db()
    assert notification.status == Status.FAILED
    assert not channel.enabled
