"""Hand delivery work to django-q2.

A task does not name one notification: it says "one more notification is
queued". The worker that runs it claims the most urgent queued notification
(see `delivery.claim_next`), so urgent sends overtake any bulk backlog that
is already in the broker, and a duplicate or lost task costs nothing that
the dispatcher's rescue does not restore.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signals import pre_enqueue
from django_q.signing import SignedPackage

logger = logging.getLogger(__name__)

TASK = "notifications.tasks.deliver"


def enqueue(count: int = 1) -> None:
    """Put `count` delivery tasks on the broker now."""
    if count <= 0:
        return
    broker = get_broker()
    packages = [_package() for _ in range(count)]
    # A batch of 10,000 goes in as a few multi-row inserts or one Redis
    # pipeline, not 10,000 round trips as django-q2's async_task would make.
    if isinstance(broker, ORM):
        now = timezone.now()
        rows = [OrmQ(key=broker.list_key, payload=p, lock=now) for p in packages]
        OrmQ.objects.using(Conf.ORM).bulk_create(rows, batch_size=500)
    elif isinstance(broker, Redis):
        pipeline = broker.connection.pipeline(transaction=False)
        for package in packages:
            pipeline.rpush(broker.list_key, package)
        pipeline.execute()
    else:
        _enqueue_each(broker, packages)


def _package() -> str:
    """One signed delivery task, as django-q2's `async_task` would build it."""
    task = {
        "id": uuid.uuid4().hex,
        "name": "orion-deliver",
        "func": TASK,
        "args": (),
        "kwargs": {},
        "save": False,
        "ack_failure": Conf.ACK_FAILURES,
        "started": timezone.now(),
    }
    pre_enqueue.send(sender="django_q", task=task)
    return SignedPackage.dumps(task)


def _enqueue_each(broker: Broker, packages: list[str]) -> None:
    for package in packages:
        broker.enqueue(package)


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
