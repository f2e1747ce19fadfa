"""`manage.py purge`: delete finished notifications past their retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db.models import Count, QuerySet

from notifications import retention
from notifications.management.base import OperatorCommand
from notifications.models import FINISHED, Notification
from notifications.selection import (
    DURATION_HELP,
    SelectionError,
    for_option,
    parse_channel,
    parse_duration,
    parse_statuses,
)


class Command(OperatorCommand):
    help = f"""Delete finished notifications ({", ".join(FINISHED)}) that were
created, and last changed, longer ago than --older-than, with their delivery
attempts and status changes. Waiting and in-flight ones are never deleted.
It deletes --batch-size rows per transaction, so the table is never locked
for long. There is no default retention, so that nothing goes by accident.

  manage.py purge --older-than 30d --dry-run
  manage.py purge --older-than 90d --status sent --batch-size 500"""
    epilog = """exit status:
  0  done, also when nothing matched, and after a dry run
  2  bad input: an option to fix"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            metavar="DURATION",
            help=f"Required. The retention: {DURATION_HELP}; e.g. --older-than 30d.",
        )
        parser.add_argument(
            "--status",
            action="append",
            metavar="STATUS",
            help="Only these finished statuses; repeat it or give a comma list, "
            "e.g. --status sent,cancelled. Default: all finished ones.",
        )
        parser.add_argument(
            "--channel",
            metavar="SLUG",
            help="Only this channel, by slug, e.g. --channel ops-feishu.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=retention.DEFAULT_BATCH_SIZE,
            metavar="N",
            help="Notifications deleted per transaction (default "
            f"{retention.DEFAULT_BATCH_SIZE}), e.g. --batch-size 500.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted, by status, and delete nothing, "
            "e.g. --dry-run.",
        )
        self.add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["older_than"]:
            raise self.bad_input(
                "Give the retention with --older-than, e.g. --older-than 30d."
            )
        if options["batch_size"] < 1:
            raise self.bad_input("--batch-size takes 1 or more.")
        try:
            criteria = {
                "older_than": for_option(
                    "--older-than", parse_duration, options["older_than"]
                ),
                "statuses": for_option("--status", parse_statuses, options["status"]),
                "channel": for_option("--channel", parse_channel, options["channel"]),
            }
            queryset = retention.purgeable(**criteria)
        except (SelectionError, ValueError) as exc:
            raise self.bad_input(str(exc)) from None

        if options["dry_run"]:
            self.count(queryset)
            return
        total = queryset.count()
        if not total:
            self.stdout.write("No notifications matched.")
            return
        with self.progress_bar(
            total=total, label="purge", quiet=options["quiet"]
        ) as bar:
            purged = retention.purge(
                **criteria, batch_size=options["batch_size"], on_batch=bar.update
            )
        self.stdout.write(
            f"Deleted {purged.notifications} notification(s), with "
            f"{purged.delivery_attempts} delivery attempt(s) and "
            f"{purged.status_changes} status change(s)."
        )

    def count(self, queryset: QuerySet[Notification]) -> None:
        rows = queryset.values("status").annotate(n=Count("id")).order_by("status")
        by_status = {row["status"]: row["n"] for row in rows}
        total = sum(by_status.values())
        if not total:
            self.stdout.write("No notifications matched.")
            return
        parts = ", ".join(f"{status}: {n}" for status, n in by_status.items())
        self.stdout.write(
            f"Dry run: would delete {total} notification(s) ({parts}) with their "
            "delivery attempts and status changes; nothing was changed."
        )
