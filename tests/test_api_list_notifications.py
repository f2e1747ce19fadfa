"""GET /api/v1/notifications/ filters, pages by cursor, newest first, in few queries."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Notification, Status
from tests.api_support import error_of, send

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/notifications/"


def ids(response) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def test_lists_newest_first(operator_client, feishu_channel):
    older = send(feishu_channel, body="older")
    newer = send(feishu_channel, body="newer")

    response = operator_client.get(URL)

    assert response.status_code == 200
    assert ids(response) == [str(newer.uuid), str(older.uuid)]
    assert "attempts" not in response.json()["results"][0]


def test_pages_follow_the_next_cursor_without_gaps_or_repeats(
    operator_client, feishu_channel
):
    created = [str(send(feishu_channel, body=f"n{i}").uuid) for i in range(7)]

    seen = []
    url = URL + "?page_size=3"
    while url:
        response = operator_client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = response.json()["next"]

    assert seen == created[::-1]


@pytest.mark.parametrize("rows", [3, 12])
@pytest.mark.parametrize("page_size", [2, 10])
def test_a_page_costs_the_same_queries_whatever_its_size(
    operator_client,
    feishu_channel,
    alert_template,
    django_assert_num_queries,
    rows,
    page_size,
):
    for i in range(rows):
        first = send(
            feishu_channel,
            template="service-down",
            context={"service": f"s{i}", "at": "now"},
        )
    # A resend links to another notification, the join that could go wrong.
    Notification.objects.filter(pk=first.pk).update(status=Status.SENT)
    first.refresh_from_db()
    services.resend(first, via="api")
    operator_client.get(URL)  # records the token's last use

    # Token, user permissions, group permissions, the page.
    with django_assert_num_queries(4):
        response = operator_client.get(f"{URL}?page_size={page_size}")

    assert len(response.json()["results"]) == min(rows + 1, page_size)


def test_filters_by_status_channel_priority_recipient_and_batch(
    operator_client, feishu_channel, fake_feishu
):
    other = Channel.objects.create(
        slug="other",
        name="Other",
        kind="feishu",
        secrets={"webhook_url": fake_feishu.webhook_url},
    )
    urgent = send(feishu_channel, priority="urgent", recipient="ou_1")
    send(other, priority="bulk")
    Notification.objects.filter(pk=urgent.pk).update(status="failed")
    batch_response = operator_client.post(
        URL + "bulk/", {"notifications": [{"channel": "other", "body": "b"}]}
    )
    batch = batch_response.json()["batch"]

    def listed(query: str) -> list[str]:
        response = operator_client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return ids(response)

    assert listed("status=failed") == [str(urgent.uuid)]
    assert listed("channel=ops-feishu") == [str(urgent.uuid)]
    assert listed("priority=urgent") == [str(urgent.uuid)]
    assert listed("recipient=ou_1") == [str(urgent.uuid)]
    assert listed(f"batch={batch}") == batch_response.json()["ids"]


def test_filters_by_creation_time(operator_client, feishu_channel):
    old = send(feishu_channel)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    new = send(feishu_channel)
    cut = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    after = operator_client.get(URL, {"created_after": cut})
    before = operator_client.get(URL, {"created_before": cut})

    assert ids(after) == [str(new.uuid)]
    assert ids(before) == [str(old.uuid)]


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "priority=asap",
        "batch=not-a-uuid",
        "created_after=yesterday",
        "created_after=0001-01-01T00:00:00%2B05:00",
        "created_before=",
        "status=",
        "page_size=0",
        "page_size=501",
        "page_size=ten",
        "cursor=bogus",
        # A well-formed cursor whose position is not a time.
        "cursor=cD1ub3QtYS10aW1l",
    ],
)
def test_a_bad_filter_or_page_parameter_is_a_400(operator_client, db, query):
    response = operator_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert query.split("=")[0] in error["fields"]
