"""WeCom (WeChat Work) group robots: text and markdown messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adapters import register
from adapters.base import DeliveryResult, Envelope, RateLimit
from adapters.chatbot import BotReply, ChatBotAdapter, Refusal, split_mentions
from adapters.http import HttpClient

# Counted in UTF-8 bytes of the content field, a CJK character being 3.
MAX_CONTENT_BYTES = {"text": 2048, "markdown": 4096}
ALL = "@all"

# Business codes a WeCom robot answers with HTTP 200, from the group robot
# guide (developer.work.weixin.qq.com/document/path/91770) and WeCom's global
# error codes (.../document/path/90313), with what a retry can do about each.
ERRORS: dict[int, Refusal] = {
    93000: Refusal(
        "WeCom says the robot's webhook key is invalid.", credential_dead=True
    ),
    45009: Refusal(
        "WeCom rate-limited the robot (api freq out of limit).",
        permanent=False,
        retry_after=60.0,
    ),
    40008: Refusal("WeCom refused the message type."),
    -1: Refusal("WeCom is busy (system busy).", permanent=False),
}
BUSY = -1
# WeCom's guide says to retry "system busy" at most three times.
MAX_BUSY_RETRIES = 3


@register
class WeComAdapter(ChatBotAdapter):
    kind = "wecom"
    label = gettext_lazy("WeCom group robot")
    rate_limits = (RateLimit(20, 60),)
    provider = "WeCom"
    hosts = ("qyapi.weixin.qq.com",)
    webhook_path = re.compile(r"/cgi-bin/webhook/send")
    token_param = "key"
    message_types = ("text", "markdown")
    everyone = ALL
    # Letters, digits and _-@. , starting with a letter or digit.
    user_id = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
    invalid_mentions = gettext_lazy(
        "Give WeCom user ids or mobiles to mention, or @all; not valid: %(invalid)s."
    )

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        message_type = config.get("message_type", "text")
        users, mobiles = split_mentions(recipient)
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
        users, mobiles = split_mentions(recipient)
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
        reply = http.post_json(
            envelope.secrets["webhook_url"], payload, secrets=secrets
        )
        bot = self.read_reply(reply, secrets, envelope.notification_id)
        return _result(bot, envelope.attempt)


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


def _result(bot: BotReply, attempt: int) -> DeliveryResult:
    """Decide from the body: WeCom answers business errors with HTTP 200."""
    if bot.ok:
        return bot.sent()
    refusal = bot.refusal(ERRORS)
    # `attempt` counts every attempt of this notification, whatever failed
    # before, so this gives up after at most three retries in all.
    if bot.number == BUSY and attempt > MAX_BUSY_RETRIES:
        refusal = refusal._replace(
            permanent=True,
            message=f"{refusal.message} Gave up after {MAX_BUSY_RETRIES} "
            "retries, as WeCom advises.",
        )
    raise bot.refused(refusal)
