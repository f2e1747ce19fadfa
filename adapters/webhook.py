"""Generic webhooks: the notification as JSON, signed per Standard Webhooks 1.0."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import secrets as secrets_module
import time
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import (
    ChannelAdapter,
    DeliveryError,
    DeliveryResult,
    Envelope,
    excerpt,
    field_error,
)
from adapters.http import HttpClient, HttpReply, status_error
from adapters.netguard import validate_destination_url

SECRET_PREFIX = "whsec_"
EVENT_TYPE = "notification.message"
# Standard Webhooks asks senders to wait 15 to 30 seconds for an answer;
# a client configured shorter (tests) keeps its own timeout.
MAX_READ_TIMEOUT = 30.0

# What an endpoint's HTTP status means, from the Standard Webhooks 1.0 spec
# (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md,
# "Delivery behavior"): status -> (permanent, disable the channel, message).
# Statuses not listed: 2xx is success, 3xx a permanent configuration error
# (redirects are not followed), other 4xx permanent, other 5xx transient.
ERRORS: dict[int, tuple[bool, bool, str]] = {
    410: (
        True,
        True,
        "The endpoint answered 410 Gone: it no longer takes webhooks, so the "
        "channel is disabled.",
    ),
    429: (False, False, "The endpoint asked Orion to slow down (HTTP 429)."),
    502: (False, False, "The endpoint's gateway failed (HTTP 502)."),
    504: (False, False, "The endpoint's gateway timed out (HTTP 504)."),
}


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 after `whsec_`; raise `ValueError` if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(
            _("A signing secret starts with %(prefix)s.") % {"prefix": SECRET_PREFIX}
        )
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError(
            _("The part after %(prefix)s must be valid base64.")
            % {"prefix": SECRET_PREFIX}
        ) from None
    if not key:
        raise ValueError(
            _("The part after %(prefix)s is empty.") % {"prefix": SECRET_PREFIX}
        )
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and base64 HMAC-SHA256 of id.ts.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event(envelope: Envelope) -> dict[str, Any]:
    """The JSON document sent: the same on every attempt of a notification."""
    created = _iso(envelope.created_at) if envelope.created_at else None
    return {
        "type": EVENT_TYPE,
        # When the event happened, not when this attempt is made, so a
        # retried delivery carries the same body.
        "timestamp": created or _iso(datetime.datetime.now(datetime.UTC)),
        "data": {
            "id": str(envelope.notification_id),
            "channel": envelope.channel_slug,
            "recipient": envelope.recipient,
            "subject": envelope.subject,
            "body": envelope.body,
            "metadata": dict(envelope.metadata),
            "created_at": created,
        },
    }


@register
class WebhookAdapter(ChannelAdapter):
    kind = "webhook"
    label = gettext_lazy("Signed webhook")
    config_required = ("url",)
    secrets_optional = ("signing_secret",)
    resend_after_unknown = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        url = config["url"]
        if not isinstance(url, str):
            raise field_error("config.url", _("Enter an http or https URL."))
        validate_destination_url(url, "config.url")
        secret = secrets.get("signing_secret", "")
        if secret:
            try:
                secret_key(secret)
            except ValueError as exc:
                raise field_error("secrets.signing_secret", str(exc)) from None

    def message_key(self, envelope: Envelope) -> str:
        """A new `webhook-id`; the pipeline keeps it for every retry."""
        return "msg_" + secrets_module.token_urlsafe(18)

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        message_id = envelope.provider_message_id or self.message_key(envelope)
        body = json.dumps(event(envelope), ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
        }
        secret = envelope.secrets.get("signing_secret", "")
        if secret:
            headers["webhook-signature"] = sign(secret, message_id, timestamp, body)

        connect, read = http.timeout
        secrets = tuple(envelope.secrets.values())
        try:
            reply = http.post(
                envelope.config["url"],
                data=body,
                headers=headers,
                secrets=secrets,
                timeout=(connect, min(read, MAX_READ_TIMEOUT)),
            )
        except DeliveryError as exc:
            # Keep the id with the failure, so a retry reuses it even when
            # the caller did not store it before sending.
            exc.provider_message_id = exc.provider_message_id or message_id
            raise
        return _result(reply, secrets, message_id)


def _result(
    reply: HttpReply, secrets: tuple[str, ...], message_id: str
) -> DeliveryResult:
    shown = excerpt(reply.text, secrets)
    if 200 <= reply.status < 300:
        return DeliveryResult(
            provider_message_id=message_id,
            status_code=reply.status,
            reply_excerpt=shown,
        )

    details = {
        "provider_code": str(reply.status),
        "reply_excerpt": shown,
        "provider_message_id": message_id,
    }
    if reply.status not in ERRORS:
        fix = "set the channel's URL to the final address"
        raise status_error(reply, "The endpoint", fix=fix, **details) or DeliveryError(
            f"The endpoint answered HTTP {reply.status}.",
            permanent=True,
            status_code=reply.status,
            **details,
        )
    permanent, disable, message = ERRORS[reply.status]
    raise DeliveryError(
        message,
        permanent=permanent,
        retry_after=None if permanent else reply.retry_after(),
        status_code=reply.status,
        disable_channel=disable,
        **details,
    )


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
