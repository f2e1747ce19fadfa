"""What the group-bot adapters (Feishu, WeCom, DingTalk) share.

All three take a JSON POST on a webhook URL and answer business errors with
HTTP 200 and a result code in the body (shared/providers.md), so a reply is
judged in two steps: by its HTTP status and shape (`read_reply`), then by
its code, against the adapter's own error table (`BotReply.refusal`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from adapters.base import (
    ChannelAdapter,
    DeliveryError,
    DeliveryResult,
    as_int,
    check_provider_url,
    excerpt,
    field_error,
)
from adapters.http import HttpReply, status_error

logger = logging.getLogger(__name__)

# A mainland mobile, or any number written with its country code.
MOBILE = re.compile(r"1\d{10}|\+\d{6,15}")


class Refusal(NamedTuple):
    """A row of an adapter's error table: what a retry can do about a code."""

    message: str
    permanent: bool = True
    retry_after: float | None = None
    credential_dead: bool = False


class StaleSignature(DeliveryError):
    """A refusal that a request signed again, with a fresh timestamp, may pass."""


@dataclasses.dataclass(frozen=True)
class BotReply:
    """A bot's reply that carries its result code."""

    provider: str
    status: int
    code_name: str
    code: object
    data: Mapping[str, Any]
    excerpt: str

    @property
    def number(self) -> int | None:
        """The code as an int: providers send a number, sometimes a string."""
        return as_int(self.code)

    @property
    def ok(self) -> bool:
        return self.number == 0 and self.status < 300

    def sent(self) -> DeliveryResult:
        return DeliveryResult(
            status_code=self.status, provider_code="0", reply_excerpt=self.excerpt
        )

    def refusal(self, errors: Mapping[int, Refusal], said: str = "") -> Refusal:
        """The table's row for the code; a code it lacks is permanent."""
        number = self.number
        if number is not None and number in errors:
            return errors[number]
        message = f"{self.provider} refused the message ({self.code_name} {self.code})"
        return Refusal(f"{message}: {said}" if said else message + ".")

    def refused(self, refusal: Refusal, *, sign_again: bool = False) -> DeliveryError:
        """The error to raise; `sign_again` makes it a `StaleSignature`."""
        error = StaleSignature if sign_again else DeliveryError
        return error(
            refusal.message,
            permanent=refusal.permanent,
            retry_after=refusal.retry_after,
            status_code=self.status,
            provider_code=str(self.code),
            reply_excerpt=self.excerpt,
            credential_dead=refusal.credential_dead,
        )


class ChatBotAdapter(ChannelAdapter):
    """A group bot behind one webhook URL; the recipient says whom to mention.

    A subclass declares the provider's name, webhook URL shape, message
    types, result-code field and mention syntax, and implements `payload()`
    and `send()`.
    """

    provider: ClassVar[str]
    hosts: ClassVar[tuple[str, ...]]
    webhook_path: ClassVar[re.Pattern[str]]
    # The query parameter of the webhook URL that carries the bot's credential.
    token_param: ClassVar[str | None] = None
    message_types: ClassVar[tuple[str, ...]]
    # The body's result code: the first of these fields present.
    code_names: ClassVar[tuple[str, ...]] = ("errcode",)
    # Mentions `clean_recipient` accepts besides mobiles: `everyone` and
    # user ids matching `user_id`; with no `user_id`, any recipient is kept.
    everyone: ClassVar[str] = "all"
    user_id: ClassVar[re.Pattern[str] | None] = None
    # Says which mentions are not valid, in an `%(invalid)s` placeholder.
    invalid_mentions: ClassVar[str | Promise] = ""

    config_optional = {"message_type": "text"}
    secrets_required = ("webhook_url",)
    resend_after_unknown = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        if config["message_type"] not in self.message_types:
            raise field_error(
                "config.message_type",
                _("Choose one of: %(choices)s")
                % {"choices": ", ".join(self.message_types)},
            )
        check_provider_url(
            secrets["webhook_url"], "secrets.webhook_url", self.hosts, self.webhook_path
        )
        query = parse_qs(urlsplit(secrets["webhook_url"]).query)
        if self.token_param and not query.get(self.token_param, [""])[0]:
            raise field_error(
                "secrets.webhook_url",
                _("The URL lacks the robot's %(param)s=... parameter.")
                % {"param": self.token_param},
            )

    def clean_recipient(self, recipient: str) -> str:
        recipient = super().clean_recipient(recipient)
        if self.user_id is None:
            return recipient
        parts = split_recipient(recipient)
        bad = [
            part
            for part in parts
            if part != self.everyone
            and not MOBILE.fullmatch(part)
            and not self.user_id.fullmatch(part)
        ]
        if bad:
            message = self.invalid_mentions % {"invalid": ", ".join(bad)}
            raise ValidationError({"recipient": [message]})
        return ",".join(parts)

    def payload(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> dict[str, Any]:
        """The JSON body for the channel's message type."""
        raise NotImplementedError

    def read_reply(
        self, reply: HttpReply, secrets: Iterable[str], notification_id: uuid.UUID
    ) -> BotReply:
        """The reply's result code, or raise.

        Raise `DeliveryError` when the status alone decides (a redirect, 429,
        5xx) and when the body carries no code: a proxy's page is no answer,
        so a 2xx without one is transient and a 4xx without one permanent.
        """
        shown = excerpt(reply.text, secrets)
        fix = "check the channel's webhook URL"
        error = status_error(reply, self.provider, fix=fix, reply_excerpt=shown)
        if error is not None:
            raise error
        data = reply.json()
        names = [n for n in self.code_names if isinstance(data, dict) and n in data]
        if not names:
            logger.warning(
                "%s answered HTTP %s without a result code for notification %s: %s",
                self.provider,
                reply.status,
                notification_id,
                shown,
            )
            raise DeliveryError(
                f"{self.provider} answered HTTP {reply.status} without a JSON body "
                "carrying its result code.",
                permanent=reply.status >= 400,
                status_code=reply.status,
                reply_excerpt=shown,
            )
        code = data[names[0]]
        return BotReply(self.provider, reply.status, names[0], code, data, shown)

    def signed_once_more(
        self, deliver: Callable[[], DeliveryResult], signing: bool
    ) -> DeliveryResult:
        """`deliver()`, and once more when a signed request is refused as stale.

        A clock that was off when the request was signed is the one refusal
        a fresh timestamp can get past; a second refusal is final.
        """
        try:
            return deliver()
        except StaleSignature:
            if not signing:
                raise
        return deliver()


def split_recipient(recipient: str) -> list[str]:
    """The mentions in a comma-, semicolon- or space-separated recipient."""
    parts = [part for part in re.split(r"[\s,;]+", recipient or "") if part]
    return list(dict.fromkeys(parts))


def split_mentions(recipient: str) -> tuple[list[str], list[str]]:
    """(user ids, mobiles) to mention; "everyone" is kept among the user ids."""
    users: list[str] = []
    mobiles: list[str] = []
    for part in split_recipient(recipient):
        (mobiles if MOBILE.fullmatch(part) else users).append(part)
    return users, mobiles
