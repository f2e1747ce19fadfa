"""Concurrent workers: each notification is claimed, and sent, exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from notifications.delivery import claim_next, deliver_next
from notifications.models import Channel, DeliveryAttempt, Notification, Status
from tests.builders import feishu_channel_for, notify
from tests.fakes.feishu import FakeFeishu


def race(workers: int, work: Callable[[], object]) -> list[object]:
    """Run `work` in `workers` threads released together; return the results."""
    barrier = threading.Barrier(workers)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = work()
            with lock:
                results.append(result)
        except BaseException as exc:  # reported to the test below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def channel(transactional_db: None, fake_feishu: FakeFeishu) -> Channel:
    return feishu_channel_for(fake_feishu)


def test_concurrent_workers_send_one_notification_exactly_once(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel, body="Only once, please")

    results = race(6, deliver_next)

    assert sum(result is not None for result in results) == 1
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 1
    assert len(fake_feishu.requests) == 1
    assert DeliveryAttempt.objects.filter(notification=notification).count() == 1


def test_concurrent_workers_share_a_backlog_without_duplicates(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    bodies = [f"Backlog item {i}" for i in range(4)]
    for body in bodies:
        notify(channel, body=body)

    race(8, deliver_next)

    sent = sorted(r.json()["content"]["text"] for r in fake_feishu.requests)
    assert sent == bodies
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.count() == 4


def test_a_duplicate_task_for_a_sent_notification_does_nothing(
    channel: Channel, fake_feishu: FakeFeishu
) -> None:
    notification = notify(channel)
    deliver_next()

    assert deliver_next() is None

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 1
    assert len(fake_feishu.requests) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_urgent_work_is_claimed_before_work_queued_earlier(channel: Channel) -> None:
    bulk = notify(channel, body="bulk", priority="bulk")
    normal_first = notify(channel, body="normal 1", priority="normal")
    normal_second = notify(channel, body="normal 2", priority="normal")
    urgent = notify(channel, body="urgent", priority="urgent")

    claimed = [claim_next("test") for _ in range(5)]

    assert [n.pk if n else None for n in claimed] == [
        urgent.pk,
        normal_first.pk,
        normal_second.pk,
        bulk.pk,
        None,
    ]
