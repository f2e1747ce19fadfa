"""The email adapter against a real SMTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from adapters import get_adapter
from adapters.base import DeliveryError, DeliveryResult, Envelope
from adapters.http import HttpClient
from adapters.mail import close_connection
from notifications.delivery import deliver_next
from notifications.dispatcher import requeue_due
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests.envelopes import envelope
from tests.fakes.smtp import TEMPORARY, UNKNOWN_USER, FakeSmtp

adapter = get_adapter("email")
RECIPIENT = "alice@example.org"
SMTP_USER = "orion-relay@alerts.example.com"
SMTP_PASSWORD = "relay-password-5f9c2e"
CONFIG = {
    "from_email": "Orion <orion@alerts.example.com>",
    "reply_to": "oncall@example.com",
}


def mail(**fields: object) -> Envelope:
    """An envelope with the Message-ID the pipeline would have stored."""
    fields.setdefault("recipient", RECIPIENT)
    fields.setdefault("subject", "Disk almost full on db-1")
    draft = envelope(config=CONFIG, **fields)
    if draft.provider_message_id:
        return draft
    return envelope(
        config=CONFIG, provider_message_id=adapter.message_key(draft), **fields
    )


def send(**fields: object) -> DeliveryResult:
    return adapter.send(mail(**fields), HttpClient())


def failure(**fields: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        send(**fields)
    return caught.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the message -------------------------------------------------------------


def test_sends_one_message_with_both_parts_the_reply_to_and_the_stored_message_id(
    fake_smtp: FakeSmtp,
) -> None:
    sent = mail(body="95% used", html_body="<p><b>95%</b> used</p>")

    result = adapter.send(sent, HttpClient())

    [arrived] = fake_smtp.messages
    message = arrived.message
    assert arrived.mail_from == "orion@alerts.example.com"
    assert arrived.rcpt_tos == [RECIPIENT]
    assert message["Message-ID"] == sent.provider_message_id
    assert result.provider_message_id == sent.provider_message_id
    assert message["From"] == "Orion <orion@alerts.example.com>"
    assert message["To"] == RECIPIENT
    assert message["Reply-To"] == "oncall@example.com"
    assert message["Subject"] == "Disk almost full on db-1"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().strip() == "95% used"
    assert message.get_body(("html",)).get_content().strip() == (
        "<p><b>95%</b> used</p>"
    )


def test_a_message_without_html_is_plain_text_only(fake_smtp: FakeSmtp) -> None:
    send(body="95% used")

    message = fake_smtp.messages[0].message
    assert message.get_content_type() == "text/plain"
    assert "Reply-To" in message


def test_the_message_key_is_a_fresh_message_id_in_the_senders_domain() -> None:
    draft = envelope(config=CONFIG, recipient=RECIPIENT)

    first, second = adapter.message_key(draft), adapter.message_key(draft)

    assert first.startswith("<")
    assert first.endswith("@alerts.example.com>")
    assert first != second


def test_a_send_without_a_stored_message_id_still_sets_one(
    fake_smtp: FakeSmtp,
) -> None:
    # A test send from the admin does not go through the pipeline.
    result = adapter.send(envelope(config=CONFIG, recipient=RECIPIENT), HttpClient())

    assert fake_smtp.messages[0].message["Message-ID"] == result.provider_message_id
    assert result.provider_message_id.endswith("@alerts.example.com>")


def test_a_test_send_without_a_recipient_goes_to_the_sender() -> None:
    adjusted = adapter.test_envelope(envelope(config=CONFIG))

    assert adjusted.recipient == "orion@alerts.example.com"


# -- what the server answers -------------------------------------------------


def test_a_451_at_rcpt_is_a_transient_failure(fake_smtp: FakeSmtp) -> None:
    fake_smtp.refuse(RECIPIENT, TEMPORARY)

    error = failure()

    assert not error.permanent
    assert not error.unknown
    assert error.provider_code == "451"
    assert "4.3.0" in error.message
    assert fake_smtp.messages == []


def test_a_550_at_rcpt_is_a_permanent_failure(fake_smtp: FakeSmtp) -> None:
    fake_smtp.refuse(RECIPIENT, UNKNOWN_USER)

    error = failure()

    assert error.permanent
    assert error.provider_code == "550"
    assert fake_smtp.messages == []


def test_a_server_without_starttls_is_a_permanent_failure(
    fake_smtp: FakeSmtp,
) -> None:
    with override_settings(EMAIL_USE_TLS=True):
        error = failure()

    assert error.permanent
    assert not error.unknown


def test_a_refused_connection_is_transient_and_nothing_was_sent(
    fake_smtp: FakeSmtp,
) -> None:
    with override_settings(EMAIL_PORT=closed_port()):
        error = failure()

    assert not error.permanent
    assert not error.unknown


# -- misbehaving servers -----------------------------------------------------


def test_a_connection_dropped_after_the_message_is_an_unknown_outcome(
    fake_smtp: FakeSmtp,
) -> None:
    fake_smtp.behave("close")

    error = failure()

    assert error.unknown
    assert not error.permanent
    assert len(fake_smtp.messages) == 1


def test_a_final_reply_cut_short_is_an_unknown_outcome(fake_smtp: FakeSmtp) -> None:
    fake_smtp.behave("close_mid_reply")

    error = failure()

    assert error.unknown
    assert not error.permanent


def test_a_server_that_does_not_answer_in_time_is_an_unknown_outcome(
    fake_smtp: FakeSmtp,
) -> None:
    fake_smtp.behave("hang")

    with override_settings(EMAIL_TIMEOUT=0.5):
        error = failure()

    assert error.unknown
    assert not error.permanent


def test_a_slow_server_within_the_timeout_delivers(fake_smtp: FakeSmtp) -> None:
    fake_smtp.delay = 0.3

    with override_settings(EMAIL_TIMEOUT=5):
        send()

    assert len(fake_smtp.messages) == 1


# -- the connection ------------------------------------------------------------


def test_consecutive_sends_share_one_connection(fake_smtp: FakeSmtp) -> None:
    send()
    send()

    first, second = fake_smtp.messages
    assert first.peer == second.peer


def test_a_failure_drops_the_connection_and_the_next_send_opens_a_new_one(
    fake_smtp: FakeSmtp,
) -> None:
    send()
    fake_smtp.refuse(RECIPIENT, UNKNOWN_USER)
    failure()

    send()

    first, after = fake_smtp.messages
    assert first.peer != after.peer


def test_a_kept_connection_the_server_closed_is_replaced_before_sending(
    fake_smtp: FakeSmtp,
) -> None:
    send()
    fake_smtp.drop_connections()

    send()

    first, second = fake_smtp.messages
    assert first.peer != second.peer


# -- the relay's login stays out of what is stored -----------------------------


@pytest.fixture
def relay() -> Iterator[FakeSmtp]:
    """An SMTP server that demands Orion's login, as a relay does."""
    fake = FakeSmtp(credentials=(SMTP_USER, SMTP_PASSWORD))
    with fake, override_settings(**fake.settings()):
        yield fake
        close_connection()


def test_logs_in_to_the_relay_with_the_configured_login(relay: FakeSmtp) -> None:
    send()

    assert len(relay.messages) == 1


@pytest.mark.parametrize("when", ["login", "recipient"])
def test_a_reply_quoting_the_smtp_login_is_stored_without_it(
    relay: FakeSmtp, when: str
) -> None:
    quoted = f"for {SMTP_USER} (password {SMTP_PASSWORD})"
    if when == "login":
        relay.refuse_login(f"535 5.7.8 Authentication failed {quoted}", times=2)
    else:
        relay.refuse(RECIPIENT, f"550 5.7.1 Relaying denied {quoted}")

    error = failure()

    assert error.permanent
    assert error.provider_code in ("535", "550")
    for stored in (error.message, error.reply_excerpt):
        assert "5.7." in stored
        assert SMTP_USER not in stored
        assert SMTP_PASSWORD not in stored


# -- configuration and recipients ---------------------------------------------


def test_a_bare_from_address_and_no_reply_to_are_enough() -> None:
    cleaned, secrets = adapter.clean_config({"from_email": "orion@example.com"}, {})

    assert cleaned == {"from_email": "orion@example.com"}
    assert secrets == {}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "config.from_email"),
        ({"from_email": "orion"}, "config.from_email"),
        ({"from_email": "a@example.com, b@example.com"}, "config.from_email"),
        ({"from_email": "orion@example.com\nBcc: x@example.com"}, "config.from_email"),
        ({"from_email": "orion@example.com", "reply_to": "nobody"}, "config.reply_to"),
        ({"from_email": "orion@example.com", "smtp_host": "x"}, "config.smtp_host"),
    ],
)
def test_refuses_a_bad_setting_under_its_own_key(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config(config, {})

    assert field in caught.value.message_dict


def test_an_email_channel_takes_no_secrets() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_config({"from_email": "orion@example.com"}, {"password": "x"})

    assert "secrets.password" in caught.value.message_dict


def test_the_recipient_is_one_valid_address() -> None:
    assert adapter.clean_recipient(" alice@example.org ") == "alice@example.org"


@pytest.mark.parametrize(
    "recipient",
    ["", "alice", "alice@example.org, bob@example.org", "+8613800138000"],
)
def test_a_recipient_that_is_not_one_address_is_refused(recipient: str) -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.clean_recipient(recipient)

    assert "recipient" in caught.value.message_dict


def test_a_subject_with_a_line_break_is_refused_at_creation() -> None:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_message(CONFIG, "Disk\nBcc: x@example.com", "b", RECIPIENT)

    assert "subject" in caught.value.message_dict


# -- through the pipeline ------------------------------------------------------


def notify(channel: Channel) -> Notification:
    return create_notification(
        NotificationSpec(
            channel=channel,
            recipient=RECIPIENT,
            subject="Disk almost full on db-1",
            body="95% used",
            html_body="<p>95% used</p>",
        )
    )


def retry_now(notification: Notification) -> None:
    notification.refresh_from_db()
    requeue_due(notification.next_attempt_at)
    deliver_next()
    notification.refresh_from_db()


@pytest.mark.django_db(transaction=True)
def test_a_451_is_retried_and_the_second_attempt_delivers_with_the_stored_message_id(
    email_channel: Channel, fake_smtp: FakeSmtp
) -> None:
    fake_smtp.refuse(RECIPIENT, TEMPORARY)
    notification = notify(email_channel)

    deliver_next()
    notification.refresh_from_db()
    stored = notification.provider_message_id
    assert notification.status == Status.RETRYING

    retry_now(notification)

    assert notification.status == Status.SENT
    assert notification.provider_message_id == stored
    [arrived] = fake_smtp.messages
    assert arrived.message["Message-ID"] == stored
    attempts = DeliveryAttempt.objects.filter(notification=notification)
    assert [(a.outcome, a.provider_code) for a in attempts] == [
        ("transient", "451"),
        ("sent", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_550_fails_the_notification_after_one_attempt(
    email_channel: Channel, fake_smtp: FakeSmtp
) -> None:
    fake_smtp.refuse(RECIPIENT, UNKNOWN_USER)
    notification = notify(email_channel)

    deliver_next()

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert "5.1.1" in notification.last_error
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert (attempt.outcome, attempt.provider_code) == ("permanent", "550")
    assert fake_smtp.messages == []


@pytest.mark.django_db(transaction=True)
def test_a_lost_final_reply_is_resent_with_the_same_message_id(
    email_channel: Channel, fake_smtp: FakeSmtp
) -> None:
    fake_smtp.behave("close")
    notification = notify(email_channel)

    deliver_next()
    notification.refresh_from_db()
    assert notification.status == Status.RETRYING
    retry_now(notification)

    assert notification.status == Status.SENT
    # Two copies arrived; one Message-ID lets the receiving side tell.
    ids = {arrived.message["Message-ID"] for arrived in fake_smtp.messages}
    assert len(fake_smtp.messages) == 2
    assert ids == {notification.provider_message_id}
    attempts = DeliveryAttempt.objects.filter(notification=notification)
    assert [a.outcome for a in attempts] == ["unknown", "sent"]
