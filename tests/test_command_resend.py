"""`manage.py resend`: which notifications it copies, when it asks, what it says."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from notifications.models import Batch, Notification, Status
from notifications.services import NotificationSpec, create_batch
from tests.command_support import help_text, make, run, second_channel
from tests.unknown_outcomes import failed_with_unknown_outcome

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def resent_ids() -> set[str]:
    """Public ids of the notifications that have been resent."""
    return {
        str(u)
        for u in Notification.objects.filter(resend_of__isnull=False).values_list(
            "resend_of__uuid", flat=True
        )
    }


def test_resends_the_notifications_named_by_id(feishu_channel):
    wanted = make(feishu_channel, Status.FAILED, recipient="ou_alice")
    make(feishu_channel, Status.FAILED)

    result = run("resend", str(wanted.uuid))

    assert result.code == 0
    copy = Notification.objects.get(resend_of=wanted)
    assert copy.status == Status.QUEUED
    assert copy.recipient == "ou_alice"
    assert copy.created_via == "cli"
    assert resent_ids() == {str(wanted.uuid)}


def test_copies_share_one_new_batch_named_in_the_summary(feishu_channel):
    first = make(feishu_channel, Status.FAILED)
    second = make(feishu_channel, Status.SENT)

    result = run("resend", str(first.uuid), str(second.uuid))

    assert result.code == 0

    batches = set(
        Notification.objects.filter(resend_of__isnull=False).values_list(
            "batch_id", flat=True
        )
    )
    assert len(batches) == 1
    batch = Batch.objects.get(pk=batches.pop())
    assert f"Resent 2 notification(s) in the new batch {batch.pk}." in result.stdout


def test_resends_only_the_status_asked_for(feishu_channel):
    failed = make(feishu_channel, Status.FAILED)
    make(feishu_channel, Status.SENT)
    make(feishu_channel, Status.QUEUED)

    run("resend", "--status", "failed")

    assert resent_ids() == {str(failed.uuid)}


def test_status_takes_a_comma_list_and_can_be_repeated(feishu_channel):
    failed = make(feishu_channel, Status.FAILED)
    expired = make(feishu_channel, Status.EXPIRED)
    cancelled = make(feishu_channel, Status.CANCELLED)
    make(feishu_channel, Status.SENT)

    run("resend", "--status", "failed,expired", "--status", "cancelled")

    assert resent_ids() == {str(failed.uuid), str(expired.uuid), str(cancelled.uuid)}


def test_channel_leaves_other_channels_alone(feishu_channel, fake_feishu):
    other = second_channel(fake_feishu)
    mine = make(feishu_channel, Status.FAILED)
    make(other, Status.FAILED)

    run("resend", "--channel", feishu_channel.slug)

    assert resent_ids() == {str(mine.uuid)}


def test_since_with_a_duration_takes_only_the_recent_ones(feishu_channel):
    recent = make(feishu_channel, Status.FAILED, age=HOUR)
    make(feishu_channel, Status.FAILED, age=3 * HOUR)

    run("resend", "--since", "2h")

    assert resent_ids() == {str(recent.uuid)}


def test_until_with_a_duration_takes_only_the_older_ones(feishu_channel):
    make(feishu_channel, Status.FAILED, age=HOUR)
    older = make(feishu_channel, Status.FAILED, age=3 * HOUR)

    run("resend", "--until", "120m")

    assert resent_ids() == {str(older.uuid)}


def test_since_and_until_take_iso_dates_and_times(feishu_channel):
    now = timezone.now()
    inside = make(feishu_channel, Status.FAILED, age=datetime.timedelta(days=3))
    make(feishu_channel, Status.FAILED, age=datetime.timedelta(days=6))
    make(feishu_channel, Status.FAILED, age=datetime.timedelta(hours=1))

    since = (now - datetime.timedelta(days=4)).date().isoformat()
    until = (now - datetime.timedelta(days=1)).isoformat()
    run("resend", "--since", since, "--until", until)

    assert resent_ids() == {str(inside.uuid)}


def fail(notification: Notification) -> None:
    notification.claim()
    notification.save()
    notification.fail(reason="Feishu answered HTTP 400.")
    notification.save()


def test_batch_takes_only_that_batch(feishu_channel):
    batch, members = create_batch(
        [NotificationSpec(channel=feishu_channel, body=f"n{i}") for i in range(2)]
    )
    for member in members:
        fail(member)
    make(feishu_channel, Status.FAILED)

    run("resend", "--batch", str(batch.pk))

    assert resent_ids() == {str(n.uuid) for n in members}


def test_a_batch_leaves_its_sent_and_unfinished_members_alone(feishu_channel):
    batch, members = create_batch(
        [NotificationSpec(channel=feishu_channel, body=f"n{i}") for i in range(4)]
    )
    queued, sending, sent, failed = members
    for member in (sending, sent, failed):
        member.claim()
        member.save()
    sent.mark_sent()
    sent.save()
    failed.fail(reason="Feishu answered HTTP 400.")
    failed.save()

    result = run("resend", "--batch", str(batch.pk))

    assert result.code == 0
    assert resent_ids() == {str(failed.uuid)}


def test_without_status_takes_the_failed_cancelled_and_expired_ones(feishu_channel):
    wanted = {
        make(feishu_channel, status)
        for status in (Status.FAILED, Status.CANCELLED, Status.EXPIRED)
    }
    for status in (Status.SENT, Status.PENDING, Status.QUEUED, Status.RETRYING):
        make(feishu_channel, status)

    result = run("resend", "--channel", feishu_channel.slug)

    assert result.code == 0
    assert resent_ids() == {str(n.uuid) for n in wanted}


def test_sent_ones_are_resent_when_asked_for(feishu_channel):
    sent = make(feishu_channel, Status.SENT)

    run("resend", "--status", "sent")

    assert resent_ids() == {str(sent.uuid)}


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.QUEUED, Status.SENDING, Status.RETRYING]
)
def test_a_named_notification_not_finished_is_skipped_pointing_to_cancel_or_retry(
    feishu_channel, status
):
    waiting = make(feishu_channel, status)

    result = run("resend", str(waiting.uuid))

    assert result.code == 3
    assert resent_ids() == set()
    assert (
        f"{waiting.uuid}: it is {status} and not finished yet; "
        "cancel or retry it instead" in result.stdout
    )


def test_an_explicit_unfinished_status_is_skipped_too(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED)

    result = run("resend", "--status", "queued")

    assert result.code == 3
    assert resent_ids() == set()
    assert f"{queued.uuid}: it is queued and not finished yet" in result.stdout
    assert Batch.objects.count() == 0


def test_skips_an_sms_that_failed_with_an_unknown_outcome_and_exits_3(
    feishu_channel, twilio_channel, fake_twilio
):
    unknown = failed_with_unknown_outcome(twilio_channel, fake_twilio)
    plain = make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed")

    assert result.code == 3
    assert resent_ids() == {str(plain.uuid)}
    assert f"{unknown.uuid}: The provider may already have delivered" in result.stdout
    assert "run again with --include-unknown" in result.stdout


def test_include_unknown_resends_it_too(twilio_channel, fake_twilio):
    unknown = failed_with_unknown_outcome(twilio_channel, fake_twilio)

    result = run("resend", "--status", "failed", "--include-unknown")

    assert result.code == 0
    assert resent_ids() == {str(unknown.uuid)}


def test_help_says_what_is_taken_by_default_and_why_include_unknown():
    text = " ".join(help_text("resend").split())

    assert "it takes the failed, cancelled and expired ones" in text
    assert "Default without ids: failed,cancelled,expired." in text
    assert "--include-unknown" in text
    assert "could reach the recipient twice" in text


def test_error_contains_ignores_case(feishu_channel):
    timeout = make(feishu_channel, Status.FAILED, error="Provider TIMED OUT")
    make(feishu_channel, Status.FAILED, error="Feishu refused the signature.")

    run("resend", "--error-contains", "timed out")

    assert resent_ids() == {str(timeout.uuid)}


def test_dry_run_lists_the_selection_and_changes_nothing(feishu_channel):
    failed = make(feishu_channel, Status.FAILED, recipient="ou_bob")
    before = Notification.objects.count()

    result = run("resend", "--status", "failed", "--dry-run")

    assert result.code == 0
    assert Notification.objects.count() == before
    assert Batch.objects.count() == 0
    line = next(line for line in result.stdout.splitlines() if str(failed.uuid) in line)
    assert feishu_channel.slug in line
    assert "ou_bob" in line
    assert "failed" in line
    assert "would resend 1 notification(s); nothing was changed" in result.stdout


def test_asks_above_the_threshold_and_goes_ahead_on_yes(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.FAILED)

    result = run(
        "resend", "--status", "failed", "--confirm-above", "2",
        stdin="y\n", interactive=True,
    )  # fmt: skip

    assert "Resend 3 notifications? [y/N]" in result.stdout
    assert result.code == 0
    assert len(resent_ids()) == 3


def test_declining_changes_nothing_and_exits_1(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.FAILED)

    result = run(
        "resend", "--status", "failed", "--confirm-above", "2",
        stdin="n\n", interactive=True,
    )  # fmt: skip

    assert result.code == 1
    assert resent_ids() == set()
    assert "nothing was changed" in result.stderr


def test_refuses_above_the_threshold_when_no_one_can_answer(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed", "--confirm-above", "2", stdin="y\n")

    assert result.code == 2
    assert "--yes" in result.stderr
    assert resent_ids() == set()


def test_yes_goes_ahead_without_asking(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed", "--confirm-above", "2", "--yes")

    assert result.code == 0
    assert "[y/N]" not in result.stdout
    assert len(resent_ids()) == 3


def test_does_not_ask_at_the_threshold_itself(feishu_channel):
    for _ in range(2):
        make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed", "--confirm-above", "2")

    assert result.code == 0
    assert len(resent_ids()) == 2


def test_skips_a_disabled_channel_with_the_reason_and_exits_3(
    feishu_channel, fake_feishu
):
    other = second_channel(fake_feishu)
    off = make(other, Status.FAILED)
    on = make(feishu_channel, Status.FAILED)
    other.enabled = False
    other.save()

    result = run("resend", "--status", "failed")

    assert result.code == 3
    assert resent_ids() == {str(on.uuid)}
    assert "Resent 1 notification(s)" in result.stdout
    assert f"{off.uuid}: The channel '{other.slug}' is disabled." in result.stdout
    assert "1 of 2 notification(s) were skipped" in result.stderr


def test_names_an_unknown_id_as_skipped(feishu_channel):
    known = make(feishu_channel, Status.FAILED)
    unknown = uuid.uuid4()

    result = run("resend", str(known.uuid), str(unknown))

    assert result.code == 3
    assert resent_ids() == {str(known.uuid)}
    assert f"{unknown}: no such notification" in result.stdout


def test_names_an_id_the_filters_leave_out(feishu_channel):
    sent = make(feishu_channel, Status.SENT)

    result = run("resend", str(sent.uuid), "--status", "failed")

    assert result.code == 3
    assert resent_ids() == set()
    assert f"{sent.uuid}: does not match the filters" in result.stdout


def test_says_so_when_nothing_matched_and_exits_0(feishu_channel):
    make(feishu_channel, Status.SENT)

    result = run("resend", "--status", "failed")

    assert result.code == 0
    assert "No notifications matched." in result.stdout
    assert Batch.objects.count() == 0


def test_refuses_to_run_without_ids_or_filters(feishu_channel):
    make(feishu_channel, Status.FAILED)

    result = run("resend")

    assert result.code == 2
    assert "at least one filter" in result.stderr
    assert resent_ids() == set()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-a-uuid"], "'not-a-uuid' is not a valid notification id"),
        (["--since", "2x"], "--since: '2x' is not an ISO date"),
        (["--until", "0h"], "--until: '0h' is zero"),
        (["--since", "2024-13-45"], "'2024-13-45' is not an ISO date"),
        (
            ["--channel", "nope"],
            "--channel: No channel 'nope' (known channels: ops-feishu)",
        ),
        (["--status", "faild"], "--status: Unknown status 'faild'"),
        (["--batch", "123"], "'123' is not a valid batch id"),
        (["--batch", str(uuid.UUID(int=7))], f"--batch: No batch {uuid.UUID(int=7)}"),
        (["--since", "1h", "--until", "2h"], "--since must be earlier than --until"),
        (["--status", "failed", "--confirm-above", "-1"], "--confirm-above takes 0"),
    ],
)
def test_bad_input_exits_2_saying_what_to_fix(feishu_channel, args, message):
    make(feishu_channel, Status.FAILED)

    result = run("resend", *args)

    assert result.code == 2
    assert message in result.stderr
    assert resent_ids() == set()


def test_draws_a_progress_bar_when_stderr_is_a_terminal(feishu_channel):
    make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed", stderr_tty=True)

    assert "resend: 100%" in result.stderr
    assert "1/1" in result.stderr


def test_draws_no_progress_bar_when_stderr_is_not_a_terminal(feishu_channel):
    make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed")

    assert result.code == 0
    assert result.stderr == ""


def test_quiet_draws_no_progress_bar_even_on_a_terminal(feishu_channel):
    make(feishu_channel, Status.FAILED)

    result = run("resend", "--status", "failed", "--quiet", stderr_tty=True)

    assert result.stderr == ""
    assert len(resent_ids()) == 1
