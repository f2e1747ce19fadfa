"""Domain functions: the one way admin, the API and commands create and act.

Each function validates everything first and raises Django's
`ValidationError` with field errors, so no caller can create half a batch or
a notification the provider is bound to refuse.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from notifications import queue
from notifications.models import (
    FINISHED,
    Batch,
    Channel,
    Notification,
    Outcome,
    Priority,
    Status,
    Template,
)
from notifications.templating import Rendered, render_template

logger = logging.getLogger(__name__)

# A send_at this far in the past is taken as "now" (clock skew, slow clients);
# further back it is almost certainly a mistake, and refused.
SEND_AT_TOLERANCE = datetime.timedelta(minutes=5)


@dataclasses.dataclass
class NotificationSpec:
    """What a caller asks for; `prepare()` turns it into an unsaved notification."""

    channel: Channel | str
    recipient: str = ""
    template: Template | str | None = None
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    subject: str = ""
    body: str = ""
    html_body: str = ""
    priority: str = Priority.NORMAL
    send_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def prepare(
    spec: NotificationSpec,
    *,
    created_by: Any = None,
    via: str = "",
    now: datetime.datetime | None = None,
) -> Notification:
    """Validate a spec and return the unsaved notification; raise `ValidationError`."""
    now = now or timezone.now()
    channel = _channel(spec.channel)
    adapter = channel.adapter
    recipient = adapter.clean_recipient(spec.recipient)
    rendered = _render(spec, channel)
    adapter.validate_message(channel.config, rendered.subject, rendered.body, recipient)
    adapter.validate_context(spec.context or {})
    _check_times(spec.send_at, spec.expires_at, now)
    if spec.priority not in Priority.values:
        choices = ", ".join(Priority.values)
        raise ValidationError(
            {"priority": [_("Choose one of: %(choices)s.") % {"choices": choices}]}
        )

    waits = spec.send_at is not None and spec.send_at > now
    return Notification(
        channel=channel,
        recipient=recipient,
        template=spec.template if isinstance(spec.template, Template) else None,
        context=dict(spec.context or {}),
        subject=rendered.subject,
        body=rendered.body,
        html_body=rendered.html_body,
        priority=spec.priority,
        status=Status.PENDING if waits else Status.QUEUED,
        send_at=spec.send_at,
        expires_at=spec.expires_at,
        max_attempts=settings.ORION_MAX_ATTEMPTS,
        queued_at=None if waits else now,
        metadata=dict(spec.metadata or {}),
        created_by=created_by if getattr(created_by, "pk", None) else None,
        created_via=via,
        created_at=now,
    )


def _channel(channel: Channel | str) -> Channel:
    if isinstance(channel, str):
        try:
            channel = Channel.objects.get(slug=channel)
        except Channel.DoesNotExist:
            raise ValidationError(
                {"channel": [_("No channel '%(slug)s'.") % {"slug": channel}]}
            ) from None
    if not channel.enabled:
        raise _disabled(channel)
    return channel


def _disabled(channel: Channel) -> ValidationError:
    return ValidationError(
        {"channel": [_("The channel '%(slug)s' is disabled.") % {"slug": channel.slug}]}
    )


def _render(spec: NotificationSpec, channel: Channel) -> Rendered:
    template = spec.template
    if template is not None and (spec.subject or spec.body):
        raise ValidationError(
            {
                "template": [
                    _("Give either a template with a context, or a subject and body.")
                ]
            }
        )
    if isinstance(template, str):
        found = (
            Template.objects.prefetch_related("variants").filter(slug=template).first()
        )
        if found is None:
            raise ValidationError(
                {"template": [_("No template '%(slug)s'.") % {"slug": template}]}
            )
        spec.template = template = found
    if template is not None:
        return render_template(template, channel.kind, spec.context or {})
    if not spec.body and not channel.adapter.body_required:
        # The provider fills its own template from the context (Aliyun SMS):
        # store the context as the body, so operators see what was sent.
        body = json.dumps(
            spec.context or {}, ensure_ascii=False, sort_keys=True, default=str
        )
        return Rendered(spec.subject.strip(), body, spec.html_body)
    if not spec.body:
        raise ValidationError(
            {"body": [_("Give a body, or a template with its context.")]}
        )
    # A subject and body given directly are the message itself, not a template.
    return Rendered(spec.subject.strip(), spec.body, spec.html_body)


def _check_times(
    send_at: datetime.datetime | None,
    expires_at: datetime.datetime | None,
    now: datetime.datetime,
) -> None:
    if send_at is not None and send_at < now - SEND_AT_TOLERANCE:
        raise ValidationError(
            {"send_at": [_("This time is in the past; leave it out to send now.")]}
        )
    if expires_at is not None:
        if expires_at <= (send_at or now):
            raise ValidationError(
                {"expires_at": [_("The expiry must come after the time of sending.")]}
            )


def create_notification(
    spec: NotificationSpec, *, created_by: Any = None, via: str = ""
) -> Notification:
    """Create one notification and enqueue it once the transaction commits."""
    notification = prepare(spec, created_by=created_by, via=via)
    with transaction.atomic():
        _save_new(notification, created_by, via)
        if notification.status == Status.QUEUED:
            queue.enqueue_on_commit(1)
    logger.info(
        "created %s for channel %s (%s)",
        notification.uuid,
        notification.channel.slug,
        notification.status,
    )
    return notification


def create_batch(
    specs: Sequence[NotificationSpec],
    *,
    created_by: Any = None,
    via: str = "",
    note: str = "",
) -> tuple[Batch, list[Notification]]:
    """Validate every spec, then create them all in one transaction, or none.

    Raise `BatchInvalid` mapping each bad spec's index to its errors.
    """
    now = timezone.now()
    prepared: list[Notification] = []
    errors: dict[int, Any] = {}
    # Items of a batch mostly share a few channels and templates: look each up
    # once, not once per item.
    channels: dict[str, Channel] = {}
    templates: dict[str, Template] = {}
    for index, spec in enumerate(specs):
        if isinstance(spec.channel, str) and spec.channel in channels:
            spec.channel = channels[spec.channel]
        if isinstance(spec.template, str) and spec.template in templates:
            spec.template = templates[spec.template]
        try:
            notification = prepare(spec, created_by=created_by, via=via, now=now)
        except ValidationError as exc:
            errors[index] = (
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            )
            continue
        channels[notification.channel.slug] = notification.channel
        if notification.template is not None:
            templates[notification.template.slug] = notification.template
        prepared.append(notification)
    if errors:
        raise BatchInvalid(errors)

    with transaction.atomic():
        batch = Batch.objects.create(
            created_by=created_by if getattr(created_by, "pk", None) else None,
            note=note,
        )
        for notification in prepared:
            notification.batch = batch
        _save_many(prepared)
        queue.enqueue_on_commit(sum(n.status == Status.QUEUED for n in prepared))
    logger.info("created batch %s of %d notifications", batch.pk, len(prepared))
    return batch, prepared


class BatchInvalid(ValidationError):
    """Some items of a batch are invalid; `errors` maps index to field errors."""

    def __init__(self, errors: dict[int, Any]) -> None:
        self.errors = errors
        count = len(errors)
        super().__init__(
            ngettext(
                "%(count)d item is invalid.", "%(count)d items are invalid.", count
            )
            % {"count": count}
        )


def _save_new(notification: Notification, by: Any, via: str) -> None:
    notification.note_change("", notification.status, "create", by, via, "Created.")
    notification.save()


def _save_many(notifications: list[Notification]) -> None:
    from notifications.models import StatusChange

    Notification.objects.bulk_create(notifications, batch_size=500)
    changes = [
        StatusChange(
            notification=n,
            source="",
            target=n.status,
            transition="create",
            by=n.created_by,
            actor=n.created_via or "system",
            reason="Created.",
            at=n.created_at,
        )
        for n in notifications
    ]
    StatusChange.objects.bulk_create(changes, batch_size=500)


# -- Operator actions --------------------------------------------------------

# Resending one of these makes a duplicate of work that may still go out.
RESENDABLE = FINISHED

# Kept in the history of what an operator sent again after an unknown outcome.
CONFIRMED_UNKNOWN = (
    "The operator confirmed sending again after an unknown outcome "
    "(checked with the provider)."
)


class ActionRefused(Exception):
    """The notification's state does not allow this action now.

    `action` is "cancel", "retry" or "resend". The message is a sentence and
    `reason` a short clause for lists of skipped notifications ("it is
    sent"); both are in the active language.
    """

    def __init__(self, notification: Notification, action: str) -> None:
        self.notification = notification
        self.action = action
        values = {"id": notification.uuid, "status": notification.get_status_display()}
        if action == "cancel":
            text = _("Cannot cancel %(id)s: it is %(status)s.")
            self.reason = _("it is %(status)s") % values
        elif action == "retry":
            text = _("Cannot retry %(id)s: it is %(status)s.")
            self.reason = _("it is %(status)s") % values
        else:
            text = _(
                "Cannot resend %(id)s: it is %(status)s and not finished yet, so "
                "a copy would be a duplicate. Cancel it or retry it instead."
            )
            self.reason = (
                _("it is %(status)s and not finished yet; cancel or retry it instead")
                % values
            )
        super().__init__(text % values)


class UnknownOutcome(ValidationError):
    """The provider may already have delivered the notification.

    Raised by `retry()` and `resend()` for a notification that
    `failed_with_unknown_outcome()`, unless the caller confirms.
    """

    def __init__(self, notification: Notification) -> None:
        self.notification = notification
        super().__init__(
            _(
                "The provider may already have delivered this message: its last "
                "attempt ended without an answer, and sending again could reach "
                "the recipient twice. Check with the provider, then confirm to "
                "send it again."
            ),
            code="unknown_outcome",
        )


def failed_with_unknown_outcome(notification: Notification) -> bool:
    """Whether the provider may have delivered this failed notification.

    True when it is failed, its last delivery attempt's outcome is unknown
    (or even sent, reported late by a worker that lost its lease),
    and its channel's adapter does not resend after an unknown outcome (SMS):
    the worker stopped rather than risk a duplicate, and an operator should
    too until they have checked with the provider. Costs a query only for
    failures on such channels.
    """
    if notification.status != Status.FAILED:
        return False
    try:
        may_resend = notification.channel.adapter.resend_after_unknown
    except KeyError:
        # A kind this process does not know: assume the cautious answer.
        may_resend = False
    if may_resend:
        return False
    last = (
        notification.delivery_attempts.order_by("-number", "-id")
        .values_list("outcome", flat=True)
        .first()
    )
    # "sent" on a failed notification: a worker that outlived its lease
    # reported success after the recovery had given up on it.
    return last in (Outcome.UNKNOWN, Outcome.SENT)


def _check_unknown_outcome(notification: Notification, confirmed: bool) -> bool:
    """Return whether it failed with an unknown outcome; raise `UnknownOutcome`
    if so and the caller did not confirm."""
    unknown = failed_with_unknown_outcome(notification)
    if unknown and not confirmed:
        raise UnknownOutcome(notification)
    return unknown


def cancel(
    notification: Notification, *, by: Any = None, via: str = "", reason: str = ""
) -> Notification:
    """Cancel a send that has not started; raise `ActionRefused` otherwise."""
    return _act(notification, "cancel", by, via, reason or "Cancelled by an operator.")


def retry(
    notification: Notification,
    *,
    by: Any = None,
    via: str = "",
    reason: str = "",
    confirm_unknown: bool = False,
) -> Notification:
    """Send a failed notification (or one waiting to retry) to the queue now.

    Raise `ActionRefused` in any other state, `UnknownOutcome` if it
    `failed_with_unknown_outcome()` and `confirm_unknown` is false, and
    `ValidationError` if its channel is disabled.
    """
    name = "requeue" if notification.status == Status.RETRYING else "retry"
    reason = reason or "Retried by an operator."
    if _check_unknown_outcome(notification, confirm_unknown):
        reason = f"{reason} {CONFIRMED_UNKNOWN}"
    return _act(notification, name, by, via, reason)


def _act(
    notification: Notification, name: str, by: Any, via: str, reason: str
) -> Notification:
    method = getattr(notification, name)
    action = "retry" if name == "requeue" else name
    if not can_proceed(method):
        raise ActionRefused(notification, action)
    if name != "cancel" and not notification.channel.enabled:
        # A worker would only fail it again at once.
        raise _disabled(notification.channel)
    try:
        with transaction.atomic():
            method(by=by, actor=via, reason=reason)
            notification.save()
            if notification.status == Status.QUEUED:
                queue.enqueue_on_commit(1)
    except (ConcurrentTransition, TransitionNotAllowed):
        notification.refresh_from_db()
        raise ActionRefused(notification, action) from None
    logger.info(
        "%s %s by %s", name, notification.uuid, getattr(by, "username", via or "system")
    )
    return notification


def resend(
    notification: Notification,
    *,
    by: Any = None,
    via: str = "",
    batch: Batch | None = None,
    confirm_unknown: bool = False,
) -> Notification:
    """Create a new notification with the same message, linked by `resend_of`.

    Only a finished notification (sent, failed, cancelled, expired) is
    resent; raise `ActionRefused` for one still waiting or being sent, where
    a copy would duplicate work in flight. Raise `UnknownOutcome` if it
    `failed_with_unknown_outcome()` and `confirm_unknown` is false, and
    `ValidationError` if its channel is disabled. The message is copied as
    it was rendered, so a template edited since does not change what the
    recipient gets.
    """
    if notification.status not in RESENDABLE:
        raise ActionRefused(notification, "resend")
    note = f"Resend of {notification.uuid}."
    if _check_unknown_outcome(notification, confirm_unknown):
        note = f"{note} {CONFIRMED_UNKNOWN}"
    channel = notification.channel
    if not channel.enabled:
        raise _disabled(channel)

    now = timezone.now()
    copy = Notification(
        channel=channel,
        recipient=notification.recipient,
        template=notification.template,
        context=notification.context,
        subject=notification.subject,
        body=notification.body,
        html_body=notification.html_body,
        priority=notification.priority,
        status=Status.QUEUED,
        expires_at=None,
        max_attempts=settings.ORION_MAX_ATTEMPTS,
        queued_at=now,
        metadata=notification.metadata,
        batch=batch,
        resend_of=notification,
        created_by=by if getattr(by, "pk", None) else None,
        created_via=via,
        created_at=now,
    )
    with transaction.atomic():
        copy.note_change("", Status.QUEUED, "create", by, via, note)
        copy.save()
        queue.enqueue_on_commit(1)
    logger.info("resent %s as %s", notification.uuid, copy.uuid)
    return copy


def test_send(
    channel: Channel, recipient: str = "", *, by: Any = None
) -> dict[str, Any]:
    """Send a test message through `channel` now, bypassing the queue.

    Returns {"ok": bool, "message": str, "status_code", "provider_code", "reply"};
    the reply is redacted. Nothing is stored: it checks the channel, not a send.
    """
    import uuid as uuid_module

    from adapters.base import DeliveryError, Envelope
    from adapters.http import default_client

    adapter = channel.adapter
    envelope = adapter.test_envelope(
        Envelope(
            notification_id=uuid_module.uuid4(),
            channel_slug=channel.slug,
            config=channel.config,
            secrets=channel.secrets,
            recipient=adapter.clean_recipient(recipient) if recipient else "",
            subject=_("Orion test message"),
            body=_("Test message from Orion for channel %(slug)s.")
            % {"slug": channel.slug},
            created_at=timezone.now(),
        )
    )
    try:
        result = adapter.send(envelope, default_client())
    except DeliveryError as exc:
        logger.info("test send on channel %s failed: %s", channel.slug, exc.message)
        return {
            "ok": False,
            "message": exc.message,
            "status_code": exc.status_code,
            "provider_code": exc.provider_code,
            "reply": exc.reply_excerpt,
        }
    logger.info("test send on channel %s succeeded", channel.slug)
    return {
        "ok": True,
        "message": _("The provider accepted the test message."),
        "status_code": result.status_code,
        "provider_code": result.provider_code,
        "reply": result.reply_excerpt,
    }


ACTIONS = {"cancel": cancel, "retry": retry, "resend": resend}


def bulk_action(
    notifications: Any,
    action: str,
    *,
    by: Any = None,
    via: str = "",
    confirm_unknown: bool = False,
) -> tuple[list[Notification], list[tuple[Notification, str]]]:
    """Apply `action` (cancel, retry or resend) to each notification.

    Returns (done, skipped): for a resend, `done` holds the new notifications;
    each skipped one comes with the reason, so operators see why.
    Resends made together share one batch. `confirm_unknown` goes to each
    retry or resend: without it, those that `failed_with_unknown_outcome()`
    are skipped.
    """
    function = ACTIONS[action]
    done: list[Notification] = []
    skipped: list[tuple[Notification, str]] = []
    batch = None
    for notification in notifications:
        try:
            if action == "resend":
                if batch is None:
                    batch = Batch.objects.create(
                        created_by=by if getattr(by, "pk", None) else None,
                        note=f"{action} by {via or 'system'}",
                    )
                copy = resend(
                    notification,
                    by=by,
                    via=via,
                    batch=batch,
                    confirm_unknown=confirm_unknown,
                )
                done.append(copy)
            elif action == "retry":
                done.append(
                    retry(notification, by=by, via=via, confirm_unknown=confirm_unknown)
                )
            else:
                done.append(function(notification, by=by, via=via))
        except ActionRefused as exc:
            skipped.append((notification, exc.reason))
        except ValidationError as exc:
            skipped.append((notification, "; ".join(exc.messages)))
    if batch is not None and not done:
        batch.delete()
    return done, skipped
