"""WeCom (WeChat Work) group robots: text and markdown messages."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

logger = logging.getLogger(__name__)

HOSTS = ("qyapi.weixin.qq.com",)
SEND_PATH = re.compile(r"/cgi-bin/webhook/send")
MESSAGE_TYPES = ("text", "markdown")
# Counted in UTF-8 bytes of the content field, a CJK character being 3.
MAX_CONTENT_BYTES = {"text": 2048, "markdown": 4096}
ALL = "@all"
# WeCom user ids: letters, digits and _-@. , starting with a letter or digit.
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
# A mainland mobile, or any number written with its country code.
MOBILE = re.compile(r"1\d{10}|\+\d{6,15}")

# Business codes a WeCom robot answers with HTTP 200, from the group robot
# guide (developer.work.weixin.qq.com/document/path/91770) and WeCom's global
# error codes (.../document/path/90313): (permanent, seconds to wait,
# credential dead, message).
ERRORS: dict[int, tuple[bool, float | None, bool, str]] = {
    93000: (True, None, True, "WeCom says the robot's webhook key is invalid."),
    45009: (
        False,
        60.0,
        False,
        "WeCom rate-limited the robot (api freq out of limit).",
    ),
    40008: (True, None, False, "WeCom refused the message type."),
    -1: (False, None, False, "WeCom is busy (system busy)."),
}
BUSY = -1
# WeCom's guide says to retry "system busy" at most three times.
MAX_BUSY_RETRIES = 3


def split_recipient(recipient: str) -> list[str]:
    """The mentions in a comma-, semicolon- or space-separated recipient."""
    parts = [part for part in re.split(r"[\s,;]+", recipient or "") if part]
    return list(dict.fromkeys(parts))


def mentions(recipient: str) -> tuple[list[str], list[str]]:
    """(user ids, mobiles) to mention; `@all` is kept among the user ids."""
    users: list[str] = []
    mobiles: list[str] = []
    for part in split_recipient(recipient):
        (mobiles if MOBILE.fullmatch(part) else users).append(part)
    return users, mobiles


@register
class WeComAdapter(ChannelAdapter):
    kind = "wecom"
    label = gettext_lazy("WeCom group robot")
    config_optional = {"message_type": "text"}
    secrets_required = ("webhook_url",)
    rate_limits = (RateLimit(20, 60),)
    resend_after_unknown = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        if config["message_type"] not in MESSAGE_TYPES:
            raise field_error(
                "config.message_type",
                _("Choose one of: %(choices)s") % {"choices": ", ".join(MESSAGE_TYPES)},
            )
        url = secrets["webhook_url"]
        check_provider_url(url, "secrets.webhook_url", HOSTS, SEND_PATH)
        if not parse_qs(urlsplit(url).query).get("key", [""])[0]:
            raise field_error(
                "secrets.webhook_url",
                _("The URL lacks the robot's key=... parameter."),
            )

    def clean_recipient(self, recipient: str) -> str:
        parts = split_recipient(super().clean_recipient(recipient))
        bad = [
            p
            for p in parts
            if p != ALL and not MOBILE.fullmatch(p) and not USER_ID.fullmatch(p)
        ]
        if bad:
            message = _(
                "Give WeCom user ids or mobiles to mention, or @all; "
                "not valid: %(invalid)s."
            )
            raise ValidationError(
                {"recipient": [message % {"invalid": ", ".join(bad)}]}
            )
        return ",".join(parts)

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        message_type = config.get("message_type", "text")
        users, mobiles = mentions(recipient)
        if message_type == "markdown" and (mobiles or ALL in users):
            raise ValidationError(
                {
                    "recipient": [
                        _(
                            "A WeCom markdown message can mention user ids only, "
                            "not mobiles or @all; use a text channel for those."
                        )
                    ]
                }
            )

        size = len(content(message_type, subject, body, users).encode())
        limit = MAX_CONTENT_BYTES[message_type]
        if size > limit:
            message = _(
                "This message is %(size)d bytes in UTF-8; a WeCom "
                "%(type)s message takes at most %(limit)d."
            )
            raise ValidationError(
                {
                    "body": [
                        message % {"size": size, "type": message_type, "limit": limit}
                    ]
                }
            )

    def payload(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> dict[str, Any]:
        """The JSON body WeCom takes for the channel's message type."""
        message_type = config.get("message_type", "text")
        users, mobiles = mentions(recipient)
        text = content(message_type, subject, body, users)
        if message_type == "markdown":
            return {"msgtype": "markdown", "markdown": {"content": text}}
        fields: dict[str, Any] = {"content": text}
        if users:
            fields["mentioned_list"] = users
        if mobiles:
            fields["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": fields}

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        payload = self.payload(
            envelope.config, envelope.subject, envelope.body, envelope.recipient
        )
        secrets = tuple(envelope.secrets.values())
        reply = http.post(
            envelope.secrets["webhook_url"],
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            secrets=secrets,
        )
        return _result(reply, secrets, envelope.attempt)


def content(message_type: str, subject: str, body: str, users: list[str]) -> str:
    """The content field: the subject on its own line, then the body.

    Markdown has no mention list; WeCom's markdown takes `<@userid>` inline.
    """
    if message_type == "markdown":
        text = f"**{subject}**\n{body}" if subject else body
        if users:
            text += "\n" + " ".join(f"<@{user}>" for user in users)
        return text
    return f"{subject}\n{body}" if subject else body


def _result(reply: HttpReply, secrets: tuple[str, ...], attempt: int) -> DeliveryResult:
    """Decide from the body: WeCom answers business errors with HTTP 200."""
    shown = excerpt(reply.text, secrets)
    if 300 <= reply.status < 400:
        raise DeliveryError(
            f"WeCom answered with a redirect (HTTP {reply.status}), which Orion "
            "does not follow; check the channel's webhook URL.",
            permanent=True,
            status_code=reply.status,
            reply_excerpt=shown,
        )
    if reply.status == 429 or reply.status >= 500:
        raise DeliveryError(
            f"WeCom answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            status_code=reply.status,
            reply_excerpt=shown,
        )
    data = reply.json()
    if not isinstance(data, dict) or "errcode" not in data:
        logger.warning(
            "WeCom answered HTTP %s without its JSON reply: %s", reply.status, shown
        )
        raise DeliveryError(
            f"WeCom answered HTTP {reply.status} without its JSON reply.",
            permanent=reply.status >= 400,
            status_code=reply.status,
            reply_excerpt=shown,
        )
    code = _as_int(data["errcode"])
    if code == 0 and reply.status < 300:
        return DeliveryResult(
            status_code=reply.status, provider_code="0", reply_excerpt=shown
        )

    permanent, wait, dead, message = ERRORS.get(
        code,
        (
            True,
            None,
            False,
            f"WeCom refused the message (errcode {data['errcode']}).",
        ),
    )
    # `attempt` counts every attempt of this notification, whatever failed
    # before, so this gives up after at most three retries in all.
    if code == BUSY and attempt > MAX_BUSY_RETRIES:
        permanent = True
        message += f" Gave up after {MAX_BUSY_RETRIES} retries, as WeCom advises."
    raise DeliveryError(
        message,
        permanent=permanent,
        retry_after=wait,
        status_code=reply.status,
        provider_code=str(data["errcode"]),
        reply_excerpt=shown,
        credential_dead=dead,
    )


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
