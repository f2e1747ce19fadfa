"""Feishu (and Lark) custom bots: text, rich-text post and card messages."""

from __future__ import annotations

import base64
import copy
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
from adapters.base import DeliveryError, DeliveryResult, Envelope, RateLimit, excerpt
from adapters.chatbot import BotReply, ChatBotAdapter, Refusal, split_recipient
from adapters.http import HttpClient, json_body

MAX_BODY_BYTES = 20 * 1024

# Business codes a Feishu bot answers with HTTP 200, from the custom bot guide
# (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot), with what a
# retry can do about each.
ERRORS: dict[int, Refusal] = {
    9499: Refusal("Feishu refused the body as malformed or over 20 KB."),
    19021: Refusal("Feishu refused the signature or its timestamp."),
    19022: Refusal("Feishu refused the sending IP address (bot IP allowlist)."),
    19024: Refusal("The message lacks the bot's required keywords."),
    19001: Refusal(
        "Feishu says the bot's webhook token is invalid.", credential_dead=True
    ),
    11232: Refusal("Feishu rate-limited the bot.", permanent=False, retry_after=10.0),
}
SIGNATURE_ERROR = 19021


def sign(timestamp: int, secret: str) -> str:
    """Feishu's signature: the key is "timestamp\\nsecret" and the message empty."""
    key = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(key, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@register
class FeishuAdapter(ChatBotAdapter):
    kind = "feishu"
    label = gettext_lazy("Feishu / Lark bot")
    secrets_optional = ("signing_secret",)
    rate_limits = (RateLimit(5, 1), RateLimit(100, 60))
    provider = "Feishu"
    hosts = ("open.feishu.cn", "open.larksuite.com")
    webhook_path = re.compile(r"/open-apis/bot/v2/hook/[A-Za-z0-9_-]+")
    message_types = ("text", "post", "interactive")
    # Older bots answer with StatusCode only.
    code_names = ("code", "StatusCode")

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        try:
            payload = self.payload(config, subject, body, recipient)
        except ValueError as exc:
            raise ValidationError({"body": [str(exc)]}) from None
        # Count the body as signed (a channel may gain a signing secret later)
        # so the limit is enforced at creation, not discovered at send time.
        size = len(json_body(_signed(payload, "", int(time.time()))))
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
        users = split_recipient(recipient)
        message_type = config.get("message_type", "text")
        if message_type == "post":
            return _post(subject, body, users)
        if message_type == "interactive":
            return _card(subject, body, users)
        return _text(subject, body, users)

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        try:
            payload = self.payload(
                envelope.config, envelope.subject, envelope.body, envelope.recipient
            )
        except ValueError as exc:
            # Refused at creation; only a channel changed since then gets here.
            raise DeliveryError(str(exc), permanent=True) from None
        secret = envelope.secrets.get("signing_secret", "")
        secrets = tuple(envelope.secrets.values())

        def deliver() -> DeliveryResult:
            signed = _signed(payload, secret, int(time.time())) if secret else payload
            reply = http.post_json(
                envelope.secrets["webhook_url"], signed, secrets=secrets
            )
            bot = self.read_reply(reply, secrets, envelope.notification_id)
            return _result(bot, secrets)

        return self.signed_once_more(deliver, signing=bool(secret))


def _signed(payload: dict[str, Any], secret: str, timestamp: int) -> dict[str, Any]:
    return {**payload, "timestamp": str(timestamp), "sign": sign(timestamp, secret)}


def _result(bot: BotReply, secrets: tuple[str, ...]) -> DeliveryResult:
    """Decide from the body: Feishu answers business errors with HTTP 200.

    Raise `StaleSignature` for 19021, which also means "timestamp outside
    one hour": a clock that was off when the request was signed.
    """
    if bot.ok:
        return bot.sent()
    # The provider's words may quote the request (and its URL).
    said = excerpt(str(bot.data.get("msg", "")), secrets, 200)
    raise bot.refused(
        bot.refusal(ERRORS, said), sign_again=bot.number == SIGNATURE_ERROR
    )


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
    """A card: the body itself when it is a card's JSON, else a markdown card.

    Mentions go in a markdown element at the card's end. Raise `ValueError`
    for a body that is broken card JSON, or a card with no element list to
    put mentions in.
    """
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
        if users:
            card = _with_mentions(card, users)
        return {"msg_type": "interactive", "card": card}
    text = body
    if users:
        text += "\n" + _card_at_tags(users)
    card = {
        "schema": "2.0",
        "header": {"title": {"tag": "plain_text", "content": subject or "Orion"}},
        "body": {"elements": [{"tag": "markdown", "content": text}]},
    }
    return {"msg_type": "interactive", "card": card}


def _with_mentions(card: dict[str, Any], users: list[str]) -> dict[str, Any]:
    """A copy of `card` with a markdown element of at-tags appended.

    Schema 2.0 cards keep their elements in `body.elements`, older ones in
    `elements`; a card with neither (a template, `i18n_elements`) gets a
    `ValueError`, so its mentions are refused rather than dropped.
    """
    card = copy.deepcopy(card)
    body = card.get("body")
    if isinstance(body, dict) and isinstance(body.get("elements"), list):
        elements = body["elements"]
    elif isinstance(card.get("elements"), list):
        elements = card["elements"]
    else:
        raise ValueError(
            _(
                "This card has no elements list (body.elements or elements) to "
                "add the recipient's mentions to; put the at-tags in the card "
                "yourself and leave the recipient empty."
            )
        )
    elements.append({"tag": "markdown", "content": _card_at_tags(users)})
    return card


def _card_at_tags(users: list[str]) -> str:
    # A card's markdown has its own mention tag, not a text message's
    # <at user_id="...">: its markdown guide (open.feishu.cn/document/
    # common-capabilities/message-card/message-cards-content/
    # using-markdown-tags) gives <at id=ou_xxx></at> and <at id=all></at>.
    return " ".join(f"<at id={user}></at>" for user in users)
