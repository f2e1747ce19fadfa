"""`manage.py resend`: send notifications again as new ones, in one new batch."""

from __future__ import annotations

from notifications.management.base import BulkActionCommand
from notifications.models import Notification, Status


class Command(BulkActionCommand):
    help = """Send notifications again: each selected one is copied, as it was
rendered, into a new notification linked to it, and all the copies share one
new batch.

Only finished notifications are resent. With filters and no --status it takes
the failed, cancelled and expired ones, not the sent ones (add --status sent
for those); ids are taken in any finished state. One still pending, queued,
sending or retrying is skipped with the reason, since a copy would duplicate
it: cancel it, or retry it, instead. One that failed with an unknown outcome
(an SMS the provider may have delivered) is skipped unless --include-unknown
is given. A disabled channel is skipped.

Give ids, or filters, or both (filters narrow the ids):
  manage.py resend 3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b
  manage.py resend --status failed --channel ops-feishu --since 2h --dry-run
  manage.py resend --batch 9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6 --yes"""

    action = "resend"
    default_statuses = (Status.FAILED, Status.CANCELLED, Status.EXPIRED)
    sends_again = True
    verb = "resend"

    def report(self, done: list[Notification], verbosity: int) -> None:
        batch = done[0].batch_id if done else None
        where = f" in the new batch {batch}" if batch else ""
        self.stdout.write(f"Resent {len(done)} notification(s){where}.")
        if verbosity >= 2:
            for copy in done:
                self.stdout.write(f"  {copy.resend_of.uuid} -> {copy.uuid}")
