"""The contract between Orion's delivery pipeline and one kind of channel."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from adapters.http import HttpClient


class Outcome(enum.StrEnum):
    """How one delivery attempt ended, as recorded on `DeliveryAttempt`."""

    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """At most `count` sends per `seconds`, shared by every worker on every host."""

    count: int
    seconds: int

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "seconds": self.seconds}


@dataclasses.dataclass(frozen=True)
class Envelope:
    """Everything an adapter needs for one send, detached from the ORM.

    Adapters never touch models: the pipeline builds an envelope, so adapters
    can be exercised (and benchmarked) without a database.
    """

    notification_id: uuid.UUID
    channel_slug: str
    config: Mapping[str, Any]
    secrets: Mapping[str, str]
    recipient: str
    subject: str
    body: str
    html_body: str = ""
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    attempt: int = 1
    created_at: datetime.datetime | None = None
    # A value the adapter chose on an earlier attempt and asked the pipeline to
    # keep (an email Message-ID, a webhook-id), so every retry reuses it.
    provider_message_id: str = ""


@dataclasses.dataclass
class DeliveryResult:
    """A send the provider accepted."""

    provider_message_id: str = ""
    status_code: int | None = None
    provider_code: str = ""
    reply_excerpt: str = ""


class DeliveryError(Exception):
    """A send that did not go through.

    `permanent` says whether trying again can help; `retry_after` is the delay
    in seconds the provider asked for, if any. `unknown` marks a request that
    may have reached the provider before it failed (a read timeout, a reset
    connection): whether to try again then is the adapter's
    `resend_after_unknown` decision, not this error's.

    The message is not translated: it is stored (`last_error`, a status
    change's reason, `DeliveryAttempt.error`) once, in English, whatever
    language the worker runs in, so every record reads alike and can be
    searched.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        unknown: bool = False,
        status_code: int | None = None,
        provider_code: str = "",
        reply_excerpt: str = "",
        provider_message_id: str = "",
        disable_channel: bool = False,
        credential_dead: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.unknown = unknown
        self.status_code = status_code
        self.provider_code = provider_code
        self.reply_excerpt = reply_excerpt
        self.provider_message_id = provider_message_id
        # The provider says the destination is gone for good (a webhook's 410):
        # the pipeline disables the channel.
        self.disable_channel = disable_channel
        # The provider says the token or key is dead (a deleted bot): the
        # channel is flagged for an operator, not silently disabled.
        self.credential_dead = credential_dead

    @property
    def outcome(self) -> Outcome:
        if self.unknown:
            return Outcome.UNKNOWN
        return Outcome.PERMANENT if self.permanent else Outcome.TRANSIENT

    def __str__(self) -> str:
        return self.message


class ChannelAdapter:
    """Base class of every channel kind; subclasses register with `@register`.

    A subclass declares its keys (those of `shared/channels.md`), its default
    rate limits and whether a resend is safe after an unknown outcome, and
    implements `send()`. Validation hooks raise Django's `ValidationError`
    with a dict of field errors, so forms and the API report them per field.
    """

    kind: ClassVar[str]
    # Lazily translated: shown in the operator's language where it is read.
    label: ClassVar[str | Promise]
    config_required: ClassVar[tuple[str, ...]] = ()
    config_optional: ClassVar[Mapping[str, Any]] = {}
    secrets_required: ClassVar[tuple[str, ...]] = ()
    secrets_optional: ClassVar[tuple[str, ...]] = ()
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    # Chat bots: a duplicate message is a nuisance, a lost one is worse.
    # SMS: a duplicate costs money and confuses people, so it is False there.
    resend_after_unknown: ClassVar[bool] = True
    recipient_required: ClassVar[bool] = False
    # False where the provider fills its own template from the context
    # (Aliyun SMS): a notification may then be created without a body.
    body_required: ClassVar[bool] = True

    # -- configuration --------------------------------------------------

    def clean_config(
        self, config: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Return the config with defaults filled in and the secrets, or raise.

        Unknown keys are refused, so a typo cannot silently drop a setting.
        """
        errors: dict[str, list[str]] = {}
        allowed_config = set(self.config_required) | set(self.config_optional)
        allowed_secrets = set(self.secrets_required) | set(self.secrets_optional)
        for key in sorted(set(config) - allowed_config):
            errors.setdefault(f"config.{key}", []).append(
                _("Unknown setting for a %(kind)s channel.") % {"kind": self.kind}
            )
        for key in sorted(set(secrets) - allowed_secrets):
            errors.setdefault(f"secrets.{key}", []).append(
                _("Unknown secret for a %(kind)s channel.") % {"kind": self.kind}
            )
        for key in self.config_required:
            if config.get(key) in (None, ""):
                errors.setdefault(f"config.{key}", []).append(
                    _("This setting is required.")
                )
        for key in self.secrets_required:
            if not secrets.get(key):
                errors.setdefault(f"secrets.{key}", []).append(
                    _("This secret is required.")
                )
        if errors:
            raise ValidationError(errors)

        cleaned = {**self.config_optional, **config}
        cleaned = {k: v for k, v in cleaned.items() if v is not None}
        secrets = {k: v for k, v in secrets.items() if v}
        self.validate_config(cleaned, secrets)
        return cleaned, secrets

    def validate_config(self, config: dict[str, Any], secrets: dict[str, str]) -> None:
        """Check the shape of each setting (URLs, secret formats); raise on error."""

    # -- messages -------------------------------------------------------

    def clean_recipient(self, recipient: str) -> str:
        """Return the recipient in the form the provider takes, or raise."""
        recipient = (recipient or "").strip()
        if self.recipient_required and not recipient:
            raise ValidationError({"recipient": [_("This channel needs a recipient.")]})
        return recipient

    def validate_message(
        self, config: Mapping[str, Any], subject: str, body: str, recipient: str
    ) -> None:
        """Refuse, at creation time, a message the provider would refuse."""

    def validate_context(self, context: Mapping[str, Any]) -> None:
        """Refuse, at creation time, a context the provider would refuse.

        Only adapters that send the context itself (a provider-side
        template's parameters) need this; the others render it into the body.
        """

    def message_key(self, envelope: Envelope) -> str:
        """An id chosen once, before the first attempt, and kept for every retry.

        Email uses it as the `Message-ID`, webhooks as `webhook-id`, so that a
        receiver can drop a duplicate. The pipeline stores it before sending
        and passes it back as `envelope.provider_message_id`.
        """
        return ""

    def send(self, envelope: Envelope, http: HttpClient) -> DeliveryResult:
        """Deliver one envelope; return the result or raise `DeliveryError`."""
        raise NotImplementedError

    def test_envelope(self, envelope: Envelope) -> Envelope:
        """The envelope of a "test send"; adapters may adjust it."""
        return envelope


def as_int(value: object) -> int | None:
    """A provider's result code as an int (they send numbers or strings), or None."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask every secret value, and any token in a URL's path or query.

    Used on every provider reply and error message that is stored or logged:
    providers sometimes echo the request back. Without the secrets (an error
    report), the patterns below still mask each provider's webhook token.
    """
    values = {s for s in secrets if s}
    values.update(token for s in list(values) if (token := _path_token(s)))
    for secret in sorted(values, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_URL_PARTS:
        text = pattern.sub(r"\1***", text)
    return text


def _path_token(value: str) -> str:
    """The last path segment of a secret URL, where webhook tokens sit.

    A server may echo only the path ("no route for POST /hook/<token>"), so
    masking the whole URL is not enough. Short segments ("send") are kept.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    token = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return token if len(token) >= 8 else ""


_URL_SEGMENT = r"[^/?#&\s\"'<>]+"
# Where a webhook URL keeps its secret, provider by provider, so it is masked
# even where the secret itself is not at hand (orion/sentry.py): the URL
# shapes the adapters accept (`hosts` and `webhook_path` of each chat bot).
_SECRET_URL_PARTS = (
    # DingTalk's access_token=, WeCom's key=, a signature, anyone's token=.
    re.compile(
        r"((?:access_token|key|token|sign|signature|secret)=)[^&\s\"']+",
        re.IGNORECASE,
    ),
    # Feishu and Lark: /open-apis/bot/v2/hook/<token>.
    re.compile(r"(/open-apis/bot/v2/hook/)" + _URL_SEGMENT),
    # Slack: /services/<team>/<bot>/<secret>.
    re.compile(r"(/services/[A-Za-z0-9]+/[A-Za-z0-9]+/)" + _URL_SEGMENT),
    # Credentials in any URL (an SMTP URL's smtp://user:password@host).
    re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]+:)[^/@\s]+(?=@)"),
)


def excerpt(text: str, secrets: Iterable[str] = (), limit: int = 500) -> str:
    """A redacted, bounded excerpt of a provider's reply, fit to store."""
    text = redact(text, secrets)
    return text if len(text) <= limit else text[:limit] + "…"


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def private_destinations_allowed() -> bool:
    """Whether loopback and private addresses may be sent to (tests, on-premise)."""
    from django.conf import settings

    return bool(getattr(settings, "ORION_ALLOW_PRIVATE_DESTINATIONS", False))


def check_provider_url(
    url: str, field: str, hosts: Iterable[str], path: re.Pattern[str]
) -> None:
    """Refuse a provider URL on another host or with the wrong path shape.

    With private destinations allowed, any http(s) host is accepted so a
    fake provider (or an on-premise relay) can stand in; the path still has
    to match, which catches a URL pasted from the wrong provider.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    if private_destinations_allowed():
        host_ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    else:
        host_ok = parts.scheme == "https" and parts.hostname in set(hosts)
    if not host_ok:
        raise field_error(
            field,
            _("Expected an https URL on %(hosts)s.")
            % {"hosts": get_text_list(sorted(hosts))},
        )
    if not path.fullmatch(parts.path):
        raise field_error(field, _("This URL does not have the provider's path shape."))


def check_base_url(url: str, field: str, domain: str) -> None:
    """Refuse a provider base URL that is not https on `domain` or a subdomain.

    A base URL has no path, query or credentials. With private destinations
    allowed, any http(s) host is accepted, so a fake provider can stand in.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url or "")
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise field_error(field, _("This is not a valid URL.")) from None
    host = (parts.hostname or "").lower()
    if private_destinations_allowed():
        host_ok = parts.scheme in ("http", "https") and bool(host)
    else:
        on_domain = host == domain or host.endswith("." + domain)
        host_ok = parts.scheme == "https" and on_domain
    if not host_ok or not port_ok:
        raise field_error(
            field, _("Expected an https URL on %(hosts)s.") % {"hosts": domain}
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise field_error(field, _("Give the base URL only, without a path or query."))
    if parts.username or parts.password:
        raise field_error(field, _("Do not put credentials in the URL."))
