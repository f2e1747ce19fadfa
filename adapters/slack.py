"""Slack incoming webhooks: plain text, or Block Kit blocks with a text fallback."""

from __future__ import annotations

import json
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
    check_provider_url,
    excerpt,
)
from adapters.http import HttpClient, HttpReply, status_error

logger = logging.getLogger(__name__)

HOSTS = ("hooks.slack.com",)
HOOK_PATH = re.compile(r"/services/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+")
# Slack truncates a message's text beyond 40,000 characters and refuses more
# than 50 blocks (chat.postMessage and Block Kit references); Orion refuses
# such a message instead of letting it be cut.
MAX_TEXT_CHARS = 40_000
MAX_BLOCKS = 50
FALLBACK_TEXT = "Orion notification"
# What Slack's error bodies look like; anything else is not worth keeping.
ERROR_CODE = re.compile(r"[a-z_]{1,64}")

# Slack's answers to an incoming webhook, from "Handling errors" in its
# incoming webhooks guide (api.slack.com/messaging/webhooks): HTTP status and
# a plain-text error code -> (permanent, credential dead, message). A code of
# None stands for any other body with that status. Other statuses: 429 and
# 5xx are transient, 3xx and 4xx permanent.
ERRORS: dict[tuple[int, str | None], tuple[bool, bool, str]] = {
    (400, "invalid_payload"): (True, False, "Slack refused the payload as malformed."),
    (403, "action_prohibited"): (
        True,
        False,
        "A Slack admin restriction stops this webhook from posting.",
    ),
    (403, "invalid_token"): (True, True, "Slack says the webhook's token is invalid."),
    (404, "channel_not_found"): (
        True,
        False,
        "Slack cannot find the webhook's channel.",
    ),
    (404, "no_service"): (True, True, "Slack says the webhook is disabled or gone."),
    (404, "no_team"): (True, True, "Slack says the webhook's workspace is gone."),
    (404, "team_disabled"): (
        True,
        True,
        "Slack says the webhook's workspace is disabled.",
    ),
    (410, "channel_is_archived"): (
        True,
        False,
        "The webhook's Slack channel is archived.",
    ),
    (429, None): (False, False, "Slack rate-limited the webhook."),
    (500, None): (False, False, "Slack had an internal error."),
}


@register
class SlackAdapter(ChannelAdapter):
    kind = "slack"
    label = gettext_lazy("Slack incoming webhook")
    secrets_required = ("webhook_url",)
    # Slack allows about one message per second per webhook, with bursts.
    rate_limits = (RateLimit(1, 1),)
    resend_after_unknown = True

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        check_provider_url(
            secrets["webhook_url"], "secrets.webhook_url", HOSTS, HOOK_PATH
        )

    def clean_recipient(self, recipient: str) -> str:
        if (recipient or "").strip():
            raise ValidationError(
                {
                    "recipient": [
                        _(
                            "A Slack incoming webhook posts to the channel it was "
                            "created for; leave the recipient empty."
                        )
                    ]
                }
            )
        return ""

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        try:
            payload = self.payload(subject, body)
        except ValueError as exc:
            raise ValidationError({"body": [str(exc)]}) from None
        length = len(payload["text"])
        if length > MAX_TEXT_CHARS:
            message = _(
                "This message is %(length)d characters; Slack takes at most %(limit)d."
            )
            raise ValidationError(
                {"body": [message % {"length": length, "limit": MAX_TEXT_CHARS}]}
            )
        if len(payload.get("blocks", ())) > MAX_BLOCKS:
            message = _("Slack takes at most %(limit)d blocks in a message.")
            raise ValidationError({"body": [message % {"limit": MAX_BLOCKS}]})

    def payload(self, subject: str, body: str) -> dict[str, Any]:
        """`{"text"}`, or `{"blocks", "text"}` when the body is a blocks object.

        Raise `ValueError` for a blocks object Slack would refuse.
        """
        blocks = _blocks(body)
        if blocks is None:
            return {"text": f"*{subject}*\n{body}" if subject else body}
        data = json.loads(body)
        # Notifications and screen readers show `text` where blocks cannot be.
        fallback = data.get("text") or subject or FALLBACK_TEXT
        if not isinstance(fallback, str):
            raise ValueError(_('The "text" of a blocks message must be a string.'))
        return {"text": fallback, "blocks": blocks}

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        payload = self.payload(envelope.subject, envelope.body)
        secrets = tuple(envelope.secrets.values())
        reply = http.post_json(
            envelope.secrets["webhook_url"], payload, secrets=secrets
        )
        return _result(reply, secrets, envelope)


def _blocks(body: str) -> list[dict[str, Any]] | None:
    """The blocks of a body that is a JSON object with `blocks`, else None.

    Any other body, JSON or not, is plain text: "{host} is down" is a
    message, not a malformed payload.
    """
    stripped = body.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(data, dict) or "blocks" not in data:
        return None
    blocks = data["blocks"]
    if not isinstance(blocks, list) or not blocks:
        raise ValueError(_('"blocks" must be a non-empty list of block objects.'))
    if not all(isinstance(block, dict) and "type" in block for block in blocks):
        raise ValueError(_('Each block must be an object with a "type".'))
    return blocks


def _result(
    reply: HttpReply, secrets: tuple[str, ...], envelope: Envelope
) -> DeliveryResult:
    """Success is HTTP 200 with the body `ok`; anything else is not."""
    shown = excerpt(reply.text, secrets)
    code = reply.text.strip()
    if reply.status == 200 and code == "ok":
        return DeliveryResult(
            status_code=reply.status, provider_code="ok", reply_excerpt=shown
        )
    if reply.status == 200:
        # Not Slack's answer (a proxy's page?): whether it was posted is unknown.
        logger.warning(
            "Slack answered HTTP 200 without its ok for notification %s: %s",
            envelope.notification_id,
            shown,
        )
        raise DeliveryError(
            "Slack answered HTTP 200 without its ok; the message may have been posted.",
            permanent=False,
            unknown=True,
            status_code=reply.status,
            reply_excerpt=shown,
        )

    provider_code = code if ERROR_CODE.fullmatch(code) else ""
    known = ERRORS.get((reply.status, code)) or ERRORS.get((reply.status, None))
    if known is None:
        fix = "check the channel's webhook URL"
        details = {"provider_code": provider_code, "reply_excerpt": shown}
        raise status_error(reply, "Slack", fix=fix, **details) or DeliveryError(
            f"Slack answered HTTP {reply.status}.",
            permanent=True,
            status_code=reply.status,
            **details,
        )
    permanent, dead, message = known
    raise DeliveryError(
        message,
        permanent=permanent,
        retry_after=None if permanent else reply.retry_after(),
        status_code=reply.status,
        provider_code=provider_code,
        reply_excerpt=shown,
        credential_dead=dead,
    )
