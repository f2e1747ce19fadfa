"""Hand delivery work to django-q2.

A task does not name one notification: it says "one more notification is
queued". The worker that runs it claims the most urgent queued notification
(see `delivery.claim_next`), so urgent sends overtake any bulk backlog that
is already in the broker, and a duplicate or lost task costs nothing that
the dispatcher's rescue does not restore.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_q.brokers import get_broker
from django_q.tasks import async_task

logger = logging.getLogger(__name__)

TASK = "notifications.tasks.deliver"


def enqueue(count: int = 1) -> None:
    """Put `count` delivery tasks on the broker now."""
    if count <= 0:
        return
    broker = get_broker()
    # With the ORM broker, one transaction makes a batch one disk sync instead
    # of one per task, and stops the broker from reconnecting before each.
    with transaction.atomic():
        for _ in range(count):
            async_task(TASK, broker=broker, save=False, task_name="orion-deliver")


def enqueue_on_commit(count: int = 1) -> None:
    """Enqueue once the current transaction commits, so workers see the rows.

    The notifications are saved by then: a broker that is down must not turn
    that into an error for the caller (who would create them again). The
    dispatcher's rescue enqueues the missing tasks once the broker is back.
    """
    if count > 0:
        transaction.on_commit(lambda: _enqueue_after_commit(count), robust=True)


def _enqueue_after_commit(count: int) -> None:
    try:
        enqueue(count)
    except Exception:
        logger.warning(
            "could not enqueue %d delivery tasks; the dispatcher will re-enqueue "
            "them when the broker answers",
            count,
            exc_info=True,
        )


def queue_size() -> int:
    """Tasks waiting in the broker (not counting those a cluster already took)."""
    return get_broker().queue_size()
