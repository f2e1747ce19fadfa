"""Deleting finished notifications once their retention has passed."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import FINISHED, Channel, Notification

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000


@dataclasses.dataclass
class Purged:
    """How many rows went: notifications, and the history that cascaded."""

    notifications: int = 0
    delivery_attempts: int = 0
    status_changes: int = 0


def purgeable(
    older_than: datetime.timedelta,
    *,
    statuses: Sequence[str] = (),
    channel: Channel | None = None,
    now: datetime.datetime | None = None,
) -> QuerySet[Notification]:
    """Finished notifications created and last changed more than `older_than` ago.

    `statuses` narrows the finished states; raise `ValueError` if it names a
    state that is not finished, or if `older_than` is not positive.
    """
    if older_than <= datetime.timedelta():
        raise ValueError("The retention must be longer than zero.")
    unfinished = [s for s in statuses if s not in FINISHED]
    if unfinished:
        raise ValueError(
            f"Only finished notifications can be purged, not {', '.join(unfinished)}; "
            f"choose from: {', '.join(FINISHED)}."
        )
    # Both times, so that one created long ago but sent or failed lately (a
    # far-off send_at, a late retry) keeps its history for the whole retention.
    cutoff = (now or timezone.now()) - older_than
    queryset = Notification.objects.filter(
        status__in=list(statuses) or list(FINISHED),
        created_at__lt=cutoff,
        updated_at__lt=cutoff,
    )
    if channel is not None:
        queryset = queryset.filter(channel=channel)
    return queryset


def purge(
    older_than: datetime.timedelta,
    *,
    statuses: Sequence[str] = (),
    channel: Channel | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> Purged:
    """Delete what `purgeable()` selects, `batch_size` notifications at a time.

    Each batch is its own short transaction, so the table is never locked
    for long; `on_batch` is called with each batch's count. Delivery attempts
    and status changes go with their notification. Returns the counts.
    """
    if batch_size < 1:
        raise ValueError("The batch size must be at least 1.")
    # One cutoff for the whole run: rows that age past it meanwhile wait for
    # the next run, and the loop is bound to end.
    queryset = purgeable(older_than, statuses=statuses, channel=channel)
    purged = Purged()
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            break
        with transaction.atomic():
            # Lock and check again: an operator may have retried one meanwhile.
            locked = list(
                queryset.filter(pk__in=pks)
                .select_for_update()
                .values_list("pk", flat=True)
            )
            _, per_model = Notification.objects.filter(pk__in=locked).delete()
        count = per_model.get("notifications.Notification", 0)
        purged.notifications += count
        purged.delivery_attempts += per_model.get("notifications.DeliveryAttempt", 0)
        purged.status_changes += per_model.get("notifications.StatusChange", 0)
        if on_batch is not None:
            on_batch(count)
    logger.info(
        "purged %d notifications older than %s", purged.notifications, older_than
    )
    return purged
