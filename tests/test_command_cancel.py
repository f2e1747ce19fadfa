"""`manage.py cancel`: stop notifications still waiting to be sent."""

from __future__ import annotations

import pytest

from notifications.models import Notification, Status, StatusChange
from notifications.services import NotificationSpec, create_batch
from tests.command_support import make, run, second_channel, statuses

pytestmark = pytest.mark.django_db


def test_cancels_the_waiting_ones_of_a_channel_and_leaves_the_rest(
    feishu_channel, fake_feishu
):
    waiting = [
        make(feishu_channel, state)
        for state in (Status.PENDING, Status.QUEUED, Status.RETRYING)
    ]
    sent = make(feishu_channel, Status.SENT)
    sending = make(feishu_channel, Status.SENDING)
    elsewhere = make(second_channel(fake_feishu), Status.QUEUED)

    result = run("cancel", "--channel", feishu_channel.slug)

    assert result.code == 0
    now = statuses()
    assert {now[str(n.uuid)] for n in waiting} == {Status.CANCELLED}
    assert now[str(sent.uuid)] == Status.SENT
    assert now[str(sending.uuid)] == Status.SENDING
    assert now[str(elsewhere.uuid)] == Status.QUEUED
    assert "Cancelled 3 notification(s)." in result.stdout


def test_records_the_cli_as_the_actor(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED)

    run("cancel", str(queued.uuid))

    change = StatusChange.objects.filter(notification=queued).last()
    assert (change.target, change.actor) == ("cancelled", "cli")


def test_named_ones_that_are_not_waiting_are_skipped_with_the_reason(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED)
    sent = make(feishu_channel, Status.SENT)
    sending = make(feishu_channel, Status.SENDING)

    result = run("cancel", str(queued.uuid), str(sent.uuid), str(sending.uuid))

    assert result.code == 3
    assert statuses()[str(queued.uuid)] == Status.CANCELLED
    assert f"{sent.uuid}: it is sent" in result.stdout
    assert f"{sending.uuid}: it is sending" in result.stdout
    assert "2 of 3 notification(s) were skipped" in result.stderr


def test_an_explicit_status_that_cannot_be_cancelled_is_reported(feishu_channel):
    sending = make(feishu_channel, Status.SENDING)

    result = run("cancel", "--status", "sending")

    assert result.code == 3
    assert statuses()[str(sending.uuid)] == Status.SENDING
    assert "it is sending" in result.stdout


def test_status_pending_cancels_only_the_scheduled_ones(feishu_channel):
    pending = make(feishu_channel, Status.PENDING)
    queued = make(feishu_channel, Status.QUEUED)

    run("cancel", "--status", "pending")

    assert statuses()[str(pending.uuid)] == Status.CANCELLED
    assert statuses()[str(queued.uuid)] == Status.QUEUED


def test_batch_cancels_only_that_batch(feishu_channel):
    batch, members = create_batch(
        [NotificationSpec(channel=feishu_channel, body=f"n{i}") for i in range(3)]
    )
    outsider = make(feishu_channel, Status.QUEUED)

    run("cancel", "--batch", str(batch.pk))

    now = statuses()
    assert {now[str(n.uuid)] for n in members} == {Status.CANCELLED}
    assert now[str(outsider.uuid)] == Status.QUEUED


def test_error_contains_picks_those_retrying_after_that_error(feishu_channel):
    flaky = make(feishu_channel, Status.RETRYING, error="HTTP 503 from provider")
    other = make(feishu_channel, Status.RETRYING, error="rate limited")

    run("cancel", "--error-contains", "http 503")

    assert statuses()[str(flaky.uuid)] == Status.CANCELLED
    assert statuses()[str(other.uuid)] == Status.RETRYING


def test_refuses_to_cancel_everything_without_ids_or_filters(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED)

    result = run("cancel")

    assert result.code == 2
    assert "Say which notifications" in result.stderr
    assert statuses()[str(queued.uuid)] == Status.QUEUED


def test_dry_run_lists_them_and_changes_nothing(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED, recipient="ou_carol")
    changes = StatusChange.objects.count()

    result = run("cancel", "--channel", feishu_channel.slug, "--dry-run")

    assert result.code == 0
    assert statuses()[str(queued.uuid)] == Status.QUEUED
    assert StatusChange.objects.count() == changes
    assert "ou_carol" in result.stdout
    assert "would cancel 1 notification(s)" in result.stdout


def test_declining_the_prompt_cancels_nothing(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.QUEUED)

    result = run(
        "cancel", "--status", "queued", "--confirm-above", "2",
        stdin="no\n", interactive=True,
    )  # fmt: skip

    assert result.code == 1
    assert "Cancel 3 notifications? [y/N]" in result.stdout
    assert Notification.objects.filter(status=Status.QUEUED).count() == 3


def test_confirm_above_zero_always_asks(feishu_channel):
    queued = make(feishu_channel, Status.QUEUED)

    result = run(
        "cancel", str(queued.uuid), "--confirm-above", "0",
        stdin="y\n", interactive=True,
    )  # fmt: skip

    assert "Cancel 1 notifications? [y/N]" in result.stdout
    assert statuses()[str(queued.uuid)] == Status.CANCELLED


def test_refuses_above_the_threshold_without_a_terminal(feishu_channel):
    for _ in range(3):
        make(feishu_channel, Status.QUEUED)

    result = run("cancel", "--status", "queued", "--confirm-above", "2")

    assert result.code == 2
    assert "Add --yes" in result.stderr
    assert Notification.objects.filter(status=Status.QUEUED).count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["zzz"], "'zzz' is not a valid notification id"),
        (["--since", "3 days"], "'3 days' is not an ISO date"),
        (["--channel", "gone"], "No channel 'gone'"),
        (["--batch", "also-not-a-uuid"], "'also-not-a-uuid' is not a valid batch id"),
    ],
)
def test_bad_input_exits_2_and_cancels_nothing(feishu_channel, args, message):
    queued = make(feishu_channel, Status.QUEUED)

    result = run("cancel", *args)

    assert result.code == 2
    assert message in result.stderr
    assert statuses()[str(queued.uuid)] == Status.QUEUED
