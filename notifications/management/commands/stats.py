"""`manage.py stats`: the dashboard's delivery figures, for a terminal or a script."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from notifications.health import check_workers
from notifications.management.base import OperatorCommand
from notifications.models import Priority, Status
from notifications.stats import WINDOWS, summary

LABEL_WIDTH = 30
COLUMN_WIDTH = 12


class Command(OperatorCommand):
    help = """Show the delivery figures the admin dashboard and the API show:
notifications created in the last hour and day by status, priority and
channel, each channel's failure rate, the latency from creation to sent, and
the oldest notification still waiting. The table also says whether a worker
cluster is running.

  manage.py stats
  manage.py stats --json | jq .day.by_status"""
    epilog = """exit status:
  0  always; the figures are read, never changed"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the figures as one JSON object, exactly as "
            "notifications.stats.summary() gives them, e.g. --json.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        figures = summary()
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2, sort_keys=True))
            return
        for line in table(figures, workers_alive=check_workers()):
            self.stdout.write(line)


def table(figures: dict[str, Any], *, workers_alive: bool) -> list[str]:
    """The lines of the readable report of `summary()`'s figures."""
    windows = list(WINDOWS)
    oldest = figures["oldest_waiting_at"] or "none waiting"
    workers = (
        "running"
        if workers_alive
        else "not running (no dispatcher renewed its lease lately)"
    )
    lines = [
        f"Orion delivery figures at {figures['generated_at']}",
        f"Oldest waiting notification created: {oldest}",
        f"Workers: {workers}",
        "",
        _row("", [f"last {name}" for name in windows]),
        _row("Created", [figures[w]["total"] for w in windows]),
        "By status",
    ]
    for status in Status.values:
        lines.append(
            _row(
                f"  {status}", [figures[w]["by_status"].get(status, 0) for w in windows]
            )
        )
    lines.append("By priority")
    for priority in Priority.values:
        lines.append(
            _row(
                f"  {priority}",
                [figures[w]["by_priority"].get(priority, 0) for w in windows],
            )
        )
    lines.append("Latency, created to sent")
    for key, label in (("p50", "median"), ("p95", "95th percentile")):
        lines.append(
            _row(
                f"  {label}",
                [_seconds(figures[w]["latency_seconds"][key]) for w in windows],
            )
        )
    lines.append(
        _row(
            "  sends measured",
            [figures[w]["latency_seconds"]["count"] for w in windows],
        )
    )
    slugs = sorted({slug for w in windows for slug in figures[w]["by_channel"]})
    for slug in slugs:
        counts = [figures[w]["by_channel"].get(slug, {}) for w in windows]
        rates = [figures[w]["failure_rate"].get(slug) for w in windows]
        lines += [
            f"Channel {slug}",
            _row("  created", [sum(c.values()) for c in counts]),
            _row("  sent", [c.get(Status.SENT, 0) for c in counts]),
            _row("  failed", [c.get(Status.FAILED, 0) for c in counts]),
            _row(
                "  failure rate",
                ["-" if r is None else f"{r:.1%}" for r in rates],
            ),
        ]
    if not slugs:
        lines.append("No notifications in the last day.")
    return lines


def _row(label: str, values: list[Any]) -> str:
    cells = "".join(f"{value!s:>{COLUMN_WIDTH}}" for value in values)
    return f"{label:<{LABEL_WIDTH}}{cells}".rstrip()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
