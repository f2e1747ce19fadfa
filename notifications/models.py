"""Orion's records: channels, templates, notifications and their history."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import (
    ConcurrentTransition,
    ConcurrentTransitionMixin,
    FSMField,
    transition,
)

import adapters
from adapters.base import ChannelAdapter, RateLimit
from notifications.fields import EncryptedJSONField


class Channel(models.Model):
    """A destination an operator configured: one bot, one sender, one endpoint."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32)
    enabled = models.BooleanField(_("enabled"), default=True)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    secrets = EncryptedJSONField(_("secrets"), default=dict, blank=True)
    # Empty means the provider's documented limits (the adapter's defaults).
    rate_limit = models.JSONField(_("rate limit"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    credential_dead_at = models.DateTimeField(
        _("provider rejected the credential at"),
        null=True,
        blank=True,
        help_text=_("Set when the provider says the token or key no longer exists."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.slug

    @property
    def adapter(self) -> ChannelAdapter:
        return adapters.get_adapter(self.kind)

    def clean(self) -> None:
        """Validate kind, config, secrets and rate limits against the adapter."""
        try:
            adapter = self.adapter
        except KeyError:
            raise ValidationError({"kind": [_("Unknown channel kind.")]}) from None
        self.config, self.secrets = adapter.clean_config(
            self.config or {}, self.secrets or {}
        )
        self.rate_limit = clean_rate_limit(self.rate_limit, adapter)

    def rate_limits(self) -> tuple[RateLimit, ...]:
        """The limits in force: the provider's, and the operator's on top.

        Both apply, so an operator's setting can only make sending slower,
        never push a bot past the limit its provider enforces.
        """
        strictest: dict[int, int] = {}
        operator = (RateLimit(i["count"], i["seconds"]) for i in self.rate_limit or ())
        provider = (
            self.adapter.rate_limits if settings.ORION_PROVIDER_RATE_LIMITS else ()
        )
        for limit in (*provider, *operator):
            # One window is counted per length of time, so of two limits over
            # the same seconds only the lower count can apply.
            count = strictest.get(limit.seconds, limit.count)
            strictest[limit.seconds] = min(count, limit.count)
        return tuple(RateLimit(c, s) for s, c in sorted(strictest.items()))

    def masked_secrets(self) -> dict[str, dict[str, Any]]:
        """Whether each secret is set, and at most its last four characters."""
        adapter = self.adapter
        names = (*adapter.secrets_required, *adapter.secrets_optional)
        return {name: mask(self.secrets.get(name, "")) for name in names}


def mask(value: str) -> dict[str, Any]:
    """How a secret is shown: set or not, and its last four characters if long."""
    if not value:
        return {"set": False, "last4": ""}
    return {"set": True, "last4": value[-4:] if len(value) >= 12 else ""}


def clean_rate_limit(value: Any, adapter: ChannelAdapter) -> list[dict[str, int]]:
    """Validate an operator's rate limits: a list of {count, seconds}."""
    if not value:
        return []
    if not isinstance(value, list):
        raise ValidationError({"rate_limit": [_("Give a list of {count, seconds}.")]})
    cleaned = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"count", "seconds"}:
            raise ValidationError(
                {"rate_limit": [_("Each limit is {count, seconds}.")]}
            )
        count, seconds = item["count"], item["seconds"]
        if not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (count, seconds)
        ):
            raise ValidationError(
                {"rate_limit": [_("Count and seconds are integers.")]}
            )
        if count < 1 or not 1 <= seconds <= 86400:
            raise ValidationError(
                {"rate_limit": [_("Count is at least 1; seconds from 1 to 86400.")]}
            )
        cleaned.append({"count": count, "seconds": seconds})
    return cleaned


class Template(models.Model):
    """A message written once in Django's template language, per channel kind."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    sample_context = models.JSONField(_("sample context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("template")
        verbose_name_plural = _("templates")

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        from notifications.templating import check_syntax

        check_syntax(self)


class TemplateVariant(models.Model):
    """A template's subject and body for one channel kind, overriding the default."""

    template = models.ForeignKey(
        Template, on_delete=models.CASCADE, related_name="variants"
    )
    kind = models.CharField(_("channel kind"), max_length=32)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template", "kind"], name="one_variant_per_kind"
            )
        ]
        verbose_name = _("template variant")
        verbose_name_plural = _("template variants")

    def __str__(self) -> str:
        return f"{self.template.slug} ({self.kind})"


class Batch(models.Model):
    """Notifications created together, followed as a whole."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")

    def __str__(self) -> str:
        return str(self.id)


class Status(models.TextChoices):
    PENDING = "pending", _("pending")
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    RETRYING = "retrying", _("retrying")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("expired")


FINISHED = (Status.SENT, Status.FAILED, Status.CANCELLED, Status.EXPIRED)
WAITING = (Status.PENDING, Status.QUEUED, Status.RETRYING)


class Priority(models.TextChoices):
    # Ordered by the value, descending: "urgent" > "normal" > "bulk" as
    # strings, so `order_by("-priority")` serves urgent work first and an
    # index on the column backs it.
    URGENT = "urgent", _("urgent")
    NORMAL = "normal", _("normal")
    BULK = "bulk", _("bulk")


class Notification(ConcurrentTransitionMixin, models.Model):
    """One message through one channel to one recipient, as a state machine.

    Every state change is a transition method taking `by` (a user or None),
    `actor` (what made it: api, admin, cli, worker, dispatcher) and `reason`;
    `save()` records each one as a `StatusChange` in the same transaction.
    Saving is guarded: if another process changed the status first, `save()`
    raises `django_fsm.ConcurrentTransition` and nothing is written.
    """

    uuid = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="notifications"
    )
    recipient = models.CharField(
        _("recipient"), max_length=320, blank=True, db_index=True
    )
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = FSMField(
        _("status"), default=Status.QUEUED, choices=Status.choices, protected=True
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("attempt limit"), default=8)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(
        _("lease expires at"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(
        _("provider message id"), max_length=255, blank=True, db_index=True
    )
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    batch = models.ForeignKey(
        Batch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_via = models.CharField(_("created via"), max_length=16, blank=True)
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The worker's claim: the most urgent, longest-queued first.
            models.Index(
                fields=["status", "-priority", "queued_at"], name="claim_order"
            ),
            # The dispatcher: what is due, and what is stuck.
            models.Index(fields=["status", "send_at"], name="due_pending"),
            models.Index(fields=["status", "next_attempt_at"], name="due_retry"),
            models.Index(fields=["status", "lease_expires_at"], name="lease_check"),
            models.Index(fields=["status", "expires_at"], name="due_expiry"),
            models.Index(
                fields=["channel", "status", "created_at"], name="channel_status"
            ),
            models.Index(fields=["status", "created_at"], name="status_created"),
        ]

    def __str__(self) -> str:
        return str(self.uuid)

    def save(self, *args: Any, **kwargs: Any) -> None:
        changes = getattr(self, "_status_changes", [])
        try:
            with transaction.atomic():
                super().save(*args, **kwargs)
                if changes:
                    for change in changes:
                        change.notification = self
                    StatusChange.objects.bulk_create(changes)
        except ConcurrentTransition:
            # The transitions noted here lost the race and never happened:
            # forget them, or a later save of this instance would record them.
            self._status_changes = []
            raise
        self._status_changes = []

    def note_change(
        self, source: str, target: str, name: str, by: Any, actor: str, reason: str
    ) -> None:
        """Queue a `StatusChange` row for the next `save()`."""
        user = by if getattr(by, "pk", None) else None
        change = StatusChange(
            source=source,
            target=target,
            transition=name,
            by=user,
            actor=actor or ("user" if user else "system"),
            reason=reason[:1000],
        )
        self.__dict__.setdefault("_status_changes", []).append(change)

    # -- transitions --------------------------------------------------------
    # Each takes by/actor/reason; the post_transition receiver records them.

    @transition(field=status, source=Status.PENDING, target=Status.QUEUED)
    def release(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """`send_at` has come: hand it to the workers."""
        self.queued_at = timezone.now()

    @transition(field=status, source=Status.RETRYING, target=Status.QUEUED)
    def requeue(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """The retry is due (or an operator wants it now)."""
        self.queued_at = timezone.now()
        self.next_attempt_at = None

    @transition(field=status, source=Status.QUEUED, target=Status.SENDING)
    def claim(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """A worker takes it; the lease bounds how long before it is presumed lost."""
        now = timezone.now()
        self.attempts += 1
        self.lease_expires_at = now + timezone.timedelta(
            seconds=settings.ORION_LEASE_SECONDS
        )

    @transition(field=status, source=Status.SENDING, target=Status.SENT)
    def mark_sent(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        self.sent_at = timezone.now()
        self.lease_expires_at = None
        self.next_attempt_at = None
        self.last_error = ""

    @transition(field=status, source=Status.SENDING, target=Status.RETRYING)
    def schedule_retry(
        self, when: Any = None, *, by: Any = None, actor: str = "", reason: str = ""
    ) -> None:
        """A transient failure: wait until `when`, then try again."""
        self.next_attempt_at = when
        self.lease_expires_at = None
        self.last_error = reason

    @transition(field=status, source=Status.SENDING, target=Status.RETRYING)
    def defer(
        self, when: Any = None, *, by: Any = None, actor: str = "", reason: str = ""
    ) -> None:
        """Our own rate limit is reached: wait without spending an attempt."""
        self.attempts -= 1
        self.next_attempt_at = when
        self.lease_expires_at = None

    @transition(
        field=status,
        source=[Status.PENDING, Status.QUEUED, Status.SENDING, Status.RETRYING],
        target=Status.FAILED,
    )
    def fail(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """A permanent error, or no attempts left."""
        self.lease_expires_at = None
        self.next_attempt_at = None
        self.last_error = reason

    @transition(
        field=status,
        source=[Status.PENDING, Status.QUEUED, Status.RETRYING],
        target=Status.CANCELLED,
        permission="notifications.change_notification",
    )
    def cancel(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """Stop a send that has not started. One in flight cannot be called back."""
        self.next_attempt_at = None

    @transition(
        field=status,
        source=[Status.PENDING, Status.QUEUED, Status.RETRYING],
        target=Status.EXPIRED,
    )
    def expire(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """`expires_at` passed before it could be sent: never send it late."""
        self.next_attempt_at = None

    @transition(
        field=status,
        source=Status.FAILED,
        target=Status.QUEUED,
        permission="notifications.change_notification",
    )
    def retry(self, *, by: Any = None, actor: str = "", reason: str = "") -> None:
        """An operator sends a failed notification back to the queue.

        It gets a fresh allowance of attempts; the count keeps its history.
        """
        self.max_attempts = self.attempts + settings.ORION_MAX_ATTEMPTS
        self.queued_at = timezone.now()
        self.last_error = ""

    # -- helpers ------------------------------------------------------------

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.attempts)

    @property
    def attempt_in_round(self) -> int:
        """The attempt's number since creation or the last operator retry.

        `attempts` counts every try ever made, and an operator's retry grants
        a fresh allowance on top; backoff and providers' "retry at most N
        times" rules count within the current allowance.
        """
        used = settings.ORION_MAX_ATTEMPTS - self.attempts_left
        return min(self.attempts, max(1, used))


class StatusChange(models.Model):
    """One transition of a notification: from, to, by whom or what, when, why."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="status_changes"
    )
    source = models.CharField(_("from"), max_length=16, blank=True)
    target = models.CharField(_("to"), max_length=16)
    transition = models.CharField(_("transition"), max_length=32)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.CharField(_("actor"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.source or '-'} → {self.target}"


class Outcome(models.TextChoices):
    SENT = "sent", _("sent")
    TRANSIENT = "transient", _("transient failure")
    PERMANENT = "permanent", _("permanent failure")
    UNKNOWN = "unknown", _("unknown")


class DeliveryAttempt(models.Model):
    """One try at sending a notification, and what the provider said."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(_("HTTP status"), null=True, blank=True)
    provider_code = models.CharField(_("provider code"), max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    reply_excerpt = models.TextField(_("reply (redacted)"), blank=True)

    class Meta:
        ordering = ["number", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"#{self.number} {self.outcome}"


class RateWindow(models.Model):
    """Sends counted against one channel limit in one slice of its window.

    A slice lasts 1/60 of the limit's `seconds` from `window_start`;
    notifications.ratelimit sums the slices still inside the sliding window.
    Counting in the database makes the limit hold across every worker on
    every host, on SQLite and PostgreSQL alike.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    seconds = models.PositiveIntegerField()
    # Unix seconds: the slices of a one-second window start between them.
    window_start = models.FloatField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "seconds", "window_start"], name="one_rate_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.seconds}s@{self.window_start}: {self.count}"


class Lease(models.Model):
    """A named role only one process may hold at a time (the dispatcher)."""

    name = models.CharField(max_length=64, unique=True)
    holder = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'}"


class ApiToken(models.Model):
    """A bearer token for the API, stored as a hash; only its prefix is readable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"


class IdempotencyKey(models.Model):
    """The first answer to an API request sent with an `Idempotency-Key` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key")
        ]

    def __str__(self) -> str:
        return self.key
