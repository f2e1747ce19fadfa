"""`manage.py send`: one notification from a script, or a clear refusal."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.utils import timezone

from notifications.models import Channel, Notification, Priority, Status, Template
from tests.command_support import Run, run

pytestmark = pytest.mark.django_db


def send(channel: Channel, *args: str, stdin: str = "") -> Run:
    """Run `manage.py send --channel <channel> ...args`."""
    return run("send", "--channel", channel.slug, *args, stdin=stdin)


def created(result: Run) -> Notification:
    """The notification whose id `send` printed."""
    return Notification.objects.get(uuid=result.stdout.strip())


@pytest.fixture
def disk_template(db: None) -> Template:
    return Template.objects.create(
        slug="disk-full",
        subject="Disk on {{ host }}",
        body="Disk on {{ host }} has {{ free }} free.",
    )


def test_creates_a_queued_notification_and_prints_only_its_id(feishu_channel):
    result = send(
        feishu_channel, "--body", "Backup finished", "--recipient", "ou_alice"
    )

    assert result.code == 0
    notification = Notification.objects.get(uuid=uuid.UUID(result.stdout.strip()))
    assert notification.status == Status.QUEUED
    assert notification.body == "Backup finished"
    assert notification.recipient == "ou_alice"
    assert notification.created_via == "cli"


def test_json_prints_the_notification_as_stored(feishu_channel):
    result = send(
        feishu_channel, "--subject", "Backup", "--body", "Backup finished",
        "--priority", "urgent", "--metadata", '{"ticket": "OPS-42"}', "--json",
    )  # fmt: skip

    shown = json.loads(result.stdout)
    stored = Notification.objects.get(uuid=shown["id"])
    assert shown["channel"] == feishu_channel.slug
    assert shown["status"] == stored.status == Status.QUEUED
    assert shown["priority"] == stored.priority == Priority.URGENT
    assert shown["metadata"] == stored.metadata == {"ticket": "OPS-42"}
    assert shown["body"] == "Backup finished"
    assert "webhook" not in result.stdout


def test_body_dash_reads_the_message_from_stdin(feishu_channel):
    result = send(feishu_channel, "--body", "-", stdin="line one\nline two\n")

    notification = created(result)
    assert notification.body == "line one\nline two\n"


def test_renders_a_template_with_the_context(feishu_channel, disk_template):
    result = send(
        feishu_channel, "--template", "disk-full",
        "--context", '{"host": "db-1", "free": "3%"}',
    )  # fmt: skip

    notification = created(result)
    assert notification.subject == "Disk on db-1"
    assert notification.body == "Disk on db-1 has 3% free."
    assert notification.template == disk_template


def test_reads_the_context_from_a_file(feishu_channel, disk_template, tmp_path):
    path = tmp_path / "context.json"
    path.write_text('{"host": "db-2", "free": "1%"}', encoding="utf-8")

    result = send(
        feishu_channel, "--template", "disk-full", "--context-file", str(path)
    )

    notification = created(result)
    assert notification.body == "Disk on db-2 has 1% free."


def test_a_missing_template_variable_is_a_field_error(feishu_channel, disk_template):
    result = send(
        feishu_channel, "--template", "disk-full", "--context", '{"host": "db-1"}'
    )

    assert result.code == 2
    assert "--context: Missing template variables: free." in result.stderr
    assert Notification.objects.count() == 0


def test_send_at_as_a_duration_holds_it_until_then(feishu_channel):
    before = timezone.now()

    result = send(feishu_channel, "--body", "Later", "--send-at", "2h")

    notification = created(result)
    assert notification.status == Status.PENDING
    two_hours = datetime.timedelta(hours=2)
    assert before + two_hours <= notification.send_at <= timezone.now() + two_hours


def test_send_at_takes_an_iso_time_with_its_offset(feishu_channel):
    when = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0)

    result = send(feishu_channel, "--body", "Tomorrow", "--send-at", when.isoformat())

    assert created(result).send_at == when


def test_each_field_error_is_printed_and_it_exits_2(feishu_channel):
    result = send(
        feishu_channel, "--body", "Late", "--send-at", "2h", "--expires-at", "1h"
    )

    assert result.code == 2
    assert "--expires-at: The expiry must come after" in result.stderr
    assert "not created" in result.stderr
    assert Notification.objects.count() == 0


def test_an_unknown_channel_is_a_field_error(feishu_channel):
    result = run("send", "--channel", "nowhere", "--body", "Hello")

    assert result.code == 2
    assert "--channel: No channel 'nowhere'." in result.stderr


def test_an_unknown_priority_is_a_field_error(feishu_channel):
    result = send(feishu_channel, "--body", "Hi", "--priority", "asap")

    assert result.code == 2
    assert "--priority: Choose one of: urgent, normal, bulk." in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--body", "x"], "Give the channel with --channel"),
        (
            ["--channel", "ops-feishu", "--template", "disk-full", "--context", "{"],
            "--context is not valid JSON",
        ),
        (
            ["--channel", "ops-feishu", "--template", "disk-full", "--context", "[1]"],
            "--context must be a JSON object",
        ),
        (
            ["--channel", "ops-feishu", "--body", "x", "--metadata", '"text"'],
            "--metadata must be a JSON object",
        ),
        (
            ["--channel", "ops-feishu", "--template", "disk-full", "--context", "{}"]
            + ["--context-file", "/nonexistent/context.json"],
            "Give --context or --context-file, not both",
        ),
        (
            ["--channel", "ops-feishu", "--template", "disk-full"]
            + ["--context-file", "/nonexistent/context.json"],
            "Cannot read --context-file /nonexistent/context.json",
        ),
        (
            ["--channel", "ops-feishu", "--body", "x", "--send-at", "soon"],
            "--send-at: 'soon' is not an ISO date",
        ),
    ],
)
def test_bad_input_exits_2_and_creates_nothing(
    feishu_channel, disk_template, args, message
):
    result = run("send", *args)

    assert result.code == 2
    assert message in result.stderr
    assert Notification.objects.count() == 0
