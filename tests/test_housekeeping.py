"""The dispatcher's housekeeping drops bookkeeping rows past their use."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.dispatcher import IDEMPOTENCY_WINDOW, housekeeping
from notifications.models import Channel, IdempotencyKey, RateWindow


@pytest.fixture
def user(db: None) -> object:
    return get_user_model().objects.create_user("client")


def key(user: object, name: str, age: timezone.timedelta) -> IdempotencyKey:
    row = IdempotencyKey.objects.create(user=user, key=name, request_hash="h")
    IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_idempotency_keys_older_than_the_window_are_deleted(user: object) -> None:
    key(user, "old", IDEMPOTENCY_WINDOW + timezone.timedelta(minutes=1))
    key(user, "fresh", IDEMPOTENCY_WINDOW - timezone.timedelta(minutes=1))

    counts = housekeeping()

    assert counts["idempotency_keys"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_rate_windows_that_ended_days_ago_are_deleted(
    feishu_channel: Channel,
) -> None:
    now = timezone.now()
    old = int(now.timestamp()) - 3 * 86400
    RateWindow.objects.create(channel=feishu_channel, seconds=60, window_start=old)
    RateWindow.objects.create(
        channel=feishu_channel, seconds=60, window_start=int(now.timestamp())
    )

    counts = housekeeping(now)

    assert counts["rate_windows"] == 1
    assert RateWindow.objects.count() == 1
