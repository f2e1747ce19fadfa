"""Feishu (and Lark) custom bots: text, rich-text post and card messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
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
    check_provider_url,
    excerpt,
    field_error,
)
from adapters.http import HttpClient, HttpReply

HOSTS = ("open.feishu.cn", "open.larksuite.com")
HOOK_PATH = re.compile(r"/open-apis/bot/v2/hook/[A-Za-z0-9_-]+")
MAX_BODY_BYTES = 20 * 1024
MESSAGE_TYPES = ("text", "post", "interactive")

# Business codes a Feishu bot answers with HTTP 200, from the custom bot guide
# (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot), with what a
# retry can do about each: (permanent, seconds to wait, message).
ERRORS: dict[int, tuple[bool, float | None, str]] = {
    9499: (True, None, "Feishu refused the body as malformed or over 20 KB."),
    19021: (True, None, "Feishu refused the signature or its timestamp."),
    19022: (True, None, "Feishu refused the sending IP address (bot IP allowlist)."),
    19024: (True, None, "The message lacks the bot's required keywords."),
    19001: (True, None, "Feishu says the bot's webhook token is invalid."),
    11232: (False, 10.0, "Feishu rate-limited the bot."),
}
SIGNATURE_ERROR = 19021
DEAD_TOKEN = 19001


def sign(timestamp: int, secret: str) -> str:
    """Feishu's signature: the key is "timestamp\\nsecret" and the message empty."""
    key = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def mentions(recipient: str) -> list[str]:
    """User ids to mention, from a comma- or space-separated recipient."""
    return [part for part in re.split(r"[\s,;]+", recipient or "") if part]


@register
class FeishuAdapter(ChannelAdapter):
    kind = "feishu"
    label = gettext_lazy("Feishu / Lark bot")
    config_optional = {"message_type": "text"}
    secrets_required = ("webhook_url",)
    secrets_optional = ("signing_secret",)
    rate_limits = (RateLimit(5, 1), RateLimit(100, 60))
    resend_after_unknown = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        if config["message_type"] not in MESSAGE_TYPES:
            raise field_error(
                "config.message_type",
                _("Choose one of: %(choices)s") % {"choices": ", ".join(MESSAGE_TYPES)},
            )
        check_provider_url(
            secrets["webhook_url"], "secrets.webhook_url", HOSTS, HOOK_PATH
        )

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        try:
            payload = self.payload(config, subject, body, recipient)
        except ValueError as exc:
            raise ValidationError({"body": [str(exc)]}) from None
        # Count the body as signed (a channel may gain a signing secret later)
        # so the limit is enforced at creation, not discovered at send time.
        size = len(_encode(_signed(payload, "", int(time.time()))))
        if size > MAX_BODY_BYTES:
            message = _(
                "This message is %(size)d bytes as Feishu receives it; "
                "Feishu takes at most %(limit)d."
            )
            raise ValidationError(
                {"body": [message % {"size": size, "limit": MAX_BODY_BYTES}]}
            )

    def payload(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> dict[str, Any]:
        """The JSON body for the channel's message type, without a signature."""
        users = mentions(recipient)
        message_type = config.get("message_type", "text")
        if message_type == "post":
            return _post(subject, body, users)
        if message_type == "interactive":
            return _card(subject, body, users)
        return _text(subject, body, users)

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        payload = self.payload(
            envelope.config, envelope.subject, envelope.body, envelope.recipient
        )
        secret = envelope.secrets.get("signing_secret", "")
        secrets = tuple(envelope.secrets.values())
        try:
            return _deliver(
                http, envelope.secrets["webhook_url"], payload, secret, secrets
            )
        except DeliveryError as exc:
            if exc.provider_code != str(SIGNATURE_ERROR) or not secret:
                raise
        # 19021 also means "timestamp outside one hour": a clock that was off
        # when we signed. Sign once more with a fresh timestamp, then give up.
        return _deliver(http, envelope.secrets["webhook_url"], payload, secret, secrets)


def _deliver(
    http: HttpClient,
    url: str,
    payload: dict[str, Any],
    secret: str,
    secrets: tuple[str, ...],
) -> DeliveryResult:
    if secret:
        payload = _signed(payload, secret, int(time.time()))
    reply = http.post(
        url,
        data=_encode(payload),
        headers={"Content-Type": "application/json; charset=utf-8"},
        secrets=secrets,
    )
    return _result(reply, secrets)


def _signed(payload: dict[str, Any], secret: str, timestamp: int) -> dict[str, Any]:
    return {**payload, "timestamp": str(timestamp), "sign": sign(timestamp, secret)}


def _result(reply: HttpReply, secrets: tuple[str, ...]) -> DeliveryResult:
    """Decide from the body: Feishu answers business errors with HTTP 200."""
    data = reply.json()
    shown = excerpt(reply.text, secrets)
    if reply.status == 429 or reply.status >= 500:
        raise DeliveryError(
            f"Feishu answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            status_code=reply.status,
            reply_excerpt=shown,
        )
    if not isinstance(data, dict):
        raise DeliveryError(
            f"Feishu answered HTTP {reply.status} without a JSON body.",
            permanent=reply.status >= 400,
            status_code=reply.status,
            reply_excerpt=shown,
        )
    code = data.get("code", data.get("StatusCode"))
    if code == 0 and reply.status < 300:
        return DeliveryResult(
            status_code=reply.status, provider_code="0", reply_excerpt=shown
        )

    permanent, wait, message = ERRORS.get(
        _as_int(code),
        (
            True,
            None,
            # The provider's words may quote the request (and its URL).
            "Feishu refused the message "
            f"(code {code}): {excerpt(str(data.get('msg', '')), secrets, 200)}",
        ),
    )
    raise DeliveryError(
        message,
        permanent=permanent,
        retry_after=wait,
        status_code=reply.status,
        provider_code=str(code),
        reply_excerpt=shown,
        credential_dead=_as_int(code) == DEAD_TOKEN,
    )


def _as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return -1


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _at_tag(user: str) -> str:
    name = "all" if user == "all" else ""
    return f'<at user_id="{user}">{name}</at>'


def _text(subject: str, body: str, users: list[str]) -> dict[str, Any]:
    text = f"{subject}\n{body}" if subject else body
    if users:
        text = " ".join(_at_tag(user) for user in users) + " " + text
    return {"msg_type": "text", "content": {"text": text}}


def _post(subject: str, body: str, users: list[str]) -> dict[str, Any]:
    lines: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in body.splitlines() or [""]
    ]
    if users:
        lines.append([{"tag": "at", "user_id": user} for user in users])
    return {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": subject, "content": lines}}},
    }


def _card(subject: str, body: str, users: list[str]) -> dict[str, Any]:
    """A card: the body itself when it is a card's JSON, else a markdown card."""
    stripped = body.strip()
    if stripped.startswith("{"):
        try:
            card = json.loads(stripped)
        except ValueError:
            raise ValueError(
                _("The body starts with '{' but is not valid JSON.")
            ) from None
        if not isinstance(card, dict):
            raise ValueError(_("A card body must be a JSON object."))
        return {"msg_type": "interactive", "card": card}
    text = body
    if users:
        text += "\n" + " ".join(_at_tag(user) for user in users)
    card = {
        "schema": "2.0",
        "header": {"title": {"tag": "plain_text", "content": subject or "Orion"}},
        "body": {"elements": [{"tag": "markdown", "content": text}]},
    }
    return {"msg_type": "interactive", "card": card}
