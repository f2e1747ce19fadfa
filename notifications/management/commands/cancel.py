"""`manage.py cancel`: stop notifications that are still waiting to be sent."""

from __future__ import annotations

from notifications.management.base import BulkActionCommand
from notifications.models import WAITING


class Command(BulkActionCommand):
    help = """Cancel notifications that have not started sending: pending,
queued or waiting to retry. One being sent, or finished, cannot be called
back; those are skipped with the reason. Without ids or --status it takes the
waiting ones; give ids or at least one filter.

  manage.py cancel --channel ops-feishu --status pending
  manage.py cancel --batch 9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6 --dry-run
  manage.py cancel 3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b"""

    action = "cancel"
    default_statuses = WAITING
    verb = "cancel"
    done_message = "Cancelled {count} notification(s)."
