"""Move due and stuck work along, every half second.

django-q2's scheduler ticks only every 30 seconds, too coarse for "send at
10:00:00". The dispatcher is a loop that runs in a thread of every worker
process; a database lease makes exactly one of them active across all hosts,
and another takes over within `LEASE_SECONDS` if that process dies.

Each pass:
- releases pending notifications whose `send_at` has come;
- requeues retrying ones whose `next_attempt_at` has come;
- expires waiting ones whose `expires_at` has passed;
- recovers sends whose worker vanished (lease expired) as unknown outcomes;
- tops up the broker when queued notifications outnumber its tasks (the
  Redis broker keeps no receipts, so a task can be lost).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition

from adapters.base import DeliveryError
from notifications import queue, ratelimit
from notifications.delivery import settle_failure
from notifications.models import (
    DeliveryAttempt,
    IdempotencyKey,
    Lease,
    Notification,
    Outcome,
    Status,
)

logger = logging.getLogger(__name__)

LEASE_NAME = "dispatcher"
LEASE_SECONDS = 5
BATCH = 500
ACTOR = "dispatcher"


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def hold_lease(holder: str, now: timezone.datetime | None = None) -> bool:
    """Take or renew the dispatcher lease; return whether `holder` has it."""
    now = now or timezone.now()
    expires = now + timezone.timedelta(seconds=LEASE_SECONDS)
    takeable = Lease.objects.filter(name=LEASE_NAME).filter(
        Q(holder=holder) | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    )
    if takeable.update(holder=holder, expires_at=expires):
        return True
    # Only the very first pass ever finds no row; inserting on every pass
    # would take the write lock twice a second from every worker process.
    if not Lease.objects.filter(name=LEASE_NAME).exists():
        Lease.objects.bulk_create([Lease(name=LEASE_NAME)], ignore_conflicts=True)
        return bool(takeable.update(holder=holder, expires_at=expires))
    return False


def dispatch_once(now: timezone.datetime | None = None) -> dict[str, int]:
    """Run one pass; return how many notifications each step moved."""
    now = now or timezone.now()
    counts = {
        "expired": expire_due(now),
        "released": release_due(now),
        "requeued": requeue_due(now),
        "recovered": recover_lost(now),
    }
    counts["rescued"] = rescue_tasks(now)
    moved = counts["released"] + counts["requeued"] + counts["recovered"]
    if moved:
        logger.debug("dispatcher moved %s", counts)
    return counts


def _each(queryset: object, step: object, done_message: str) -> int:
    """Apply `step` to each row, skipping rows another process changed first.

    `done_message` is logged for each notification moved, with its id.
    """
    done = 0
    for notification in queryset[:BATCH]:  # type: ignore[index]
        try:
            with transaction.atomic():
                step(notification)  # type: ignore[operator]
                notification.save()
        except ConcurrentTransition:
            continue
        logger.info(done_message, notification.uuid)
        done += 1
    return done


def release_due(now: timezone.datetime) -> int:
    due = Notification.objects.filter(status=Status.PENDING, send_at__lte=now)
    done = _each(
        due.order_by("send_at"),
        lambda n: n.release(actor=ACTOR, reason="send_at reached."),
        "released %s: its send_at has come",
    )
    queue.enqueue(done)
    return done


def requeue_due(now: timezone.datetime) -> int:
    due = Notification.objects.filter(status=Status.RETRYING, next_attempt_at__lte=now)
    done = _each(
        due.order_by("next_attempt_at"),
        lambda n: n.requeue(actor=ACTOR, reason="Retry due."),
        "requeued %s: its retry is due",
    )
    queue.enqueue(done)
    return done


def expire_due(now: timezone.datetime) -> int:
    waiting = [Status.PENDING, Status.QUEUED, Status.RETRYING]
    due = Notification.objects.filter(status__in=waiting, expires_at__lte=now)
    return _each(
        due,
        lambda n: n.expire(actor=ACTOR, reason="Expired before it could be sent."),
        "expired %s before it could be sent",
    )


def recover_lost(now: timezone.datetime) -> int:
    """Settle sends whose worker died: the request may or may not have gone out."""
    lost = Notification.objects.filter(
        status=Status.SENDING, lease_expires_at__lt=now
    ).select_related("channel")

    def step(notification: Notification) -> None:
        error = DeliveryError(
            "The worker sending this message stopped before recording the outcome.",
            permanent=False,
            unknown=True,
        )
        DeliveryAttempt.objects.create(
            notification=notification,
            number=notification.attempts,
            started_at=notification.lease_expires_at
            - timezone.timedelta(seconds=settings.ORION_LEASE_SECONDS),
            finished_at=now,
            outcome=Outcome.UNKNOWN,
            error=error.message,
        )
        settle_failure(notification, error, ACTOR)

    return _each(lost, step, "recovered %s from a lost worker (outcome unknown)")


def rescue_tasks(now: timezone.datetime) -> int:
    """Enqueue tasks for queued notifications that have none in the broker.

    Only rows queued longer than ORION_QUEUED_RESCUE_SECONDS count, so a task
    on its way (enqueued on commit) is not doubled. Extra tasks are harmless:
    a worker that finds nothing to claim does nothing.
    """
    cutoff = now - timezone.timedelta(seconds=settings.ORION_QUEUED_RESCUE_SECONDS)
    stale = Notification.objects.filter(
        status=Status.QUEUED, queued_at__lt=cutoff
    ).count()
    if not stale:
        return 0
    missing = stale - queue.queue_size()
    if missing <= 0:
        return 0
    # The tasks just added count in the broker's size on the next pass, so
    # they are not added again; queued_at stays, keeping each one's place.
    queue.enqueue(missing)
    logger.warning("re-enqueued %d delivery tasks the broker no longer had", missing)
    return missing


# About once an hour at the default interval, and on a dispatcher's first pass.
HOUSEKEEPING_PASSES = 7200
# How long an API client may repeat a request with the same Idempotency-Key.
IDEMPOTENCY_WINDOW = timezone.timedelta(hours=24)


def housekeeping(now: timezone.datetime | None = None) -> dict[str, int]:
    """Delete bookkeeping rows nobody needs any more; return how many of each."""
    now = now or timezone.now()
    keys, _ = IdempotencyKey.objects.filter(
        created_at__lt=now - IDEMPOTENCY_WINDOW
    ).delete()
    counts = {
        "rate_windows": ratelimit.forget_old_windows(now.timestamp()),
        "idempotency_keys": keys,
    }
    logger.info("housekeeping removed %s", counts)
    return counts


class Dispatcher:
    """The loop: hold the lease, then dispatch, every `interval` seconds."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval or settings.ORION_DISPATCH_INTERVAL
        self.holder = holder_name()
        self.stopping = threading.Event()
        self._passes = 0

    def run(self) -> None:
        logger.info("dispatcher %s started", self.holder)
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(self.interval)
        logger.info("dispatcher %s stopped", self.holder)

    def tick(self) -> None:
        close_old_connections()
        try:
            if hold_lease(self.holder):
                dispatch_once()
                self._passes += 1
                if self._passes % HOUSEKEEPING_PASSES == 1:
                    housekeeping()
        except Exception:
            # A database hiccup must not kill the thread: log it, try again.
            logger.exception("dispatcher pass failed")


_started = False
_start_lock = threading.Lock()


def start_background_dispatcher(proc_name: str = "") -> None:
    """Start one daemon dispatcher thread in this process, at most once."""
    global _started
    with _start_lock:
        if _started:
            return
        _started = True
    thread = threading.Thread(
        target=Dispatcher().run, name=f"orion-dispatcher-{proc_name}", daemon=True
    )
    thread.start()
