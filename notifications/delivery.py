"""Deliver queued notifications: claim, send through the adapter, record.

A worker claims a notification with the guarded `queued -> sending`
transition, so a duplicate task, a second cluster or a re-delivered broker
message finds nothing to do. The send itself happens outside any database
transaction; its outcome is recorded as a `DeliveryAttempt` and a transition
in one transaction afterwards.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from adapters.base import DeliveryError, DeliveryResult, Envelope, Outcome
from adapters.http import default_client
from notifications import ratelimit
from notifications.fields import SecretsUnreadable
from notifications.models import Channel, DeliveryAttempt, Notification, Status

logger = logging.getLogger(__name__)

UNKNOWN_NOT_RESENT = (
    "The provider may have received this message before the connection failed. "
    "It was not sent again automatically, because a duplicate would reach the "
    "recipient; check with the provider before resending."
)


def worker_name() -> str:
    return f"worker {socket.gethostname()}:{os.getpid()}"


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`: capped exponential, full jitter.

    Full jitter spreads retries of many notifications that failed together
    (a provider outage) instead of sending them back in one burst. A delay the
    provider asked for is a floor.
    """
    base = settings.ORION_RETRY_BASE_SECONDS
    cap = settings.ORION_RETRY_MAX_SECONDS
    # The exponent is bounded so a long history of operator retries cannot
    # overflow a float: 2**62 seconds is far past any cap.
    delay = random.uniform(0, min(cap, base * 2 ** min(max(0, attempt - 1), 62)))
    if retry_after is not None:
        # The provider's wait wins over our cap (DingTalk throttles for 10
        # minutes); a day bounds a nonsensical Retry-After.
        delay = max(delay, min(retry_after, 86400.0))
    return max(delay, 1.0)


def claim_next(actor: str | None = None) -> Notification | None:
    """Claim the most urgent queued notification, or return None if none is left.

    On PostgreSQL the candidate row is locked with SKIP LOCKED, so concurrent
    workers take different rows; on SQLite the IMMEDIATE transaction already
    serialises writers. Either way the save is guarded on the old status.
    """
    actor = actor or worker_name()
    for _ in range(5):
        with transaction.atomic():
            candidates = Notification.objects.filter(status=Status.QUEUED).order_by(
                "-priority", "queued_at", "id"
            )
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(
                    skip_locked=True, of=("self",)
                )
            # Secrets are loaded when the send needs them, so one channel whose
            # secrets cannot be decrypted fails its own sends, not the query.
            notification = (
                candidates.select_related("channel").defer("channel__secrets").first()
            )
            if notification is None:
                return None
            try:
                _claim_or_settle(notification, actor)
            except ConcurrentTransition:
                logger.debug(
                    "lost the claim on %s to another worker", notification.uuid
                )
                continue
        if notification.status == Status.SENDING:
            return notification
    return None


def _claim_or_settle(notification: Notification, actor: str) -> None:
    """Claim it, unless it has expired, its channel was disabled, or it cannot
    be prepared; the last three settle it, so it never blocks the queue."""
    now = timezone.now()
    if notification.expires_at and notification.expires_at <= now:
        notification.expire(actor=actor, reason="Expired before it could be sent.")
    elif not notification.channel.enabled:
        notification.fail(actor=actor, reason="The channel is disabled.")
    else:
        notification.claim(actor=actor)
        problem = _prepare(notification)
        if problem:
            notification.fail(actor=actor, reason=problem)
    notification.save()
    if notification.status != Status.SENDING:
        logger.info("%s %s before sending", notification.status, notification.uuid)


def _prepare(notification: Notification) -> str:
    """Give a claimed notification its message key; return why it cannot be sent.

    Nothing has been sent yet, so whatever goes wrong here is a permanent
    failure of this notification alone: an unknown channel kind (a worker
    running older code), secrets that no longer decrypt, an adapter bug.
    """
    try:
        adapter = notification.channel.adapter
        if not notification.provider_message_id:
            notification.provider_message_id = adapter.message_key(
                envelope(notification)
            )
    except DatabaseError:
        raise
    except KeyError:
        return f"No adapter for channel kind '{notification.channel.kind}'."
    except SecretsUnreadable as exc:
        return str(exc)
    except Exception as exc:
        logger.exception("could not prepare %s for sending", notification.uuid)
        return f"Could not prepare the message ({type(exc).__name__})."
    return ""


def envelope(notification: Notification) -> Envelope:
    channel = notification.channel
    return Envelope(
        notification_id=notification.uuid,
        channel_slug=channel.slug,
        config=channel.config,
        secrets=channel.secrets,
        recipient=notification.recipient,
        subject=notification.subject,
        body=notification.body,
        html_body=notification.html_body,
        context=notification.context,
        metadata=notification.metadata,
        attempt=notification.attempt_in_round,
        created_at=notification.created_at,
        provider_message_id=notification.provider_message_id,
    )


def deliver_next(actor: str | None = None) -> Notification | None:
    """Claim and send one notification; return it, or None if there was none."""
    actor = actor or worker_name()
    notification = claim_next(actor)
    if notification is None:
        return None
    try:
        wait = ratelimit.acquire(notification.channel)
    except Exception:
        # Nothing was sent: hand it back rather than let the lease expire and
        # the recovery call the outcome unknown.
        logger.exception("rate limit check failed for %s", notification.uuid)
        _defer(notification, RELEASE_SECONDS, actor, "The rate limit check failed.")
        return notification
    if wait is not None:
        reason = f"Channel rate limit reached; waiting {wait:.1f}s."
        _defer(notification, wait, actor, reason)
        return notification
    send(notification, actor)
    return notification


RELEASE_SECONDS = 5.0


def _defer(notification: Notification, wait: float, actor: str, reason: str) -> None:
    """Put a claimed notification back to wait `wait` seconds, attempt unspent."""
    when = timezone.now() + timezone.timedelta(seconds=wait)
    notification.defer(when, actor=actor, reason=f"{reason} (No attempt spent.)")
    try:
        notification.save()
    except ConcurrentTransition:
        logger.warning("lost the lease on %s before deferring it", notification.uuid)
        return
    logger.info("deferred %s by %.1fs: %s", notification.uuid, wait, reason)


def send(notification: Notification, actor: str) -> None:
    """Send a claimed notification once and record what happened."""
    adapter = notification.channel.adapter
    started = timezone.now()
    clock = time.monotonic()
    try:
        prepared = envelope(notification)
    except SecretsUnreadable as exc:
        error = DeliveryError(str(exc), permanent=True)
        _record(notification, started, 0, None, error, actor)
        return
    try:
        result = adapter.send(prepared, default_client())
        error = None
    except DeliveryError as exc:
        result, error = None, exc
    except Exception as exc:
        # A bug in an adapter must not lose the notification. Its message may
        # quote the request, so only the type is kept.
        logger.exception("adapter %s crashed on %s", adapter.kind, notification.uuid)
        result = None
        error = DeliveryError(
            f"Internal error in the {adapter.kind} adapter ({type(exc).__name__}).",
            permanent=False,
            unknown=True,
        )
    duration = int((time.monotonic() - clock) * 1000)
    _record(notification, started, duration, result, error, actor)


def _record(
    notification: Notification,
    started: timezone.datetime,
    duration_ms: int,
    result: DeliveryResult | None,
    error: DeliveryError | None,
    actor: str,
) -> None:
    claim_token = notification.lease_expires_at
    attempt = DeliveryAttempt(
        notification=notification,
        number=notification.attempts,
        started_at=started,
        finished_at=timezone.now(),
        duration_ms=duration_ms,
    )
    if result is not None:
        attempt.outcome = Outcome.SENT
        attempt.status_code = result.status_code
        attempt.provider_code = result.provider_code[:64]
        attempt.reply_excerpt = result.reply_excerpt
        if result.provider_message_id:
            notification.provider_message_id = result.provider_message_id
        notification.mark_sent(actor=actor)
    else:
        assert error is not None
        attempt.outcome = error.outcome
        attempt.status_code = error.status_code
        attempt.provider_code = error.provider_code[:64]
        attempt.error = error.message[:500]
        attempt.reply_excerpt = error.reply_excerpt
        if error.provider_message_id and not notification.provider_message_id:
            notification.provider_message_id = error.provider_message_id
        settle_failure(notification, error, actor)

    with transaction.atomic():
        attempt.save()
        if not _still_claimed(notification, claim_token):
            # The lease ran out and the dispatcher settled this send meanwhile
            # (maybe another worker has it now): keep the attempt as history,
            # change nothing else.
            logger.warning(
                "lost the lease on %s; attempt %d ended %s",
                notification.uuid,
                attempt.number,
                attempt.outcome,
            )
            return
        notification.save()
    _log_outcome(notification, attempt)
    if error is not None:
        _note_channel_error(notification.channel, error)


def _still_claimed(notification: Notification, claim_token: object) -> bool:
    """Whether the claim this worker made is still the one in the database.

    The lease's expiry time, set at claim, identifies the claim: a recovery
    or a later claim changes it. The row is locked on PostgreSQL; on SQLite
    the write transaction already excludes other writers.
    """
    rows = Notification.objects.filter(
        pk=notification.pk, status=Status.SENDING, lease_expires_at=claim_token
    )
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.exists()


def settle_failure(
    notification: Notification, error: DeliveryError, actor: str
) -> None:
    """Move a failed attempt to `retrying` or `failed`, as the error allows."""
    may_resend = notification.channel.adapter.resend_after_unknown
    if error.unknown and not may_resend:
        notification.fail(actor=actor, reason=f"{error.message} {UNKNOWN_NOT_RESENT}")
    elif error.permanent:
        notification.fail(actor=actor, reason=error.message)
    elif notification.attempts_left <= 0:
        notification.fail(
            actor=actor,
            reason=f"Gave up after {notification.attempts} attempts: {error.message}",
        )
    else:
        delay = backoff(notification.attempt_in_round, error.retry_after)
        when = timezone.now() + timezone.timedelta(seconds=delay)
        notification.schedule_retry(when, actor=actor, reason=error.message)


def _log_outcome(notification: Notification, attempt: DeliveryAttempt) -> None:
    kind = notification.channel.kind
    if notification.status == Status.SENT:
        logger.info(
            "sent %s via %s in %dms", notification.uuid, kind, attempt.duration_ms or 0
        )
    elif notification.status == Status.RETRYING:
        logger.info(
            "attempt %d of %s via %s failed (%s); retrying at %s",
            attempt.number,
            notification.uuid,
            kind,
            attempt.error,
            notification.next_attempt_at,
        )
    else:
        logger.warning(
            "failed %s via %s after %d attempts: %s",
            notification.uuid,
            kind,
            attempt.number,
            notification.last_error,
        )


def _note_channel_error(channel: Channel, error: DeliveryError) -> None:
    """Keep the channel's last error; disable or flag it when the provider says so."""
    now = timezone.now()
    changes: dict[str, object] = {
        "last_error": error.message[:1000],
        "last_error_at": now,
    }
    if error.credential_dead:
        changes["credential_dead_at"] = now
        logger.warning("provider rejected the credential of channel %s", channel.slug)
    if error.disable_channel:
        changes["enabled"] = False
        logger.warning(
            "disabled channel %s: the provider says it is gone", channel.slug
        )
    Channel.objects.filter(pk=channel.pk).update(**changes)
