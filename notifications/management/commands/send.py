"""`manage.py send`: create one notification from a script or a cron job."""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from notifications import services
from notifications.management.base import EXIT_BAD_INPUT, OperatorCommand
from notifications.models import Notification, Priority
from notifications.selection import FUTURE_MOMENT_HELP, SelectionError, parse_moment

# How each field a validation error names is spelled on this command line.
OPTION_OF_FIELD = {
    "channel": "--channel",
    "recipient": "--recipient",
    "template": "--template",
    "context": "--context",
    "subject": "--subject",
    "body": "--body",
    "priority": "--priority",
    "send_at": "--send-at",
    "expires_at": "--expires-at",
}


class Command(OperatorCommand):
    help = """Create one notification and queue it (or hold it until --send-at).
Give either a template with its context, or the message itself (or, on a
channel whose provider holds the template, such as SMS, only the context).
It prints the new notification's id, or with --json the whole notification.

  manage.py send --channel ops-feishu --body "Backup of db-1 finished"
  manage.py send --channel ops-feishu --template disk-full \\
      --context '{"host": "db-1", "free": "3%"}' --priority urgent
  df -h | manage.py send --channel ops-mail --recipient ops@example.com \\
      --subject "Disk report" --body -"""
    epilog = f"""exit status:
  0  created
  {EXIT_BAD_INPUT}  not created: bad input, or the notification is invalid (each
     field's error is printed on stderr)"""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--channel",
            metavar="SLUG",
            help="Required. The channel to send through, e.g. --channel ops-feishu.",
        )
        parser.add_argument(
            "--recipient",
            default="",
            help="Who receives it, in the channel's form (an address, a phone "
            "number, user ids to mention), e.g. --recipient ops@example.com.",
        )
        parser.add_argument(
            "--template",
            metavar="SLUG",
            help="Render this template with --context or --context-file, e.g. "
            "--template disk-full. Not with --subject/--body.",
        )
        parser.add_argument(
            "--context",
            metavar="JSON",
            help="Variables as a JSON object: those of --template, or the "
            "provider's own template parameters on a channel that takes no "
            'body (SMS), e.g. --context \'{"host": "db-1"}\'.',
        )
        parser.add_argument(
            "--context-file",
            metavar="PATH",
            help="Read the JSON context from a file, or from stdin with -, e.g. "
            "--context-file /tmp/context.json.",
        )
        parser.add_argument(
            "--subject",
            default="",
            help='A subject or title, e.g. --subject "Backup finished".',
        )
        parser.add_argument(
            "--body",
            default="",
            help="The message itself, or - to read it from stdin, e.g. "
            '--body "Backup of db-1 finished".',
        )
        parser.add_argument(
            "--priority",
            default=Priority.NORMAL,
            help=f"One of {', '.join(Priority.values)} (default "
            f"{Priority.NORMAL}), e.g. --priority urgent.",
        )
        parser.add_argument(
            "--send-at",
            metavar="WHEN",
            help=f"Hold it until WHEN: {FUTURE_MOMENT_HELP}; e.g. --send-at 2h.",
        )
        parser.add_argument(
            "--expires-at",
            metavar="WHEN",
            help="Never send it after WHEN (same forms as --send-at), e.g. "
            "--expires-at 2024-05-01T18:00.",
        )
        parser.add_argument(
            "--metadata",
            metavar="JSON",
            help="Your own data to keep with it, as a JSON object, e.g. "
            '--metadata \'{"ticket": "OPS-42"}\'.',
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the created notification as JSON instead of its id, "
            "e.g. --json.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        spec = self.spec(options)
        try:
            notification = services.create_notification(spec, via="cli")
        except ValidationError as exc:
            errors = (
                exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            )
            for field, messages in errors.items():
                name = OPTION_OF_FIELD.get(field, field)
                for message in messages:
                    self.stderr.write(f"{name}: {message}" if name else message)
            raise CommandError(
                "The notification was not created; fix the errors above.",
                returncode=EXIT_BAD_INPUT,
            ) from None
        if options["json"]:
            self.stdout.write(json.dumps(as_json(notification), indent=2))
        else:
            self.stdout.write(str(notification.uuid))

    def spec(self, options: dict[str, Any]) -> services.NotificationSpec:
        """Turn the options into a spec; raise `CommandError` on bad input."""
        if not options["channel"]:
            raise self.bad_input("Give the channel with --channel SLUG.")
        if options["context"] is not None and options["context_file"]:
            raise self.bad_input("Give --context or --context-file, not both.")
        context_text = options["context"]
        if options["context_file"]:
            context_text = self.read_file(options["context_file"])
        body = options["body"]
        if body == "-":
            body = sys.stdin.read()
        now = timezone.now()
        return services.NotificationSpec(
            channel=options["channel"],
            recipient=options["recipient"],
            template=options["template"] or None,
            context=self.json_object(context_text, "--context"),
            subject=options["subject"],
            body=body,
            priority=options["priority"],
            send_at=self.moment(options["send_at"], "--send-at", now),
            expires_at=self.moment(options["expires_at"], "--expires-at", now),
            metadata=self.json_object(options["metadata"], "--metadata"),
        )

    def read_file(self, path: str) -> str:
        if path == "-":
            return sys.stdin.read()
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise self.bad_input(f"Cannot read --context-file {path}: {exc}") from None

    def json_object(self, text: str | None, option: str) -> dict[str, Any]:
        if text is None:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise self.bad_input(f"{option} is not valid JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise self.bad_input(
                f'{option} must be a JSON object, e.g. \'{{"host": "db-1"}}\'.'
            )
        return value

    def moment(
        self, text: str | None, option: str, now: datetime.datetime
    ) -> datetime.datetime | None:
        if not text:
            return None
        try:
            return parse_moment(text, now=now, future=True)
        except SelectionError as exc:
            raise self.bad_input(f"{option}: {exc}") from None


def as_json(notification: Notification) -> dict[str, Any]:
    """The notification as a script reads it; nothing of the channel but its slug."""

    def moment(value: datetime.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(notification.uuid),
        "channel": notification.channel.slug,
        "recipient": notification.recipient,
        "template": notification.template.slug if notification.template else None,
        "status": notification.status,
        "priority": notification.priority,
        "subject": notification.subject,
        "body": notification.body,
        "send_at": moment(notification.send_at),
        "expires_at": moment(notification.expires_at),
        "created_at": moment(notification.created_at),
        "metadata": notification.metadata,
    }
