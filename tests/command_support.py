"""Helpers for the operator command tests: notifications in real states, runs."""

from __future__ import annotations

import dataclasses
import datetime
import io
import sys
from typing import Any
from unittest import mock

from django.core.management import CommandError, call_command, load_command_class
from django.utils import timezone

from notifications.models import Channel, Notification, Status
from notifications.services import NotificationSpec, create_notification
from tests.builders import saved_channel
from tests.fakes.feishu import FakeFeishu


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's shell would."""

    def isatty(self) -> bool:
        return True


@dataclasses.dataclass
class Run:
    stdout: str
    stderr: str
    code: int


def run(
    name: str,
    *args: str,
    stdin: str = "",
    interactive: bool = False,
    stderr_tty: bool = False,
) -> Run:
    """Run a command as from a shell; its exit status is `code`.

    stdin holds `stdin`, and is a terminal when `interactive`; stderr is a
    terminal when `stderr_tty`.
    """
    out = io.StringIO()
    err = Terminal() if stderr_tty else io.StringIO()
    fake_stdin = Terminal(stdin) if interactive else io.StringIO(stdin)
    code = 0
    with mock.patch.object(sys, "stdin", fake_stdin):
        try:
            call_command(name, *args, stdout=out, stderr=err)
        except CommandError as exc:
            code = exc.returncode
            err.write(str(exc))
    return Run(out.getvalue(), err.getvalue(), code)


def help_text(name: str) -> str:
    """What `manage.py <name> --help` prints."""
    command = load_command_class("notifications", name)
    return command.create_parser("manage.py", name).format_help()


def second_channel(fake: FakeFeishu, slug: str = "dev-feishu") -> Channel:
    return saved_channel(
        slug=slug,
        name=slug,
        kind="feishu",
        secrets={"webhook_url": fake.webhook_url},
    )


def make(
    channel: Channel,
    status: str = Status.QUEUED,
    *,
    recipient: str = "",
    error: str = "Feishu answered HTTP 503.",
    age: datetime.timedelta | None = None,
    **spec: Any,
) -> Notification:
    """A notification created as the API does, walked into `status`.

    With `age`, it was created, last changed (and sent) that long ago.
    """
    now = timezone.now()
    if status == Status.PENDING:
        spec.setdefault("send_at", now + datetime.timedelta(hours=1))
    notification = create_notification(
        NotificationSpec(
            channel=channel, recipient=recipient, body="Disk almost full", **spec
        )
    )
    steps = {
        Status.PENDING: [],
        Status.QUEUED: [],
        Status.SENDING: [("claim", {})],
        Status.SENT: [("claim", {}), ("mark_sent", {})],
        Status.RETRYING: [
            ("claim", {}),
            (
                "schedule_retry",
                {"when": now + datetime.timedelta(hours=1), "reason": error},
            ),
        ],
        Status.FAILED: [("claim", {}), ("fail", {"reason": error})],
        Status.CANCELLED: [("cancel", {})],
        Status.EXPIRED: [("expire", {})],
    }[status]
    for name, kwargs in steps:
        getattr(notification, name)(**kwargs)
        notification.save()
    if age is not None:
        Notification.objects.filter(pk=notification.pk).update(
            created_at=now - age,
            updated_at=now - age,
            sent_at=now - age if status == Status.SENT else None,
        )
        notification.refresh_from_db()
    assert notification.status == status
    return notification


def statuses() -> dict[str, str]:
    """Every notification's status, by public id."""
    return {str(u): s for u, s in Notification.objects.values_list("uuid", "status")}
