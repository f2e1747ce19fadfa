"""What Orion's operator commands share: exit codes, prompts, progress, bulk runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
    OutputWrapper,
)
from tqdm import tqdm

from notifications import services
from notifications.models import Notification
from notifications.selection import (
    Selection,
    SelectionError,
    add_filter_arguments,
    describe,
    fetch_in_chunks,
    selection_from_options,
)

T = TypeVar("T")

EXIT_DECLINED = 1
EXIT_BAD_INPUT = 2
EXIT_SKIPPED = 3
DEFAULT_CONFIRM_ABOVE = 20

EXIT_CODES = f"""exit status:
  0  done, also when nothing matched, and after a dry run
  {EXIT_DECLINED}  you answered no at the confirmation prompt; nothing changed
  {EXIT_BAD_INPUT}  bad input (an option to fix), or more than --confirm-above
     notifications without --yes when there is no terminal to ask
  {EXIT_SKIPPED}  done, but some notifications were skipped (reasons listed)"""


class HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description and epilog kept as written."""


class _StderrStream:
    """Lets tqdm draw through a command's stderr, which adds no line endings."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=lambda s: s, ending="")

    def flush(self) -> None:
        self.out.flush()


class OperatorCommand(BaseCommand):
    """A command an operator runs by hand or from cron."""

    epilog = ""

    def create_parser(
        self, prog_name: str, subcommand: str, **kwargs: Any
    ) -> CommandParser:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("epilog", self.epilog or None)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_quiet_argument(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="Draw no progress bar (none is drawn when stderr is not a "
            "terminal either), e.g. --quiet.",
        )

    def progress_bar(self, *, total: int, label: str, quiet: bool) -> tqdm:
        """A progress bar on stderr, drawn only when a person watches it."""
        return tqdm(
            total=total,
            desc=label,
            unit="notification",
            file=_StderrStream(self.stderr),
            disable=quiet or not self.stderr.isatty(),
        )

    def progress(
        self, items: Iterable[T], *, total: int, label: str, quiet: bool
    ) -> Iterator[T]:
        """Iterate `items`, moving a progress bar (see `progress_bar`)."""
        with self.progress_bar(total=total, label=label, quiet=quiet) as bar:
            for item in items:
                yield item
                bar.update(1)

    def bad_input(self, message: str) -> CommandError:
        return CommandError(message, returncode=EXIT_BAD_INPUT)

    def confirm(self, question: str) -> bool:
        """Ask on stdout, read y/N from stdin; anything but yes is no."""
        self.stdout.write(f"{question} [y/N] ", ending="")
        self.stdout.flush()
        return sys.stdin.readline().strip().lower() in {"y", "yes"}


def stdin_is_interactive() -> bool:
    # Looked up at call time, so tests can swap sys.stdin.
    stdin = sys.stdin
    return stdin is not None and stdin.isatty()


class BulkActionCommand(OperatorCommand):
    """Select notifications with the shared filters and apply one action to each.

    Subclasses name the `action` that `services.bulk_action` knows and the
    words to report it with; everything else is the same in every command.
    """

    action = ""
    default_statuses: Sequence[str] = ()
    # Whether a run with neither ids nor filters is refused: acting on every
    # notification in the database is never what an operator meant.
    needs_selection = True
    verb = ""  # as in "Resend 25 notifications?"
    done_message = ""  # with {count}: "Cancelled {count} notification(s)."
    # Whether the action sends a message again, and so offers
    # --include-unknown for failures whose outcome is unknown.
    sends_again = False
    epilog = EXIT_CODES

    def add_arguments(self, parser: CommandParser) -> None:
        add_filter_arguments(
            parser, default_status=",".join(self.default_statuses) or ""
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be acted on (id, channel, recipient, status, "
            "created) and change nothing, e.g. --dry-run.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask for confirmation, however many match; needed "
            "above --confirm-above when stdin is not a terminal (cron, "
            "scripts), e.g. --yes.",
        )
        parser.add_argument(
            "--confirm-above",
            type=int,
            default=DEFAULT_CONFIRM_ABOVE,
            metavar="N",
            help="Ask before acting on more than N notifications "
            f"(default {DEFAULT_CONFIRM_ABOVE}; 0 always asks), e.g. "
            "--confirm-above 100.",
        )
        if self.sends_again:
            parser.add_argument(
                "--include-unknown",
                action="store_true",
                help="Also send again those that failed with an unknown outcome "
                "(an SMS whose provider did not answer): the provider may have "
                "delivered them, so another send could reach the recipient "
                "twice. Without it they are skipped; check with the provider "
                "first, e.g. --include-unknown.",
            )
        self.add_quiet_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        selection = self.select(options)
        queryset = selection.queryset()
        # The keys are taken once, up front: copies made by a resend must not
        # join the selection they came from.
        pks = list(queryset.values_list("pk", flat=True))
        matched = queryset.values_list("uuid", flat=True) if selection.ids else []
        unmatched = selection.unmatched_ids(matched)

        if not pks:
            self.stdout.write("No notifications matched.")
            self.finish(len(unmatched), unmatched)
            return
        if options["dry_run"]:
            self.list_dry_run(pks, unmatched)
            return
        self.check_confirmed(len(pks), options)

        items = self.progress(
            fetch_in_chunks(pks),
            total=len(pks),
            label=self.verb,
            quiet=options["quiet"],
        )
        include_unknown = options.get("include_unknown", False)
        done, skipped = services.bulk_action(
            items, self.action, via="cli", confirm_unknown=include_unknown
        )
        self.report(done, options["verbosity"])
        reasons = [(str(n.uuid), reason) for n, reason in skipped] + unmatched
        if self.sends_again and not include_unknown:
            unknown = sum(services.failed_with_unknown_outcome(n) for n, _ in skipped)
        else:
            unknown = 0
        self.finish(len(pks) + len(unmatched), reasons, unknown=unknown)

    def select(self, options: dict[str, Any]) -> Selection:
        if options["confirm_above"] < 0:
            raise self.bad_input("--confirm-above takes 0 or more.")
        try:
            selection = selection_from_options(
                options, default_statuses=self.default_statuses
            )
        except SelectionError as exc:
            raise self.bad_input(str(exc)) from None
        if self.needs_selection and not selection.has_filters:
            raise self.bad_input(
                "Say which notifications: give their ids, or at least one filter "
                "(--status, --channel, --since, --until, --batch, --error-contains)."
            )
        return selection

    def list_dry_run(self, pks: list[int], unmatched: list[tuple[str, str]]) -> None:
        self.stdout.write(
            f"{'ID':36}  {'CHANNEL':20}  {'RECIPIENT':30}  {'STATUS':9}  CREATED"
        )
        for notification in fetch_in_chunks(pks):
            row = describe(notification)
            self.stdout.write(
                f"{row['id']:36}  {row['channel']:20}  {row['recipient']:30}  "
                f"{row['status']:9}  {row['created']}"
            )
        for uuid, reason in unmatched:
            self.stdout.write(f"{uuid:36}  ({reason})")
        self.stdout.write(
            f"Dry run: would {self.verb} {len(pks)} notification(s); "
            "nothing was changed."
        )

    def check_confirmed(self, count: int, options: dict[str, Any]) -> None:
        """Return if the run may go ahead; raise `CommandError` otherwise."""
        limit = options["confirm_above"]
        if options["yes"] or count <= limit:
            return
        if not stdin_is_interactive():
            raise self.bad_input(
                f"This would {self.verb} {count} notifications, more than "
                f"--confirm-above {limit}, and there is no terminal to ask. "
                "Add --yes to go ahead, or --dry-run to see them first."
            )
        if not self.confirm(f"{self.verb.capitalize()} {count} notifications?"):
            raise CommandError(
                "Not confirmed; nothing was changed.", returncode=EXIT_DECLINED
            )

    def report(self, done: list[Notification], verbosity: int) -> None:
        self.stdout.write(self.done_message.format(count=len(done)))
        if verbosity >= 2:
            for notification in done:
                self.stdout.write(f"  {notification.uuid}")

    def finish(
        self, selected: int, skipped: list[tuple[str, str]], *, unknown: int = 0
    ) -> None:
        """List what was skipped and why; exit with `EXIT_SKIPPED` if any was.

        `unknown` counts those skipped for an unknown outcome, which
        --include-unknown would have sent again.
        """
        if not skipped:
            return
        self.stdout.write(f"Skipped {len(skipped)}:")
        for uuid, reason in skipped:
            self.stdout.write(f"  {uuid}: {reason}")
        if unknown:
            self.stdout.write(
                f"{unknown} of them failed with an unknown outcome. Once the "
                "provider confirms they were not delivered, run again with "
                "--include-unknown to send them again."
            )
        raise CommandError(
            f"{len(skipped)} of {selected} notification(s) were skipped; "
            "the reasons are listed above.",
            returncode=EXIT_SKIPPED,
        )
