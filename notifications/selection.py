"""Which notifications an operator command acts on: its options and queryset.

`resend`, `retry_failed`, `cancel` and `purge` share these options, so a
filter means the same thing in every command. Parsing raises `SelectionError`
with a message that tells the operator what to write instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import uuid
from argparse import ArgumentParser
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils import dateparse, timezone

from notifications.models import Batch, Channel, Notification, Status

T = TypeVar("T")

UNITS = {
    "w": datetime.timedelta(weeks=1),
    "d": datetime.timedelta(days=1),
    "h": datetime.timedelta(hours=1),
    "m": datetime.timedelta(minutes=1),
    "s": datetime.timedelta(seconds=1),
}
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_DURATION_PART = re.compile(r"(\d+)([wdhms])")
DURATION_HELP = "a duration such as 30m, 2h, 7d or 1d12h (units: w, d, h, m, s)"
_MOMENT_FORMS = (
    "an ISO date (2024-05-01: midnight in Orion's time zone), an ISO date and "
    "time (2024-05-01T08:30, 2024-05-01T08:30:00+08:00) or a duration meaning "
    "that long {direction} (30m, 2h, 7d, 1d12h)"
)
MOMENT_HELP = _MOMENT_FORMS.format(direction="ago")
FUTURE_MOMENT_HELP = _MOMENT_FORMS.format(direction="from now")
# Rows fetched per query while acting, so a large selection is never held in
# memory whole and no cursor stays open while the same table is written to.
CHUNK_SIZE = 500


class SelectionError(ValueError):
    """An option's value cannot be understood; the message says how to fix it."""


def parse_duration(text: str) -> datetime.timedelta:
    """Return the span `text` names ("30m", "2h", "7d", "1d12h").

    Raise `SelectionError` unless it is a positive duration in those units.
    """
    compact = (text or "").strip().replace(" ", "")
    if not _DURATION.fullmatch(compact):
        raise SelectionError(f"'{text}' is not {DURATION_HELP}.")
    span = sum(
        (int(n) * UNITS[unit] for n, unit in _DURATION_PART.findall(compact)),
        datetime.timedelta(),
    )
    if span <= datetime.timedelta():
        raise SelectionError(f"'{text}' is zero; give a duration longer than that.")
    return span


def parse_moment(
    text: str, *, now: datetime.datetime, future: bool = False
) -> datetime.datetime:
    """Return the aware time `text` names.

    `text` is an ISO date or date-time (naive ones are in the current time
    zone) or a duration, which counts back from `now` (or forward, when
    `future` is true). Raise `SelectionError` otherwise.
    """
    text = (text or "").strip()
    if _DURATION.fullmatch(text.replace(" ", "")):
        span = parse_duration(text)
        return now + span if future else now - span
    try:
        moment = dateparse.parse_datetime(text)
        if moment is None:
            day = dateparse.parse_date(text)
            if day is not None:
                moment = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        moment = None
    if moment is None:
        forms = FUTURE_MOMENT_HELP if future else MOMENT_HELP
        raise SelectionError(f"'{text}' is not {forms}.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_statuses(values: str | Iterable[str] | None) -> list[str]:
    """Statuses from repeated and comma-separated values; refuse unknown ones."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    statuses: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in Status.values:
                raise SelectionError(
                    f"Unknown status '{name}'; choose from: {', '.join(Status.values)}."
                )
            if name not in statuses:
                statuses.append(name)
    return statuses


def parse_channel(slug: str | None) -> Channel | None:
    """The channel with this slug, or None when no slug is given."""
    if not slug:
        return None
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None:
        known = list(Channel.objects.values_list("slug", flat=True)[:20])
        hint = f"known channels: {', '.join(known)}" if known else "none exist yet"
        raise SelectionError(f"No channel '{slug}' ({hint}).")
    return channel


def parse_uuid(text: str, what: str) -> uuid.UUID:
    """The UUID in `text`; `what` names it in the error ("batch id")."""
    try:
        return uuid.UUID(str(text).strip())
    except ValueError:
        raise SelectionError(
            f"'{text}' is not a valid {what}; give a UUID such as "
            "3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b."
        ) from None


@dataclasses.dataclass
class Selection:
    """The notifications named by ids and narrowed by filters, oldest first.

    `default_statuses` apply only when neither ids nor `statuses` are given:
    a notification named by id is always looked at, so that the command can
    say why it was left alone.
    """

    ids: list[uuid.UUID] = dataclasses.field(default_factory=list)
    statuses: list[str] = dataclasses.field(default_factory=list)
    default_statuses: Sequence[str] = ()
    channel: Channel | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None
    batch: Batch | None = None
    error_contains: str = ""

    @property
    def has_filters(self) -> bool:
        """Whether the operator narrowed the selection at all."""
        return bool(
            self.ids
            or self.statuses
            or self.channel
            or self.since
            or self.until
            or self.batch
            or self.error_contains
        )

    def queryset(self) -> QuerySet[Notification]:
        queryset = Notification.objects.all()
        if self.ids:
            queryset = queryset.filter(uuid__in=self.ids)
        statuses = self.statuses or ([] if self.ids else list(self.default_statuses))
        if statuses:
            queryset = queryset.filter(status__in=statuses)
        if self.channel is not None:
            queryset = queryset.filter(channel=self.channel)
        if self.since is not None:
            queryset = queryset.filter(created_at__gte=self.since)
        if self.until is not None:
            queryset = queryset.filter(created_at__lt=self.until)
        if self.batch is not None:
            queryset = queryset.filter(batch=self.batch)
        if self.error_contains:
            queryset = queryset.filter(last_error__icontains=self.error_contains)
        return queryset.order_by("created_at", "id")

    def unmatched_ids(self, matched: Iterable[uuid.UUID]) -> list[tuple[str, str]]:
        """Each named id outside the selection, with why: (id, reason)."""
        found = set(matched)
        left = [i for i in self.ids if i not in found]
        existing = set(
            Notification.objects.filter(uuid__in=left).values_list("uuid", flat=True)
        )
        return [
            (
                str(i),
                "does not match the filters"
                if i in existing
                else "no such notification",
            )
            for i in left
        ]


def add_filter_arguments(
    parser: ArgumentParser, *, ids: bool = True, default_status: str = ""
) -> None:
    """Add the shared selection options (and positional ids) to `parser`."""
    if ids:
        parser.add_argument(
            "ids",
            nargs="*",
            metavar="ID",
            help="Public ids (UUIDs) of notifications, e.g. "
            "3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b. Filters narrow them further.",
        )
    default = f" Default without ids: {default_status}." if default_status else ""
    parser.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="Only these statuses; repeat it or give a comma list, e.g. "
        f"--status failed,expired. One of: {', '.join(Status.values)}.{default}",
    )
    parser.add_argument(
        "--channel",
        metavar="SLUG",
        help="Only this channel, by slug, e.g. --channel ops-feishu.",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help=f"Only those created at or after WHEN: {MOMENT_HELP}; e.g. --since 2h.",
    )
    parser.add_argument(
        "--until",
        metavar="WHEN",
        help="Only those created before WHEN (same forms as --since), "
        "e.g. --until 2024-05-01.",
    )
    parser.add_argument(
        "--batch",
        metavar="UUID",
        help="Only those of this batch, e.g. --batch "
        "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6.",
    )
    parser.add_argument(
        "--error-contains",
        metavar="TEXT",
        help="Only those whose last error contains TEXT, ignoring case, e.g. "
        "--error-contains timeout.",
    )


def for_option(option: str, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `parse`; name `option` in the `SelectionError` it may raise."""
    try:
        return parse(*args, **kwargs)
    except SelectionError as exc:
        raise SelectionError(f"{option}: {exc}") from None


def selection_from_options(
    options: dict[str, Any],
    *,
    default_statuses: Sequence[str] = (),
    now: datetime.datetime | None = None,
) -> Selection:
    """Build a `Selection` from parsed options; raise `SelectionError`."""
    now = now or timezone.now()
    ids = [parse_uuid(i, "notification id") for i in options.get("ids") or []]
    since = options.get("since")
    until = options.get("until")
    batch = None
    if options.get("batch"):
        batch_id = for_option("--batch", parse_uuid, options["batch"], "batch id")
        batch = Batch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise SelectionError(f"--batch: No batch {batch_id}.")
    selection = Selection(
        ids=list(dict.fromkeys(ids)),
        statuses=for_option("--status", parse_statuses, options.get("status")),
        default_statuses=default_statuses,
        channel=for_option("--channel", parse_channel, options.get("channel")),
        since=for_option("--since", parse_moment, since, now=now) if since else None,
        until=for_option("--until", parse_moment, until, now=now) if until else None,
        batch=batch,
        error_contains=(options.get("error_contains") or "").strip(),
    )
    if selection.since and selection.until and selection.since >= selection.until:
        raise SelectionError(
            "--since must be earlier than --until; nothing is created in between."
        )
    return selection


def fetch_in_chunks(
    pks: Sequence[int], chunk_size: int = CHUNK_SIZE
) -> Iterator[Notification]:
    """Yield the notifications with these primary keys, in the given order.

    Rows are loaded a chunk at a time, each as it is now; a row deleted
    meanwhile is left out.
    """
    for start in range(0, len(pks), chunk_size):
        part = pks[start : start + chunk_size]
        rows = Notification.objects.select_related("channel").in_bulk(part)
        for pk in part:
            if pk in rows:
                yield rows[pk]


def describe(notification: Notification) -> dict[str, str]:
    """The columns a dry run lists for one notification."""
    return {
        "id": str(notification.uuid),
        "channel": notification.channel.slug,
        "recipient": notification.recipient or "-",
        "status": notification.status,
        "created": timezone.localtime(notification.created_at).isoformat(
            timespec="seconds"
        ),
    }
