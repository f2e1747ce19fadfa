"""django-q2 task entry points: thin wrappers over the delivery functions."""

from __future__ import annotations

from notifications.delivery import deliver_next


def deliver() -> str | None:
    """Deliver the most urgent queued notification; return its id, if any."""
    notification = deliver_next()
    return str(notification.uuid) if notification else None
