"""Creating notifications puts exactly one delivery task each on the broker."""

from __future__ import annotations

from django_q.signing import SignedPackage

from notifications import queue, services
from notifications.models import Channel


def test_a_batch_enqueues_one_task_per_queued_notification_after_commit(
    feishu_channel: Channel, django_capture_on_commit_callbacks: object
) -> None:
    specs = [
        services.NotificationSpec(channel=feishu_channel, body=f"disk {i}")
        for i in range(3)
    ]

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        services.create_batch(specs)
        assert queue.queue_size() == 0

    assert queue.queue_size() == 3


def test_an_enqueued_task_is_one_a_worker_can_read(db: None) -> None:
    from django_q.brokers import get_broker

    queue.enqueue(1)

    broker = get_broker()
    _, payload = broker.dequeue()[0]
    task = SignedPackage.loads(payload)
    assert task["func"] == queue.TASK
    assert (task["args"], task["kwargs"]) == ((), {})
