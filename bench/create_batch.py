"""Time to validate, render and create one batch of templated notifications.

Usage: .venv/bin/python bench/create_batch.py [--count 10000]

The work behind `POST /api/v1/notifications/bulk/` and the admin's send form,
without HTTP: strict template rendering per item, one transaction, and one
delivery task per notification on the broker. Runs against a scratch SQLite
database in /tmp unless ORION_DATABASE_URL names one whose name contains
"bench".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.test_settings")
os.environ.setdefault(
    "ORION_DATABASE_URL", f"sqlite:////tmp/orion-bench-batch-{os.getpid()}.db"
)
os.environ.setdefault("ORION_LOG_LEVEL", "WARNING")
if "bench" not in os.environ["ORION_DATABASE_URL"].rsplit("/", 1)[-1]:
    sys.exit("ORION_DATABASE_URL must name a scratch database with 'bench' in it.")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from notifications import queue, services  # noqa: E402
from notifications.models import Channel, Notification, Template  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="Batch size.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    Notification.objects.all().delete()
    Channel.objects.update_or_create(
        slug="bench-batch",
        defaults={
            "name": "bench",
            "kind": "feishu",
            "secrets": {
                "webhook_url": "https://open.feishu.cn/open-apis/bot/v2/hook/bench"
            },
        },
    )
    Template.objects.update_or_create(
        slug="bench-down",
        defaults={
            "subject": "{{ host }} is down",
            "body": "{{ host }} failed at {{ at }}",
        },
    )
    specs = [
        services.NotificationSpec(
            channel="bench-batch",
            template="bench-down",
            context={"host": f"db-{i}", "at": "10:00"},
            priority="bulk",
        )
        for i in range(args.count)
    ]
    tasks_before = queue.queue_size()

    started = time.perf_counter()
    services.create_batch(specs, via="bench")
    elapsed = time.perf_counter() - started

    tasks = queue.queue_size() - tasks_before
    print(f"database: {connection.vendor}; batch of {args.count}")
    print(f"created in {elapsed:.2f}s ({args.count / elapsed:.0f}/s); {tasks} tasks")


if __name__ == "__main__":
    main()
