"""`manage.py stats`: the dashboard's figures, as a table or as JSON."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db.models import Count
from django.utils import timezone

from notifications.models import Lease, Notification, Priority, Status
from notifications.stats import summary
from tests.command_support import make, run, second_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(feishu_channel, fake_feishu):
    other = second_channel(fake_feishu)
    make(feishu_channel, Status.SENT)
    make(feishu_channel, Status.FAILED)
    make(feishu_channel, Status.QUEUED, priority=Priority.URGENT)
    make(other, Status.FAILED)
    make(other, Status.SENT, age=datetime.timedelta(days=3))


def test_json_figures_match_the_database(traffic):
    figures = json.loads(run("stats", "--json").stdout)

    day = Notification.objects.filter(
        created_at__gte=datetime.datetime.fromisoformat(figures["generated_at"])
        - datetime.timedelta(days=1)
    )
    assert figures["day"]["total"] == day.count() == 4
    assert figures["day"]["by_status"] == {
        row["status"]: row["n"] for row in day.values("status").annotate(n=Count("id"))
    }
    assert figures["day"]["by_channel"]["dev-feishu"] == {"failed": 1}
    assert figures["day"]["by_priority"] == {"normal": 3, "urgent": 1}
    assert figures["day"]["failure_rate"] == {"ops-feishu": 0.5, "dev-feishu": 1.0}
    assert figures["day"]["latency_seconds"]["count"] == 1


def test_json_is_what_the_dashboard_summary_gives(traffic):
    figures = json.loads(run("stats", "--json").stdout)
    expected = summary()

    for figures_or_expected in (figures, expected):
        figures_or_expected.pop("generated_at")
    assert figures == expected


def test_table_shows_counts_by_status_and_channel(traffic):
    lines = [" ".join(line.split()) for line in run("stats").stdout.splitlines()]

    by_status = lines[lines.index("By status") + 1 : lines.index("By priority")]
    assert "failed 2 2" in by_status
    assert "sent 1 1" in by_status
    channel = lines.index("Channel dev-feishu")
    assert lines[channel + 1 : channel + 5] == [
        "created 1 1",
        "sent 0 0",
        "failed 1 1",
        "failure rate 100.0% 100.0%",
    ]


def test_table_says_no_workers_run_when_no_dispatcher_holds_the_lease(traffic):
    assert "Workers: not running" in run("stats").stdout


def test_table_says_workers_run_while_the_dispatcher_lease_is_held(traffic):
    Lease.objects.create(
        name="dispatcher",
        holder="worker-1",
        expires_at=timezone.now() + datetime.timedelta(seconds=30),
    )

    assert "Workers: running" in run("stats").stdout


def test_table_on_a_quiet_day_says_there_is_nothing(db):
    result = run("stats")

    assert result.code == 0
    assert "No notifications in the last day." in result.stdout
    assert "Oldest waiting notification created: none waiting" in result.stdout
