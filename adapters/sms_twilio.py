"""SMS through Twilio's Messages API."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import (
    ChannelAdapter,
    DeliveryError,
    DeliveryResult,
    Envelope,
    RateLimit,
    as_int,
    check_base_url,
    excerpt,
)
from adapters.http import HttpClient, HttpReply
from adapters.phone import clean_phone_number

logger = logging.getLogger(__name__)

API_DOMAIN = "twilio.com"
MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
MAX_BODY_CHARS = 1600
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")

# Twilio's error codes for creating a message, from its error dictionary
# (twilio.com/docs/api/errors) and the Messages resource reference, with what
# a retry can do about each: (permanent, seconds to wait, message). A code not
# listed is decided by the HTTP status (see `_by_status`).
ERRORS: dict[int, tuple[bool, float | None, str]] = {
    # Refused before processing, so always safe to send again.
    20429: (False, 1.0, "Twilio is throttling this account (too many requests)."),
    20003: (True, None, "Twilio refused the account SID or auth token."),
    21211: (True, None, "Twilio says the To number is not a valid phone number."),
    21408: (
        True,
        None,
        "The account may not send SMS to this region (geo permission).",
    ),
    21608: (True, None, "A trial account may only send to verified numbers."),
    21610: (True, None, "The recipient unsubscribed from this sender (replied STOP)."),
    21612: (
        True,
        None,
        "Twilio cannot route a message from this sender to this number.",
    ),
    21614: (True, None, "The To number is not a mobile number."),
    21617: (True, None, "The message is longer than Twilio's 1600 characters."),
}
DEAD_CREDENTIAL = 20003


def sms_text(subject: str, body: str) -> str:
    """The text of the SMS: an SMS has no subject, so it leads the first line."""
    return f"{subject}\n{body}" if subject else body


def twilio_length(text: str) -> int:
    """The length as counted against Twilio's limit of 1600 characters.

    Counted in UTF-16 code units, so a character outside the BMP (an emoji)
    counts twice: how Twilio counts those is not documented, and over-counting
    is the side that can never be refused.
    """
    return len(text.encode("utf-16-le")) // 2


@register
class TwilioSmsAdapter(ChannelAdapter):
    kind = "sms_twilio"
    label = gettext_lazy("SMS (Twilio)")
    config_required = ("account_sid",)
    config_optional = {
        "from_number": None,
        "messaging_service_sid": None,
        "base_url": "https://api.twilio.com",
    }
    secrets_required = ("auth_token",)
    # Twilio gives no per-request rate for this API. A single long-code
    # sender delivers about one message per second and Twilio queues the
    # rest, where Orion can no longer cancel or expire them; so by default
    # Orion sends no faster. A messaging service or short code can go
    # faster: the operator raises the channel's rate limit then.
    rate_limits = (RateLimit(1, 1),)
    # A duplicate SMS costs money and confuses the recipient.
    resend_after_unknown = False
    recipient_required = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        """Check the SIDs, the sender and the base URL; normalise them in place."""
        errors: dict[str, list[str]] = {}
        account_sid = config["account_sid"]
        if not isinstance(account_sid, str) or not ACCOUNT_SID.fullmatch(account_sid):
            errors["config.account_sid"] = [
                _("A Twilio account SID is AC followed by 32 hexadecimal characters.")
            ]
        for field, message in _check_sender(config).items():
            errors.setdefault(field, []).append(message)
        try:
            check_base_url(config["base_url"], "config.base_url", API_DOMAIN)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

        config["base_url"] = config["base_url"].rstrip("/")

    def clean_recipient(self, recipient: str) -> str:
        recipient = super().clean_recipient(recipient)
        return clean_phone_number(recipient, "recipient")

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        length = twilio_length(sms_text(subject, body))
        if length > MAX_BODY_CHARS:
            message = _(
                "This SMS is %(length)d characters (subject included); "
                "Twilio takes at most %(limit)d."
            )
            raise ValidationError(
                {"body": [message % {"length": length, "limit": MAX_BODY_CHARS}]}
            )

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        config = envelope.config
        account_sid = config["account_sid"]
        token = envelope.secrets["auth_token"]
        url = config["base_url"].rstrip("/") + MESSAGES_PATH.format(
            account_sid=account_sid
        )
        form = {
            "To": envelope.recipient,
            "Body": sms_text(envelope.subject, envelope.body),
        }
        if config.get("messaging_service_sid"):
            form["MessagingServiceSid"] = config["messaging_service_sid"]
        else:
            form["From"] = config["from_number"]

        # TODO: pass StatusCallback and record Twilio's delivery receipts;
        # until then "sent" means Twilio accepted the message, not that the
        # handset got it.
        reply = http.post(url, data=form, auth=(account_sid, token), secrets=(token,))
        return _result(reply, (token,), envelope)


def _check_sender(config: dict[str, Any]) -> dict[str, str]:
    """Errors of the sender settings: exactly one of the two, each well formed."""
    number = config.get("from_number") or ""
    service = config.get("messaging_service_sid") or ""
    if number and service:
        return {
            "config.messaging_service_sid": _(
                "Give from_number or messaging_service_sid, not both."
            )
        }
    if not number and not service:
        return {"config.from_number": _("Give from_number or messaging_service_sid.")}
    if service:
        if not isinstance(service, str) or not MESSAGING_SERVICE_SID.fullmatch(service):
            return {
                "config.messaging_service_sid": _(
                    "A messaging service SID is MG followed by 32 hexadecimal "
                    "characters."
                )
            }
        return {}
    try:
        config["from_number"] = clean_phone_number(str(number), "config.from_number")
    except ValidationError as exc:
        return {"config.from_number": exc.message_dict["config.from_number"][0]}
    return {}


def _result(
    reply: HttpReply, secrets: tuple[str, ...], envelope: Envelope
) -> DeliveryResult:
    """Decide from the status and Twilio's error code; raise `DeliveryError`."""
    data = reply.json()
    data = data if isinstance(data, dict) else {}
    shown = excerpt(reply.text, secrets)
    if 200 <= reply.status < 300:
        sid = data.get("sid")
        if isinstance(sid, str) and sid:
            return DeliveryResult(
                provider_message_id=sid, status_code=reply.status, reply_excerpt=shown
            )
        # Twilio accepted something but did not say what: it may send it.
        logger.warning(
            "Twilio answered HTTP %d without a message sid for notification %s",
            reply.status,
            envelope.notification_id,
        )
        raise DeliveryError(
            f"Twilio answered HTTP {reply.status} without a message sid; the "
            "message may have been sent.",
            permanent=False,
            unknown=True,
            status_code=reply.status,
            reply_excerpt=shown,
        )

    code = as_int(data.get("code"))
    if code in ERRORS:
        permanent, wait, message = ERRORS[code]
        retry_after = None
        if not permanent:
            # Retry-After when Twilio sends one, the table's floor otherwise.
            retry_after = max(reply.retry_after() or 0.0, wait or 0.0) or None
        raise DeliveryError(
            message,
            permanent=permanent,
            retry_after=retry_after,
            status_code=reply.status,
            provider_code=str(code),
            reply_excerpt=shown,
            credential_dead=code == DEAD_CREDENTIAL,
        )
    raise _by_status(reply, data, shown, secrets)


def _by_status(
    reply: HttpReply, data: dict[str, Any], shown: str, secrets: tuple[str, ...]
) -> DeliveryError:
    """An error Twilio's code does not settle, decided by the HTTP status."""
    code = str(data.get("code", ""))
    said = excerpt(str(data.get("message", "")), secrets, 200)
    details: dict[str, Any] = {
        "status_code": reply.status,
        "provider_code": code,
        "reply_excerpt": shown,
    }
    if reply.status == 429:
        return DeliveryError(
            "Twilio is throttling this account (HTTP 429).",
            permanent=False,
            retry_after=reply.retry_after(),
            **details,
        )
    if reply.status == 504:
        # A gateway timeout: the request went on to Twilio, which may have
        # created the message after the gateway stopped waiting.
        return DeliveryError(
            "Twilio's gateway timed out (HTTP 504); the message may have been sent.",
            permanent=False,
            unknown=True,
            **details,
        )
    if reply.status >= 500:
        return DeliveryError(
            f"Twilio answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            **details,
        )
    if reply.status == 401:
        return DeliveryError(
            "Twilio refused the credentials (HTTP 401).",
            permanent=True,
            credential_dead=True,
            **details,
        )
    return DeliveryError(
        f"Twilio refused the message (HTTP {reply.status}, code {code or '-'}): {said}",
        permanent=True,
        **details,
    )
