"""`manage.py retry_failed`: send failed notifications back to the queue."""

from __future__ import annotations

from notifications.management.base import BulkActionCommand
from notifications.models import Status


class Command(BulkActionCommand):
    help = """Send failed notifications back to the queue, each with a fresh
allowance of attempts. Without ids or --status it takes every failed one; a
notification waiting to retry (--status retrying) is queued at once.

One that failed with an unknown outcome (an SMS the provider may have
delivered before the connection broke) is skipped with the reason, unless
--include-unknown is given after checking with the provider.

  manage.py retry_failed --channel ops-feishu --error-contains timeout
  manage.py retry_failed --since 1d --dry-run
  manage.py retry_failed 3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b
  manage.py retry_failed 3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b --include-unknown"""

    action = "retry"
    default_statuses = (Status.FAILED,)
    needs_selection = False
    sends_again = True
    verb = "retry"
    done_message = "Sent {count} notification(s) back to the queue."
