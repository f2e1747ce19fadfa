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
    """Enqueue once the current transaction commits, so workers see the rows."""
    if count > 0:
        transaction.on_commit(lambda: enqueue(count))


def queue_size() -> int:
    """Tasks waiting in the broker (not counting those a cluster already took)."""
    return get_broker().queue_size()
