"""Delivery throughput per core, beside the bare HTTP floor, and urgent overtaking.

Usage: .venv/bin/python bench/delivery.py [--count 2000] [--threads 4]
       ORION_DATABASE_URL=postgres://postgres@127.0.0.1:5432/orion_bench ...

Runs against a scratch database (SQLite in /tmp unless ORION_DATABASE_URL
names one; its name must contain "bench", because the benchmark deletes every
notification in it) and a fake Feishu server on loopback, with the providers'
rate limits off. CPU seconds include the fake server's threads, in both rows.
Prints:
- the floor: bare Feishu posts through the shared HTTP client, no database;
- the pipeline: claim, rate-limit, send, record, for `count` notifications;
- the ratio of the two, in sends per CPU-second of this process;
- how many bulk sends went out before one urgent send created behind them.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.test_settings")
os.environ.setdefault(
    "ORION_DATABASE_URL", f"sqlite:////tmp/orion-bench-{os.getpid()}.db"
)
os.environ.setdefault("ORION_LOG_LEVEL", "WARNING")

if "bench" not in os.environ["ORION_DATABASE_URL"].rsplit("/", 1)[-1]:
    sys.exit("ORION_DATABASE_URL must name a scratch database with 'bench' in it.")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from adapters import get_adapter  # noqa: E402
from adapters.base import Envelope  # noqa: E402
from adapters.http import HttpClient  # noqa: E402
from notifications import delivery, services  # noqa: E402
from notifications.models import Channel, Notification, Status  # noqa: E402
from tests.fakes.feishu import FakeFeishu  # noqa: E402


def timed(work: callable) -> tuple[float, float]:
    """Run `work`; return (wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def floor(fake: FakeFeishu, count: int) -> tuple[float, float]:
    adapter = get_adapter("feishu")
    client = HttpClient()
    envelope = Envelope(
        notification_id=__import__("uuid").uuid4(),
        channel_slug="bench",
        config={"message_type": "text"},
        secrets={"webhook_url": fake.webhook_url},
        recipient="",
        subject="bench",
        body="disk 91% full on db-7",
    )
    return timed(lambda: [adapter.send(envelope, client) for _ in range(count)])


def pipeline(channel: Channel, count: int, threads: int) -> tuple[float, float]:
    specs = [
        services.NotificationSpec(
            channel=channel, body=f"disk full #{i}", priority="bulk"
        )
        for i in range(count)
    ]
    services.create_batch(specs, via="bench")

    def worker() -> None:
        while delivery.deliver_next("bench") is not None:
            pass
        connection.close()

    def run() -> None:
        if threads == 1:
            return worker()
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    return timed(run)


def overtaking(channel: Channel, backlog: int) -> int:
    """Sends that went out before an urgent one created behind `backlog` bulk."""
    specs = [
        services.NotificationSpec(channel=channel, body=f"bulk #{i}", priority="bulk")
        for i in range(backlog)
    ]
    services.create_batch(specs, via="bench")
    urgent = services.create_notification(
        services.NotificationSpec(channel=channel, body="urgent", priority="urgent")
    )
    before = 0
    while True:
        sent = delivery.deliver_next("bench")
        if sent is None or sent.pk == urgent.pk:
            return before
        before += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=2000, help="Notifications to send."
    )
    parser.add_argument("--threads", type=int, default=4, help="Worker threads.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    Notification.objects.all().delete()
    with FakeFeishu() as fake:
        channel, _ = Channel.objects.update_or_create(
            slug="bench",
            defaults={
                "name": "bench",
                "kind": "feishu",
                "secrets": {"webhook_url": fake.webhook_url},
                # The provider's 5/s would make this a benchmark of the limiter.
                "rate_limit": [{"count": 1_000_000, "seconds": 1}],
            },
        )

        f_wall, f_cpu = floor(fake, args.count)
        p_wall, p_cpu = pipeline(channel, args.count, args.threads)
        sent = Notification.objects.filter(status=Status.SENT).count()
        ahead = overtaking(channel, 500)

    engine = connection.vendor
    print(f"database: {engine}; notifications: {args.count}; threads: {args.threads}")
    print(
        f"floor    (bare HTTP): {args.count / f_wall:8.0f}/s wall, "
        f"{args.count / f_cpu:8.0f}/CPU-s"
    )
    print(
        f"pipeline (Orion)    : {sent / p_wall:8.0f}/s wall, "
        f"{sent / p_cpu:8.0f}/CPU-s  ({sent} sent)"
    )
    print(
        f"pipeline / floor per CPU-second: {(sent / p_cpu) / (args.count / f_cpu):.2f}"
    )
    print(f"bulk sends before an urgent one queued behind 500 bulk: {ahead}")


if __name__ == "__main__":
    main()
