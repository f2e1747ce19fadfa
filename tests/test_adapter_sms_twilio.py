"""The Twilio SMS adapter against a fake Twilio Messages API."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from adapters import get_adapter
from adapters.base import DeliveryError, DeliveryResult, Envelope
from adapters.http import HttpClient
from notifications.delivery import deliver_next
from notifications.dispatcher import requeue_due
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests import adapter_checks as checks
from tests.envelopes import envelope
from tests.fakes.base import Reply
from tests.fakes.twilio import FakeTwilio, twilio_error

adapter = get_adapter("sms_twilio")
SERVICE_SID = "MG" + "fedcba9876543210" * 2
RECIPIENT = "+8613800138000"


def to(fake: FakeTwilio, config: dict | None = None, **fields: object) -> Envelope:
    settings = {
        "account_sid": fake.account_sid,
        "from_number": "+14155550100",
        "base_url": fake.base_url,
        **(config or {}),
    }
    fields.setdefault("recipient", RECIPIENT)
    return envelope(
        config={k: v for k, v in settings.items() if v is not None},
        secrets={"auth_token": fake.auth_token},
        **fields,
    )


def send(
    fake: FakeTwilio, read_timeout: float = 5.0, **fields: object
) -> DeliveryResult:
    return adapter.send(to(fake, **fields), HttpClient(read_timeout=read_timeout))


def failure(fake: FakeTwilio, read_timeout: float = 5.0, **fields: object):
    with pytest.raises(DeliveryError) as caught:
        send(fake, read_timeout, **fields)
    return caught.value


def clean(config: dict, secrets: dict | None = None) -> dict:
    cleaned, _ = adapter.clean_config(config, secrets or {"auth_token": "t" * 32})
    return cleaned


# -- the request -------------------------------------------------------------


def test_posts_the_form_with_basic_auth_to_the_accounts_messages_url(
    fake_twilio: FakeTwilio,
) -> None:
    result = send(fake_twilio, body="Disk almost full on db-1")

    received = fake_twilio.requests[0]
    assert (
        received.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    )
    assert received.form() == {
        "To": [RECIPIENT],
        "From": ["+14155550100"],
        "Body": ["Disk almost full on db-1"],
    }
    credentials = f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()
    assert received.headers["authorization"] == (
        "Basic " + base64.b64encode(credentials).decode()
    )
    assert result.provider_message_id == fake_twilio.created[0]["sid"]
    assert result.provider_message_id.startswith("SM")
    assert result.status_code == 201


def test_sends_through_the_messaging_service_instead_of_a_from_number(
    fake_twilio: FakeTwilio,
) -> None:
    config = {"from_number": None, "messaging_service_sid": SERVICE_SID}

    send(fake_twilio, config=config)

    form = fake_twilio.requests[0].form()
    assert form["MessagingServiceSid"] == [SERVICE_SID]
    assert "From" not in form


def test_puts_the_subject_on_the_first_line_of_the_text(
    fake_twilio: FakeTwilio,
) -> None:
    send(fake_twilio, subject="db-1", body="Disk almost full")

    assert fake_twilio.requests[0].form()["Body"] == ["db-1\nDisk almost full"]


# -- what Twilio answers -----------------------------------------------------

# Written out here rather than read from the adapter's table, so a change to
# the table has to agree with shared/providers.md to pass.
DOCUMENTED = {
    20429: False,
    20003: True,
    21211: True,
    21408: True,
    21608: True,
    21610: True,
    21612: True,
    21614: True,
    21617: True,
}


@pytest.mark.parametrize(("code", "permanent"), sorted(DOCUMENTED.items()))
def test_classifies_each_documented_twilio_error(
    fake_twilio: FakeTwilio, code: int, permanent: bool
) -> None:
    fake_twilio.fail_next(twilio_error(code))

    error = failure(fake_twilio)

    assert error.permanent is permanent
    assert error.unknown is False
    assert error.provider_code == str(code)
    assert error.status_code == twilio_error(code).status


def test_a_throttled_request_waits_as_long_as_twilio_asks(
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.fail_next(twilio_error(20429, {"Retry-After": "30"}))

    error = failure(fake_twilio)

    assert error.retry_after == 30
    assert not error.permanent


def test_a_wrong_auth_token_fails_for_good_and_flags_the_credential(
    fake_twilio: FakeTwilio,
) -> None:
    wrong = to(fake_twilio)
    wrong = Envelope(**{**wrong.__dict__, "secrets": {"auth_token": "x" * 32}})

    with pytest.raises(DeliveryError) as caught:
        adapter.send(wrong, HttpClient())

    assert caught.value.provider_code == "20003"
    assert caught.value.permanent
    assert caught.value.credential_dead


def test_a_number_twilio_does_not_take_is_a_permanent_failure(
    fake_twilio: FakeTwilio,
) -> None:
    # Bypasses clean_recipient, as a channel edited behind Orion's back would.
    error = failure(fake_twilio, recipient="4155550100")

    assert error.provider_code == "21211"
    assert error.permanent


def test_the_token_never_appears_in_an_error(fake_twilio: FakeTwilio) -> None:
    echo = {"code": 21612, "message": f"echo {fake_twilio.auth_token}", "status": 400}
    fake_twilio.fail_next(Reply(400, echo))

    error = failure(fake_twilio)

    assert fake_twilio.auth_token not in error.message
    assert fake_twilio.auth_token not in error.reply_excerpt


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_transient(fake_twilio: FakeTwilio, status: int) -> None:
    fake_twilio.fail_next(Reply(status, {"code": 20500, "status": status}))

    error = failure(fake_twilio)

    assert not error.permanent
    assert not error.unknown


def test_a_gateway_timeout_is_an_unknown_outcome(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(Reply(504, "Gateway Timeout"))

    assert failure(fake_twilio).unknown


def test_an_accepted_reply_without_a_sid_is_an_unknown_outcome(
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.fail_next(Reply(201, "<html>ok</html>"))

    error = failure(fake_twilio)

    assert error.unknown
    assert error.status_code == 201


# -- misbehaving servers -----------------------------------------------------


def test_a_read_timeout_is_an_unknown_outcome(fake_twilio: FakeTwilio) -> None:
    assert checks.timed_out(fake_twilio, failure).unknown


def test_a_connection_closed_in_the_middle_of_the_reply_is_an_unknown_outcome(
    fake_twilio: FakeTwilio,
) -> None:
    assert checks.closed_mid_reply(fake_twilio, failure).unknown


def test_a_connection_closed_before_the_reply_is_an_unknown_outcome(
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.behave("close")

    assert failure(fake_twilio).unknown


def test_a_slow_reply_within_the_timeout_is_a_success(
    fake_twilio: FakeTwilio,
) -> None:
    result = checks.slow_reply(fake_twilio, send)

    assert result.provider_message_id == fake_twilio.created[0]["sid"]


# -- size ----------------------------------------------------------------------


def test_a_body_of_exactly_1600_characters_is_accepted_and_sent(
    fake_twilio: FakeTwilio,
) -> None:
    body = "x" * 1600

    adapter.validate_message({}, "", body, RECIPIENT)
    send(fake_twilio, body=body)

    assert fake_twilio.created[0]["body"] == body


def test_a_body_of_1601_characters_is_refused_at_creation() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_message({}, "", "x" * 1601, RECIPIENT)

    assert "body" in caught.value.message_dict


def test_the_subject_counts_against_the_1600_characters() -> None:
    # "db-1" and the line break make 5 more characters.
    adapter.validate_message({}, "db-1", "x" * 1595, RECIPIENT)
    with pytest.raises(ValidationError):
        adapter.validate_message({}, "db-1", "x" * 1596, RECIPIENT)


def test_twilio_itself_refuses_1601_characters(fake_twilio: FakeTwilio) -> None:
    # What the fake does when the creation check is bypassed.
    error = failure(fake_twilio, body="x" * 1601)

    assert error.provider_code == "21617"
    assert error.permanent


# -- configuration and recipients -------------------------------------------

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def test_a_valid_configuration_is_completed_and_normalised() -> None:
    cleaned = clean(
        {
            "account_sid": ACCOUNT_SID,
            "from_number": "+1 (415) 555-0100",
            "base_url": "https://api.twilio.com/",
        }
    )

    assert cleaned == {
        "account_sid": ACCOUNT_SID,
        "from_number": "+14155550100",
        "base_url": "https://api.twilio.com",
    }


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (
            {"account_sid": "XX" + "0" * 32, "from_number": "+14155550100"},
            "account_sid",
        ),
        ({"account_sid": "AC123", "from_number": "+14155550100"}, "account_sid"),
        ({"account_sid": ACCOUNT_SID}, "from_number"),
        ({"account_sid": ACCOUNT_SID, "from_number": "4155550100"}, "from_number"),
        ({"account_sid": ACCOUNT_SID, "from_number": "+1415"}, "from_number"),
        (
            {
                "account_sid": ACCOUNT_SID,
                "from_number": "+14155550100",
                "messaging_service_sid": SERVICE_SID,
            },
            "messaging_service_sid",
        ),
        (
            {"account_sid": ACCOUNT_SID, "messaging_service_sid": "MG1"},
            "messaging_service_sid",
        ),
        (
            {
                "account_sid": ACCOUNT_SID,
                "from_number": "+14155550100",
                "base_url": "ftp://api.twilio.com",
            },
            "base_url",
        ),
        (
            {
                "account_sid": ACCOUNT_SID,
                "from_number": "+14155550100",
                "base_url": "https://api.twilio.com/2010-04-01",
            },
            "base_url",
        ),
    ],
)
def test_refuses_a_bad_setting_under_its_own_key(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean(config)

    assert f"config.{field}" in caught.value.message_dict


def test_the_auth_token_is_required() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config(
            {"account_sid": ACCOUNT_SID, "from_number": "+14155550100"}, {}
        )

    assert "secrets.auth_token" in caught.value.message_dict


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    ("base_url", "allowed"),
    [
        ("https://api.twilio.com", True),
        ("https://api.dublin.ie1.twilio.com", True),
        ("http://api.twilio.com", False),
        ("https://api.twilio.com.attacker.example", False),
        ("https://127.0.0.1:8443", False),
    ],
)
def test_in_production_the_base_url_must_be_https_on_twilio(
    base_url: str, allowed: bool
) -> None:
    config = {"account_sid": ACCOUNT_SID, "from_number": "+14155550100"}

    if allowed:
        assert clean({**config, "base_url": base_url})["base_url"] == base_url
    else:
        with pytest.raises(ValidationError):
            clean({**config, "base_url": base_url})


def test_the_recipient_is_cleaned_to_e164() -> None:
    assert adapter.clean_recipient(" +1 415-555-0100 ") == "+14155550100"


def test_an_email_address_is_refused_as_a_recipient_with_a_clear_reason() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient("oncall@example.com")

    assert "email address" in caught.value.message_dict["recipient"][0]


@pytest.mark.parametrize("recipient", ["", "4155550100", "+1415", "+0123456789", "a+1"])
def test_a_recipient_that_is_not_one_e164_number_is_refused(recipient: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient(recipient)

    assert "recipient" in caught.value.message_dict


# -- through the pipeline ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_pipeline_sends_and_keeps_twilios_message_sid(
    twilio_channel: Channel, fake_twilio: FakeTwilio
) -> None:
    notification = checks.delivered(
        twilio_channel, recipient="+86 138 0013 8000", body="db-1 down"
    )

    assert notification.status == Status.SENT
    assert notification.provider_message_id == fake_twilio.created[0]["sid"]
    assert fake_twilio.created[0]["to"] == "+8613800138000"
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.outcome, attempt.status_code) == ("sent", 201)


@pytest.mark.django_db(transaction=True)
def test_the_pipeline_refuses_a_1601_character_sms_before_creating_it(
    twilio_channel: Channel,
) -> None:
    with pytest.raises(ValidationError):
        create_notification(
            NotificationSpec(
                channel=twilio_channel, recipient=RECIPIENT, body="x" * 1601
            )
        )

    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_timeout_fails_the_notification_for_an_operator_to_check_and_sends_once(
    twilio_channel: Channel, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks.assert_a_timeout_fails_once_for_an_operator(
        fake_twilio, monkeypatch, twilio_channel, recipient=RECIPIENT, body="db-1 down"
    )


@pytest.mark.django_db(transaction=True)
def test_a_throttled_send_is_retried_no_sooner_than_twilio_asks_then_sent(
    twilio_channel: Channel, fake_twilio: FakeTwilio
) -> None:
    twilio_channel.rate_limit = [{"count": 100, "seconds": 1}]
    twilio_channel.save()
    fake_twilio.fail_next(twilio_error(20429, {"Retry-After": "30"}))
    notification = create_notification(
        NotificationSpec(channel=twilio_channel, recipient=RECIPIENT, body="db-1 down")
    )

    deliver_next()
    notification.refresh_from_db()
    first = DeliveryAttempt.objects.get(notification=notification)
    assert notification.status == Status.RETRYING
    assert notification.next_attempt_at >= first.finished_at + datetime.timedelta(
        seconds=30
    )

    requeue_due(notification.next_attempt_at)
    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    attempts = DeliveryAttempt.objects.filter(notification=notification)
    assert [(a.outcome, a.provider_code) for a in attempts] == [
        ("transient", "20429"),
        ("sent", ""),
    ]
    assert len(fake_twilio.created) == 1
