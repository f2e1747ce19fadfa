"""DingTalk custom robots: text and markdown messages, signed when configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import DeliveryResult, Envelope, RateLimit, field_error
from adapters.chatbot import BotReply, ChatBotAdapter, Refusal, split_mentions
from adapters.http import HttpClient

ALL = "all"
THROTTLED_SECONDS = 600.0

# Codes a DingTalk robot answers with HTTP 200, from the custom robot guide
# (open.dingtalk.com/document/orgapp/custom-robot-access) and its error code
# list (open.dingtalk.com/document/orgapp/server-api-error-codes-1), with
# what a retry can do about each. Keyed on errcode: the errmsg wording
# changes over time.
ERRORS: dict[int, Refusal] = {
    310000: Refusal(
        "DingTalk's security check failed: keywords, signature, timestamp or "
        "IP allowlist."
    ),
    410100: Refusal(
        "DingTalk says the robot sends too fast.",
        permanent=False,
        retry_after=THROTTLED_SECONDS,
    ),
    130101: Refusal(
        "DingTalk throttled the robot.",
        permanent=False,
        retry_after=THROTTLED_SECONDS,
    ),
    400013: Refusal(
        "DingTalk says the robot's group was disbanded.", credential_dead=True
    ),
    400101: Refusal(
        "DingTalk does not know the robot's access token.", credential_dead=True
    ),
    400102: Refusal("DingTalk says the robot is disabled.", credential_dead=True),
    400105: Refusal("DingTalk does not support this message type."),
    400106: Refusal("DingTalk says the robot does not exist.", credential_dead=True),
    430101: Refusal("DingTalk refused a link in the message as unsafe."),
    430102: Refusal("DingTalk refused the message's content."),
    430103: Refusal("DingTalk refused the message's content."),
    430104: Refusal("DingTalk refused the message's content."),
    300001: Refusal(
        "DingTalk says the access token does not exist.", credential_dead=True
    ),
    300005: Refusal(
        "DingTalk says the access token does not exist.", credential_dead=True
    ),
    -1: Refusal("DingTalk is busy (system busy).", permanent=False),
}
SECURITY_CHECK = 310000
# 310000 stands for a missing keyword, a bad signature, a stale timestamp or
# an address outside the IP allowlist alike; only errmsg tells them apart,
# and its wording changes over time (English, then structured Chinese). Only
# a stale timestamp can pass when signed again, so the request is signed
# again only when errmsg plausibly names the timestamp; any other wording,
# or one not recognised, is final at once.
TIMESTAMP_WORDS = re.compile(r"time\s*stamp|时间戳", re.IGNORECASE)


def sign(timestamp: int, secret: str) -> str:
    """DingTalk's signature, raw base64: HMAC-SHA256 keyed by the secret.

    The message is "timestamp\\nsecret". The caller percent-encodes it once,
    by passing it in `params=`.
    """
    message = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def at_field(recipient: str) -> dict[str, Any]:
    """The `at` object: who to mention, from a cleaned recipient."""
    users, mobiles = split_mentions(recipient)
    return {
        "atMobiles": mobiles,
        "atUserIds": [user for user in users if user != ALL],
        "isAtAll": ALL in users,
    }


@register
class DingTalkAdapter(ChatBotAdapter):
    kind = "dingtalk"
    label = gettext_lazy("DingTalk custom robot")
    secrets_optional = ("signing_secret",)
    rate_limits = (RateLimit(20, 60),)
    provider = "DingTalk"
    hosts = ("oapi.dingtalk.com",)
    webhook_path = re.compile(r"/robot/send")
    token_param = "access_token"
    message_types = ("text", "markdown")
    everyone = ALL
    user_id = re.compile(r"[A-Za-z0-9_.$:-]{1,64}")
    invalid_mentions = gettext_lazy(
        "Give DingTalk mobiles or user ids to mention, or all; not valid: %(invalid)s."
    )

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        super().validate_config(config, secrets)
        query = parse_qs(urlsplit(secrets["webhook_url"]).query)
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
        secret = envelope.secrets.get("signing_secret", "")
        secrets = tuple(envelope.secrets.values())

        def deliver() -> DeliveryResult:
            params: dict[str, str] = {}
            if secret:
                timestamp = int(time.time() * 1000)
                # Raw base64: requests percent-encodes params exactly once.
                params = {"timestamp": str(timestamp), "sign": sign(timestamp, secret)}
            reply = http.post_json(
                envelope.secrets["webhook_url"],
                payload,
                params=params,
                secrets=secrets,
            )
            return _result(self.read_reply(reply, secrets, envelope.notification_id))

        return self.signed_once_more(deliver, signing=bool(secret))


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


def _result(bot: BotReply) -> DeliveryResult:
    """Decide from the body: DingTalk answers business errors with HTTP 200.

    Raise `StaleSignature` for a 310000 whose errmsg names the timestamp.
    """
    if bot.ok:
        return bot.sent()
    stale = bot.number == SECURITY_CHECK and bool(
        TIMESTAMP_WORDS.search(str(bot.data.get("errmsg", "")))
    )
    raise bot.refused(bot.refusal(ERRORS), sign_again=stale)
