"""`manage.py purge`: finished notifications past the retention, and only those."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import (
    FINISHED,
    WAITING,
    DeliveryAttempt,
    Notification,
    Status,
    StatusChange,
)
from tests.command_support import make, run, second_channel

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def remaining() -> set[int]:
    return set(Notification.objects.values_list("pk", flat=True))


def test_deletes_only_finished_ones_older_than_the_retention(feishu_channel):
    old_finished = [make(feishu_channel, s, age=40 * DAY) for s in FINISHED]
    old_waiting = [make(feishu_channel, s, age=40 * DAY) for s in WAITING]
    old_sending = make(feishu_channel, Status.SENDING, age=40 * DAY)
    recent_sent = make(feishu_channel, Status.SENT, age=10 * DAY)

    result = run("purge", "--older-than", "30d")

    assert result.code == 0
    assert remaining() == {n.pk for n in [*old_waiting, old_sending, recent_sent]}
    assert f"Deleted {len(old_finished)} notification(s)" in result.stdout


def test_keeps_an_old_notification_that_finished_within_the_retention(
    feishu_channel,
):
    late = make(feishu_channel, Status.FAILED)
    Notification.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - 40 * DAY, updated_at=timezone.now() - DAY
    )

    run("purge", "--older-than", "30d")

    assert remaining() == {late.pk}


def test_small_batches_still_delete_every_row(feishu_channel):
    for _ in range(5):
        make(feishu_channel, Status.SENT, age=40 * DAY)

    with CaptureQueriesContext(connection) as queries:
        result = run("purge", "--older-than", "30d", "--batch-size", "2")

    assert result.code == 0
    assert remaining() == set()
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('DELETE FROM "notifications_notification"')
    ]
    assert len(deletes) == 3


def test_attempts_and_status_changes_go_with_their_notification(feishu_channel):
    old = make(feishu_channel, Status.SENT, age=40 * DAY)
    DeliveryAttempt.objects.create(
        notification=old, number=1, started_at=timezone.now(), outcome="sent"
    )
    kept = make(feishu_channel, Status.SENT)
    changes = StatusChange.objects.filter(notification=old).count()

    result = run("purge", "--older-than", "30d")

    assert not DeliveryAttempt.objects.filter(notification_id=old.pk).exists()
    assert not StatusChange.objects.filter(notification_id=old.pk).exists()
    assert StatusChange.objects.filter(notification=kept).exists()
    assert (
        f"Deleted 1 notification(s), with 1 delivery attempt(s) and "
        f"{changes} status change(s)." in result.stdout
    )


def test_a_resend_outlives_the_original_it_copied(feishu_channel):
    original = make(feishu_channel, Status.FAILED, age=40 * DAY)
    run("resend", str(original.uuid))
    copy = Notification.objects.get(resend_of=original)

    run("purge", "--older-than", "30d")

    copy.refresh_from_db()
    assert remaining() == {copy.pk}
    assert copy.resend_of is None


def test_dry_run_counts_by_status_and_deletes_nothing(feishu_channel):
    for status in (Status.SENT, Status.SENT, Status.FAILED):
        make(feishu_channel, status, age=40 * DAY)
    make(feishu_channel, Status.QUEUED, age=40 * DAY)
    before = remaining()

    result = run("purge", "--older-than", "30d", "--dry-run")

    assert result.code == 0
    assert remaining() == before
    assert "would delete 3 notification(s) (failed: 1, sent: 2)" in result.stdout


def test_status_narrows_to_those_finished_states(feishu_channel):
    make(feishu_channel, Status.SENT, age=40 * DAY)
    failed = make(feishu_channel, Status.FAILED, age=40 * DAY)
    make(feishu_channel, Status.CANCELLED, age=40 * DAY)

    run("purge", "--older-than", "30d", "--status", "sent,cancelled")

    assert remaining() == {failed.pk}


def test_channel_narrows_to_that_channel(feishu_channel, fake_feishu):
    make(feishu_channel, Status.SENT, age=40 * DAY)
    theirs = make(second_channel(fake_feishu), Status.SENT, age=40 * DAY)

    run("purge", "--older-than", "30d", "--channel", feishu_channel.slug)

    assert remaining() == {theirs.pk}


def test_says_so_when_nothing_is_old_enough(feishu_channel):
    make(feishu_channel, Status.SENT, age=DAY)

    result = run("purge", "--older-than", "30d")

    assert result.code == 0
    assert "No notifications matched." in result.stdout
    assert len(remaining()) == 1


def test_draws_a_progress_bar_per_batch_on_a_terminal(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.SENT, age=40 * DAY)

    result = run("purge", "--older-than", "30d", "--batch-size", "2", stderr_tty=True)

    assert "purge: 100%" in result.stderr
    assert "3/3" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give the retention with --older-than"),
        (["--older-than", "30"], "--older-than: '30' is not a duration"),
        (["--older-than", "0d"], "'0d' is zero"),
        (["--older-than", "30d", "--status", "queued"], "not queued"),
        (["--older-than", "30d", "--status", "lost"], "Unknown status 'lost'"),
        (["--older-than", "30d", "--channel", "nope"], "No channel 'nope'"),
        (["--older-than", "30d", "--batch-size", "0"], "--batch-size takes 1"),
    ],
)
def test_bad_input_exits_2_and_deletes_nothing(feishu_channel, args, message):
    make(feishu_channel, Status.SENT, age=40 * DAY)
    make(feishu_channel, Status.QUEUED, age=40 * DAY)

    result = run("purge", *args)

    assert result.code == 2
    assert message in result.stderr
    assert len(remaining()) == 2
