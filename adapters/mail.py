"""Email through Django's email backends: SMTP from ORION_EMAIL_URL.

Named `mail` so it is not mistaken for the standard library's `email`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import smtplib
import threading
import time
import uuid
from collections.abc import Mapping
from email.utils import getaddresses, make_msgid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import (
    ChannelAdapter,
    DeliveryError,
    DeliveryResult,
    Envelope,
    RateLimit,
    excerpt,
    field_error,
)
from adapters.http import HttpClient

logger = logging.getLogger(__name__)

# Used when EMAIL_TIMEOUT is not set: Django's default is to wait forever,
# which would pin a worker on a server that stops answering.
SMTP_TIMEOUT = 20.0
# A connection idle for longer is closed rather than probed: a connection
# a firewall dropped silently would make the probe wait the whole timeout.
MAX_IDLE_SECONDS = 60.0

# How an SMTP failure maps onto a retry, after shared/providers.md (from
# smtplib's exceptions and RFC 5321's reply codes): 4xx is transient, 5xx
# permanent; a refused recipient is decided by its own code; a missing
# server feature is permanent; disconnects, timeouts and other socket errors
# are transient. Messages per exception type, most specific first.
REFUSALS: tuple[tuple[type[smtplib.SMTPResponseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, "The mail server refused Orion's SMTP login"),
    (smtplib.SMTPSenderRefused, "The mail server refused the sender address"),
    (smtplib.SMTPDataError, "The mail server refused the message"),
    (smtplib.SMTPHeloError, "The mail server refused Orion's greeting"),
    (smtplib.SMTPResponseException, "The mail server refused the request"),
)


@register
class EmailAdapter(ChannelAdapter):
    kind = "email"
    label = gettext_lazy("Email")
    config_required = ("from_email",)
    config_optional = {"reply_to": None}
    # Relays' limits range from one message a second (a sandboxed account)
    # to hundreds; none is documented for Orion's. Five a second is a
    # cautious default an operator can raise for their relay.
    rate_limits = (RateLimit(5, 1),)
    # An unknown outcome needs the connection to fail between the end of the
    # message and the server's final reply, which is rare. The resend keeps
    # the same Message-ID, so mail systems and readers can tell a duplicate;
    # a duplicate alert is a small cost next to a lost one.
    resend_after_unknown = True
    recipient_required = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        errors: dict[str, list[str]] = {}
        for key in ("from_email", "reply_to"):
            if key == "reply_to" and not config.get(key):
                continue
            try:
                address_of(config[key], f"config.{key}")
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    def clean_recipient(self, recipient: str) -> str:
        """One bare address; a list is refused, since each gets its own message."""
        recipient = super().clean_recipient(recipient)
        if any(mark in recipient for mark in ",;"):
            raise field_error(
                "recipient", _("Give one email address; send one notification each.")
            )
        try:
            validate_email(recipient)
        except ValidationError:
            raise field_error("recipient", _("Enter a valid email address.")) from None
        return recipient

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        # Django refuses a header with a line break only when sending.
        if "\n" in subject or "\r" in subject:
            raise field_error("subject", _("An email subject is a single line."))
        # TODO: refuse a message over the relay's size limit here; the limit
        # is only known from the server's EHLO (SIZE), so today an oversized
        # message fails at send time with the relay's 552, as permanent.

    def message_key(self, envelope: Envelope) -> str:
        """The Message-ID, in the sender's domain, kept for every retry."""
        return new_message_id(envelope.config["from_email"])

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        message = build_message(envelope)
        deliver(message, envelope.notification_id)
        return DeliveryResult(provider_message_id=message.extra_headers["Message-ID"])

    def test_envelope(self, envelope: Envelope) -> Envelope:
        """Without a recipient, a test message goes to the sender's address."""
        if envelope.recipient:
            return envelope
        sender = address_of(envelope.config["from_email"], "config.from_email")
        return dataclasses.replace(envelope, recipient=sender)


def address_of(value: object, field: str) -> str:
    """The address in "ops@example.com" or "Ops <ops@example.com>", or raise."""
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        raise field_error(field, _("Enter a valid email address."))
    pairs = getaddresses([value])
    if len(pairs) != 1:
        raise field_error(field, _("Enter one email address."))
    try:
        validate_email(pairs[0][1])
    except ValidationError:
        raise field_error(field, _("Enter a valid email address.")) from None
    return pairs[0][1]


def new_message_id(from_email: str) -> str:
    domain = address_of(from_email, "config.from_email").rsplit("@", 1)[1]
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return make_msgid(domain=domain)


def build_message(envelope: Envelope) -> EmailMultiAlternatives:
    """The message for one recipient, with the Message-ID the pipeline keeps."""
    config = envelope.config
    message_id = envelope.provider_message_id or new_message_id(config["from_email"])
    reply_to = [config["reply_to"]] if config.get("reply_to") else []
    message = EmailMultiAlternatives(
        subject=envelope.subject,
        body=envelope.body,
        from_email=config["from_email"],
        to=[envelope.recipient],
        reply_to=reply_to,
        headers={
            "Message-ID": message_id,
            # RFC 3834: tells mail systems not to send vacation replies back.
            "Auto-Submitted": "auto-generated",
        },
    )
    if envelope.html_body:
        message.attach_alternative(envelope.html_body, "text/html")
    return message


# -- connections ------------------------------------------------------------


class _Connection(threading.local):
    """The email backend this thread keeps open between sends.

    Opening SMTP costs several round trips (greeting, EHLO, STARTTLS, AUTH);
    a backend is not shared between threads, so each thread keeps its own.
    """

    backend: BaseEmailBackend | None = None
    key: tuple[Any, ...] = ()
    last_used: float = 0.0


_connection = _Connection()


def deliver(message: EmailMultiAlternatives, notification_id: uuid.UUID) -> None:
    """Send one message over this thread's connection; raise `DeliveryError`.

    After any failure the connection is dropped, so the next send opens a
    fresh one instead of reusing a connection in an unknown state.
    """
    backend = _open_backend(notification_id)
    try:
        backend.send_messages([message])
    except BaseException as exc:
        close_connection()
        if isinstance(exc, BadHeaderError):
            raise DeliveryError(
                "The message has a header Django refuses (a line break).",
                permanent=True,
            ) from exc
        if isinstance(exc, OSError):
            raise smtp_error(exc, sending=True) from exc
        raise
    _connection.last_used = time.monotonic()


def close_connection() -> None:
    """Close this thread's connection, without QUIT.

    On a broken connection QUIT could wait out the whole timeout; servers
    take an abrupt close in their stride.
    """
    backend, _connection.backend = _connection.backend, None
    if backend is None:
        return
    closed_smtp = False
    for name in ("connection", "_partial_connection"):
        smtp = getattr(backend, name, None)
        if isinstance(smtp, smtplib.SMTP):
            smtp.close()
            setattr(backend, name, None)
            closed_smtp = True
    if not closed_smtp:
        # A connection being thrown away may fail to close too; nothing
        # depends on it, and what failed before is recorded by the pipeline.
        with contextlib.suppress(OSError):
            backend.close()


def _open_backend(notification_id: uuid.UUID) -> BaseEmailBackend:
    key = _settings_key()
    backend = _connection.backend
    if backend is not None and (_connection.key != key or not _reusable(backend)):
        logger.debug("reopening the email connection to send %s", notification_id)
        close_connection()
        backend = None
    if backend is not None:
        return backend

    backend = get_connection(fail_silently=False, timeout=_timeout())
    _connection.backend, _connection.key = backend, key
    try:
        backend.open()
    except BaseException as exc:
        close_connection()
        if isinstance(exc, OSError):
            raise smtp_error(exc, sending=False) from exc
        raise
    return backend


def _reusable(backend: BaseEmailBackend) -> bool:
    """Whether a kept SMTP connection still answers; other backends always do."""
    smtp = getattr(backend, "connection", None)
    if not isinstance(smtp, smtplib.SMTP):
        return True
    if time.monotonic() - _connection.last_used > MAX_IDLE_SECONDS:
        return False
    try:
        code, _reply = smtp.noop()
    except OSError:
        return False
    return code == 250


def _settings_key() -> tuple[Any, ...]:
    """What the kept connection was opened with; a change means reopening."""
    password = getattr(settings, "EMAIL_HOST_PASSWORD", "") or ""
    return (
        settings.EMAIL_BACKEND,
        getattr(settings, "EMAIL_HOST", ""),
        getattr(settings, "EMAIL_PORT", None),
        getattr(settings, "EMAIL_HOST_USER", ""),
        # A digest, so the password itself is not kept in one more place.
        hashlib.sha256(password.encode()).hexdigest(),
        getattr(settings, "EMAIL_USE_TLS", False),
        getattr(settings, "EMAIL_USE_SSL", False),
        _timeout(),
    )


def _timeout() -> float:
    return getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT


# -- errors -----------------------------------------------------------------


def smtp_error(exc: OSError, *, sending: bool) -> DeliveryError:
    """Classify an SMTP failure; `sending` says the message may have gone out.

    A failure while connecting (`sending=False`) means nothing was sent. A
    broken connection while sending may have come after the server took the
    message, so it is an unknown outcome.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # One recipient per message: the first entry is the only one.
        code, text = next(iter(exc.recipients.values()), (-1, b""))
        return _by_reply_code(
            code, text, "The mail server refused the recipient", sending=False
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(
            "The mail server lacks a feature the email settings need "
            "(STARTTLS or AUTH).",
            permanent=True,
        )
    if isinstance(exc, smtplib.SMTPConnectError):
        return DeliveryError(
            f"The mail server refused the connection ({exc.smtp_code}).",
            permanent=False,
            provider_code=str(exc.smtp_code),
            reply_excerpt=_text(exc.smtp_error),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        what = next(text for kind, text in REFUSALS if isinstance(exc, kind))
        # Only DATA's final reply comes after the server has the message.
        after_data = sending and isinstance(exc, smtplib.SMTPDataError)
        return _by_reply_code(exc.smtp_code, exc.smtp_error, what, after_data)
    if isinstance(exc, TimeoutError):
        message = "The mail server did not answer in time"
    else:
        message = f"The connection to the mail server failed ({type(exc).__name__})"
    if sending:
        message += "; the message may have been delivered"
    return DeliveryError(message + ".", permanent=False, unknown=sending)


def _by_reply_code(
    code: int, text: bytes | str, what: str, sending: bool
) -> DeliveryError:
    """4xx is transient and 5xx permanent; anything else is a garbled reply."""
    reply = _text(text)
    details: dict[str, Any] = {"provider_code": str(code), "reply_excerpt": reply}
    if 400 <= code < 500:
        return DeliveryError(f"{what}: {code} {reply}", permanent=False, **details)
    if 500 <= code < 600:
        return DeliveryError(f"{what}: {code} {reply}", permanent=True, **details)
    # A reply cut short ("2" for "250 ...") after the message went out.
    return DeliveryError(
        f"{what} with a garbled reply ({code})"
        + ("; the message may have been delivered." if sending else "."),
        permanent=False,
        unknown=sending,
        **details,
    )


def _text(value: bytes | str) -> str:
    """A server's reply, fit to store: some relays quote the login they refused."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    credentials = (
        getattr(settings, "EMAIL_HOST_USER", "") or "",
        getattr(settings, "EMAIL_HOST_PASSWORD", "") or "",
    )
    return excerpt(value, credentials, limit=200)
