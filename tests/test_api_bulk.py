"""POST /api/v1/notifications/bulk/ creates all the items in one batch, or none."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Batch, Notification
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/notifications/bulk/"


def items(count: int, **fields) -> list[dict]:
    return [
        {"channel": "ops-feishu", "body": f"Message {n}", **fields}
        for n in range(count)
    ]


def test_creates_every_item_in_one_batch(operator_client, feishu_channel):
    response = operator_client.post(URL, {"notifications": items(3), "note": "n"})

    assert response.status_code == 201
    body = response.json()
    batch = Batch.objects.get()
    assert body["batch"] == str(batch.pk)
    assert body["count"] == 3
    created = {str(n.uuid): n.body for n in batch.notifications.all()}
    assert [created[i] for i in body["ids"]] == ["Message 0", "Message 1", "Message 2"]
    assert batch.note == "n"


def test_renders_templates_for_each_item(
    operator_client, feishu_channel, alert_template
):
    payload = [
        {
            "channel": "ops-feishu",
            "template": "service-down",
            "context": {"service": name, "at": "09:00"},
        }
        for name in ("billing", "search")
    ]

    response = operator_client.post(URL, {"notifications": payload})

    assert response.status_code == 201
    bodies = sorted(Notification.objects.values_list("body", flat=True))
    assert bodies == ["billing down (09:00)", "search down (09:00)"]


def test_one_invalid_item_creates_nothing_and_is_named_by_index(
    operator_client, feishu_channel
):
    payload = items(4)
    payload[1]["channel"] = "nowhere"
    payload[3]["priority"] = "asap"

    response = operator_client.post(URL, {"notifications": payload})

    assert response.status_code == 400
    error = error_of(response)
    assert set(error["fields"]) == {"1", "3"}
    assert "channel" in error["fields"]["1"]
    assert "priority" in error["fields"]["3"]
    assert error["message"].startswith("2 of 4 notification(s) are invalid")
    assert "Item 1: channel: No channel 'nowhere'" in error["message"]
    assert not Notification.objects.exists()
    assert not Batch.objects.exists()


def test_domain_errors_are_named_by_index_too(
    operator_client, feishu_channel, alert_template
):
    payload = items(3)
    payload[2] = {"channel": "ops-feishu", "template": "service-down"}

    response = operator_client.post(URL, {"notifications": payload})

    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert list(fields) == ["2"]
    assert "context" in fields["2"]
    assert not Notification.objects.exists()


def test_an_empty_list_is_refused(operator_client, feishu_channel):
    response = operator_client.post(URL, {"notifications": []})

    assert response.status_code == 400
    assert "notifications" in error_of(response)["fields"]


def test_more_than_ten_thousand_items_are_refused(operator_client, feishu_channel):
    response = operator_client.post(URL, {"notifications": items(10_001)})

    assert response.status_code == 400
    assert "notifications" in error_of(response)["fields"]
    assert not Notification.objects.exists()


def test_looks_channels_and_templates_up_once_whatever_the_item_count(
    operator_client, feishu_channel, alert_template
):
    def reads_for(count: int) -> list[str]:
        payload = [
            {
                "channel": "ops-feishu",
                "template": "service-down",
                "context": {"service": f"s{n}", "at": "now"},
            }
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = operator_client.post(URL, {"notifications": payload})
        assert response.status_code == 201
        # Inserts come in batches sized by the database's parameter limit;
        # reads are what a per-item lookup would multiply.
        return [q["sql"] for q in queries if q["sql"].startswith("SELECT")]

    reads_for(1)  # the first request also records the token's last use

    assert len(reads_for(200)) == len(reads_for(10))
    assert Notification.objects.count() == 211


def test_lists_type_and_domain_errors_together(operator_client, feishu_channel):
    payload = items(3)
    payload[0]["body"] = 42
    payload[2]["channel"] = "nowhere"

    response = operator_client.post(URL, {"notifications": payload})

    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert set(fields) == {"0", "2"}
    assert "body" in fields["0"]
    assert "channel" in fields["2"]
    assert not Notification.objects.exists()


def test_a_notifications_value_that_is_not_a_list_is_refused(
    operator_client, feishu_channel
):
    response = operator_client.post(URL, {"notifications": {"channel": "x"}})

    assert response.status_code == 400
    assert "notifications" in error_of(response)["fields"]
