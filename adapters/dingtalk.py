"""DingTalk custom robots: text and markdown messages, signed when configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
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

HOSTS = ("oapi.dingtalk.com",)
SEND_PATH = re.compile(r"/robot/send")
MESSAGE_TYPES = ("text", "markdown")
ALL = "all"
USER_ID = re.compile(r"[A-Za-z0-9_.$:-]{1,64}")
# A mainland mobile, or any number written with its country code.
MOBILE = re.compile(r"1\d{10}|\+\d{6,15}")
THROTTLED_SECONDS = 600.0

# Codes a DingTalk robot answers with HTTP 200, from the custom robot guide
# (open.dingtalk.com/document/orgapp/custom-robot-access) and its error code
# list (open.dingtalk.com/document/orgapp/server-api-error-codes-1):
# (permanent, seconds to wait, credential dead, message). Keyed on errcode
# only: the errmsg wording changes over time.
ERRORS: dict[int, tuple[bool, float | None, bool, str]] = {
    310000: (
        True,
        None,
        False,
        "DingTalk's security check failed: keywords, signature, timestamp or "
        "IP allowlist.",
    ),
    410100: (
        False,
        THROTTLED_SECONDS,
        False,
        "DingTalk says the robot sends too fast.",
    ),
    130101: (False, THROTTLED_SECONDS, False, "DingTalk throttled the robot."),
    400013: (True, None, True, "DingTalk says the robot's group was disbanded."),
    400101: (True, None, True, "DingTalk does not know the robot's access token."),
    400102: (True, None, True, "DingTalk says the robot is disabled."),
    400105: (True, None, False, "DingTalk does not support this message type."),
    400106: (True, None, True, "DingTalk says the robot does not exist."),
    430101: (True, None, False, "DingTalk refused a link in the message as unsafe."),
    430102: (True, None, False, "DingTalk refused the message's content."),
    430103: (True, None, False, "DingTalk refused the message's content."),
    430104: (True, None, False, "DingTalk refused the message's content."),
    300001: (True, None, True, "DingTalk says the access token does not exist."),
    300005: (True, None, True, "DingTalk says the access token does not exist."),
    -1: (False, None, False, "DingTalk is busy (system busy)."),
}
SECURITY_CHECK = 310000


def sign(timestamp: int, secret: str) -> str:
    """DingTalk's signature, raw base64: HMAC-SHA256 keyed by the secret.

    The message is "timestamp\\nsecret". The caller percent-encodes it once,
    by passing it in `params=`.
    """
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def split_recipient(recipient: str) -> list[str]:
    """The mentions in a comma-, semicolon- or space-separated recipient."""
    parts = [part for part in re.split(r"[\s,;]+", recipient or "") if part]
    return list(dict.fromkeys(parts))


def at_field(recipient: str) -> dict[str, Any]:
    """The `at` object: who to mention, from a cleaned recipient."""
    parts = split_recipient(recipient)
    return {
        "atMobiles": [p for p in parts if MOBILE.fullmatch(p)],
        "atUserIds": [p for p in parts if p != ALL and not MOBILE.fullmatch(p)],
        "isAtAll": ALL in parts,
    }


@register
class DingTalkAdapter(ChannelAdapter):
    kind = "dingtalk"
    label = gettext_lazy("DingTalk custom robot")
    config_optional = {"message_type": "text"}
    secrets_required = ("webhook_url",)
    secrets_optional = ("signing_secret",)
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
        query = parse_qs(urlsplit(url).query)
        if not query.get("access_token", [""])[0]:
            raise field_error(
                "secrets.webhook_url",
                _("The URL lacks the robot's access_token=... parameter."),
            )
        if "timestamp" in query or "sign" in query:
            raise field_error(
                "secrets.webhook_url",
                _(
                    "Give the URL without timestamp and sign; Orion signs each "
                    "request with the signing secret."
                ),
            )
        secret = secrets.get("signing_secret", "")
        if secret and not secret.startswith("SEC"):
            raise field_error(
                "secrets.signing_secret",
                _("A DingTalk signing secret starts with SEC."),
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
                "Give DingTalk mobiles or user ids to mention, or all; "
                "not valid: %(invalid)s."
            )
            raise ValidationError(
                {"recipient": [message % {"invalid": ", ".join(bad)}]}
            )
        return ",".join(parts)

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        # TODO: refuse over-long messages. DingTalk documents no size limit
        # for robot messages that we could confirm (shared/providers.md has
        # none), and guessing one would refuse messages DingTalk accepts.
        if not body.strip():
            raise ValidationError({"body": [_("A DingTalk message cannot be empty.")]})

    def payload(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> dict[str, Any]:
        """The JSON body for the channel's message type."""
        at = at_field(recipient)
        if config.get("message_type", "text") == "markdown":
            return {
                "msgtype": "markdown",
                "markdown": {
                    "title": title(subject, body),
                    "text": _markdown_text(subject, body, at),
                },
                "at": at,
            }
        text = f"{subject}\n{body}" if subject else body
        return {"msgtype": "text", "text": {"content": text}, "at": at}

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        payload = self.payload(
            envelope.config, envelope.subject, envelope.body, envelope.recipient
        )
        url = envelope.secrets["webhook_url"]
        secret = envelope.secrets.get("signing_secret", "")
        secrets = tuple(envelope.secrets.values())
        try:
            return _deliver(http, url, payload, secret, secrets)
        except DeliveryError as exc:
            if exc.provider_code != str(SECURITY_CHECK) or not secret:
                raise
        # 310000 also covers a timestamp outside the hour DingTalk allows (a
        # clock that was off when we signed). Sign once more with a fresh
        # timestamp; a second refusal is final.
        return _deliver(http, url, payload, secret, secrets)


def title(subject: str, body: str) -> str:
    """A markdown message's title: the subject, else the body's first line."""
    if subject.strip():
        return subject.strip()
    for line in body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line
    return "Orion"


def _markdown_text(subject: str, body: str, at: dict[str, Any]) -> str:
    text = f"### {subject}\n\n{body}" if subject.strip() else body
    # DingTalk only highlights a mention in markdown when "@<mobile>" or
    # "@<userid>" also appears in the text (its message type guide).
    names = [*at["atMobiles"], *at["atUserIds"]]
    if names:
        text += "\n\n" + " ".join(f"@{name}" for name in names)
    return text


def _deliver(
    http: HttpClient,
    url: str,
    payload: dict[str, Any],
    secret: str,
    secrets: tuple[str, ...],
) -> DeliveryResult:
    params: dict[str, str] = {}
    if secret:
        timestamp = int(time.time() * 1000)
        # Raw base64: requests percent-encodes params exactly once.
        params = {"timestamp": str(timestamp), "sign": sign(timestamp, secret)}
    reply = http.post(
        url,
        params=params,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        secrets=secrets,
    )
    return _result(reply, secrets)


def _result(reply: HttpReply, secrets: tuple[str, ...]) -> DeliveryResult:
    """Decide from the body: DingTalk answers business errors with HTTP 200."""
    shown = excerpt(reply.text, secrets)
    if 300 <= reply.status < 400:
        raise DeliveryError(
            f"DingTalk answered with a redirect (HTTP {reply.status}), which "
            "Orion does not follow; check the channel's webhook URL.",
            permanent=True,
            status_code=reply.status,
            reply_excerpt=shown,
        )
    if reply.status == 429 or reply.status >= 500:
        raise DeliveryError(
            f"DingTalk answered HTTP {reply.status}.",
            permanent=False,
            retry_after=reply.retry_after(),
            status_code=reply.status,
            reply_excerpt=shown,
        )
    data = reply.json()
    if not isinstance(data, dict) or "errcode" not in data:
        logger.warning(
            "DingTalk answered HTTP %s without its JSON reply: %s", reply.status, shown
        )
        raise DeliveryError(
            f"DingTalk answered HTTP {reply.status} without its JSON reply.",
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
            f"DingTalk refused the message (errcode {data['errcode']}).",
        ),
    )
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
