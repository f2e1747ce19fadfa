"""Signal receivers: transition history and the dispatcher in worker clusters."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django_fsm.signals import post_transition
from django_q.signals import post_spawn

from notifications.models import Notification


@receiver(post_transition, sender=Notification)
def record_transition(
    sender: type, instance: Notification, name: str, source: str, target: str, **kw: Any
) -> None:
    """Keep who or what made each change, and why, for the next save."""
    options = kw.get("method_kwargs") or {}
    instance.note_change(
        source,
        target,
        name,
        options.get("by"),
        options.get("actor", ""),
        options.get("reason", ""),
    )


@receiver(post_spawn)
def start_dispatcher(sender: Any, proc_name: str, **kw: Any) -> None:
    """Every worker process of every `qcluster` runs a dispatcher thread.

    Only the one holding the dispatcher lease works; the others stand by to
    take over within a few seconds if its process dies.
    """
    from notifications.dispatcher import start_background_dispatcher

    start_background_dispatcher(proc_name)
