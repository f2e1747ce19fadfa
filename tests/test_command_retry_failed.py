"""`manage.py retry_failed`: failed notifications back to the queue."""

from __future__ import annotations

import datetime

import pytest

from notifications.models import Notification, Status, StatusChange
from tests.command_support import help_text, make, run, second_channel, statuses
from tests.unknown_outcomes import failed_with_unknown_outcome

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def test_queues_every_failed_one_and_nothing_else_by_default(feishu_channel):
    failed = [make(feishu_channel, Status.FAILED) for _ in range(2)]
    sent = make(feishu_channel, Status.SENT)
    retrying = make(feishu_channel, Status.RETRYING)

    result = run("retry_failed")

    assert result.code == 0
    now = statuses()
    assert [now[str(n.uuid)] for n in failed] == [Status.QUEUED, Status.QUEUED]
    assert now[str(sent.uuid)] == Status.SENT
    assert now[str(retrying.uuid)] == Status.RETRYING
    assert "Sent 2 notification(s) back to the queue." in result.stdout


def test_gives_each_a_fresh_allowance_and_records_the_cli(feishu_channel):
    failed = make(feishu_channel, Status.FAILED)

    run("retry_failed", str(failed.uuid))

    failed.refresh_from_db()
    assert failed.attempts_left > 0
    assert failed.last_error == ""
    change = StatusChange.objects.filter(notification=failed).last()
    assert (change.source, change.target, change.actor) == ("failed", "queued", "cli")


def test_a_named_notification_that_did_not_fail_is_skipped_with_the_reason(
    feishu_channel,
):
    failed = make(feishu_channel, Status.FAILED)
    sent = make(feishu_channel, Status.SENT)

    result = run("retry_failed", str(failed.uuid), str(sent.uuid))

    assert result.code == 3
    assert statuses()[str(failed.uuid)] == Status.QUEUED
    assert statuses()[str(sent.uuid)] == Status.SENT
    assert f"{sent.uuid}: it is sent" in result.stdout


def test_status_retrying_queues_those_waiting_to_retry_now(feishu_channel):
    retrying = make(feishu_channel, Status.RETRYING)
    failed = make(feishu_channel, Status.FAILED)

    run("retry_failed", "--status", "retrying")

    retrying.refresh_from_db()
    assert retrying.status == Status.QUEUED
    assert retrying.next_attempt_at is None
    assert statuses()[str(failed.uuid)] == Status.FAILED


def test_channel_leaves_other_channels_alone(feishu_channel, fake_feishu):
    other = second_channel(fake_feishu)
    mine = make(feishu_channel, Status.FAILED)
    theirs = make(other, Status.FAILED)

    run("retry_failed", "--channel", feishu_channel.slug)

    assert statuses()[str(mine.uuid)] == Status.QUEUED
    assert statuses()[str(theirs.uuid)] == Status.FAILED


def test_error_contains_and_since_narrow_together(feishu_channel):
    match = make(feishu_channel, Status.FAILED, error="Read TIMEOUT", age=HOUR)
    too_old = make(feishu_channel, Status.FAILED, error="read timeout", age=5 * HOUR)
    other_error = make(feishu_channel, Status.FAILED, error="bad token", age=HOUR)

    run("retry_failed", "--error-contains", "timeout", "--since", "2h")

    now = statuses()
    assert now[str(match.uuid)] == Status.QUEUED
    assert now[str(too_old.uuid)] == Status.FAILED
    assert now[str(other_error.uuid)] == Status.FAILED


def test_until_takes_only_the_older_ones(feishu_channel):
    old = make(feishu_channel, Status.FAILED, age=3 * HOUR)
    new = make(feishu_channel, Status.FAILED)

    run("retry_failed", "--until", "2h")

    assert statuses()[str(old.uuid)] == Status.QUEUED
    assert statuses()[str(new.uuid)] == Status.FAILED


def test_dry_run_lists_them_and_changes_nothing(feishu_channel):
    failed = make(feishu_channel, Status.FAILED)
    changes = StatusChange.objects.count()

    result = run("retry_failed", "--dry-run")

    assert result.code == 0
    assert statuses()[str(failed.uuid)] == Status.FAILED
    assert StatusChange.objects.count() == changes
    assert str(failed.uuid) in result.stdout
    assert "would retry 1 notification(s)" in result.stdout


def test_asks_above_the_threshold_and_goes_ahead_on_yes(feishu_channel):
    for _ in range(2):
        make(feishu_channel, Status.FAILED)

    result = run(
        "retry_failed", "--confirm-above", "1", stdin="yes\n", interactive=True
    )

    assert "Retry 2 notifications? [y/N]" in result.stdout
    assert Notification.objects.filter(status=Status.QUEUED).count() == 2


def test_declining_changes_nothing(feishu_channel):
    for _ in range(2):
        make(feishu_channel, Status.FAILED)

    result = run("retry_failed", "--confirm-above", "1", stdin="\n", interactive=True)

    assert result.code == 1
    assert Notification.objects.filter(status=Status.FAILED).count() == 2


def test_refuses_above_the_threshold_without_a_terminal_unless_yes(feishu_channel):
    for _ in range(2):
        make(feishu_channel, Status.FAILED)

    refused = run("retry_failed", "--confirm-above", "1")
    assert refused.code == 2
    assert Notification.objects.filter(status=Status.FAILED).count() == 2

    allowed = run("retry_failed", "--confirm-above", "1", "--yes")
    assert allowed.code == 0
    assert Notification.objects.filter(status=Status.QUEUED).count() == 2


def test_says_so_when_nothing_failed(feishu_channel):
    make(feishu_channel, Status.SENT)

    result = run("retry_failed")

    assert result.code == 0
    assert "No notifications matched." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["12345"], "'12345' is not a valid notification id"),
        (["--since", "yesterday"], "'yesterday' is not an ISO date"),
        (["--channel", "missing"], "No channel 'missing'"),
        (["--status", "broken"], "Unknown status 'broken'"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(feishu_channel, args, message):
    make(feishu_channel, Status.FAILED)

    result = run("retry_failed", *args)

    assert result.code == 2
    assert message in result.stderr
    assert Notification.objects.filter(status=Status.FAILED).count() == 1


def test_skips_an_sms_that_failed_with_an_unknown_outcome_and_exits_3(
    feishu_channel, twilio_channel, fake_twilio
):
    unknown = failed_with_unknown_outcome(twilio_channel, fake_twilio)
    plain = make(feishu_channel, Status.FAILED)

    result = run("retry_failed")

    assert result.code == 3
    now = statuses()
    assert now[str(unknown.uuid)] == Status.FAILED
    assert now[str(plain.uuid)] == Status.QUEUED
    assert f"{unknown.uuid}: The provider may already have delivered" in result.stdout
    assert "run again with --include-unknown" in result.stdout
    assert "1 of 2 notification(s) were skipped" in result.stderr
    assert len(fake_twilio.requests) == 1


def test_include_unknown_retries_it_too(feishu_channel, twilio_channel, fake_twilio):
    unknown = failed_with_unknown_outcome(twilio_channel, fake_twilio)

    result = run("retry_failed", str(unknown.uuid), "--include-unknown")

    assert result.code == 0
    assert statuses()[str(unknown.uuid)] == Status.QUEUED
    change = StatusChange.objects.filter(notification=unknown).last()
    assert "confirmed sending again after an unknown outcome" in change.reason


def test_help_says_why_include_unknown_is_needed():
    text = " ".join(help_text("retry_failed").split())

    assert "--include-unknown" in text
    assert "could reach the recipient twice" in text
