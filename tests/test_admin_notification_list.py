"""The notification list filters, searches and costs the same queries at any size."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from notifications.admin.common import short_id
from notifications.models import Channel, Status
from tests.admin_helpers import make_notification
from tests.fakes.feishu import FakeFeishu

pytest_plugins = ("tests.admin_support",)

LIST_URL = "/admin/notifications/notification/"
# Session, user, the user's group and own permissions, the capped count,
# the page's rows, the channel filter's choices, the date drill-down's span.
LIST_QUERIES = 8


@pytest.fixture
def other_channel(db: None, fake_feishu: FakeFeishu) -> Channel:
    return Channel.objects.create(
        slug="dev-feishu",
        name="Dev",
        kind="feishu",
        secrets={"webhook_url": fake_feishu.webhook_url},
    )


def shown(client: Client, query: str = "") -> str:
    response = client.get(LIST_URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_status_filter_shows_only_that_status(
    operator_client: Client, feishu_channel: Channel
) -> None:
    failed = make_notification(feishu_channel, status=Status.FAILED)
    sent = make_notification(feishu_channel, status=Status.SENT)

    html = shown(operator_client, "?status__exact=failed")

    assert short_id(failed.uuid) in html
    assert short_id(sent.uuid) not in html


def test_the_channel_and_kind_filters_narrow_the_list(
    operator_client: Client, feishu_channel: Channel, other_channel: Channel
) -> None:
    ops = make_notification(feishu_channel)
    dev = make_notification(other_channel)

    by_channel = shown(operator_client, f"?channel__id__exact={other_channel.pk}")
    by_kind = shown(operator_client, "?kind=feishu")
    by_other_kind = shown(operator_client, "?kind=no-such-kind-here")

    assert short_id(dev.uuid) in by_channel
    assert short_id(ops.uuid) not in by_channel
    assert short_id(dev.uuid) in by_kind and short_id(ops.uuid) in by_kind
    assert short_id(ops.uuid) not in by_other_kind


def test_the_batch_filter_shows_one_batch(
    operator_client: Client, feishu_channel: Channel
) -> None:
    from notifications import services

    batch, created = services.create_batch(
        [
            services.NotificationSpec(channel=feishu_channel, body="one"),
            services.NotificationSpec(channel=feishu_channel, body="two"),
        ]
    )
    outside = make_notification(feishu_channel)

    html = shown(operator_client, f"?batch={batch.pk}")

    assert all(short_id(n.uuid) in html for n in created)
    assert short_id(outside.uuid) not in html


def test_search_finds_a_public_id_a_recipient_and_a_provider_message_id(
    operator_client: Client, feishu_channel: Channel
) -> None:
    alice = make_notification(feishu_channel, recipient="ou_alice")
    bob = make_notification(
        feishu_channel, recipient="ou_bob", provider_message_id="om_12345"
    )

    by_id = shown(operator_client, f"?q={alice.uuid}")
    by_recipient = shown(operator_client, "?q=ou_al")
    by_provider_id = shown(operator_client, "?q=om_12345")

    assert short_id(alice.uuid) in by_id and short_id(bob.uuid) not in by_id
    assert short_id(alice.uuid) in by_recipient
    assert short_id(bob.uuid) not in by_recipient
    assert short_id(bob.uuid) in by_provider_id
    assert short_id(alice.uuid) not in by_provider_id


def test_the_date_drill_down_offers_each_year_between_the_first_and_last_row(
    operator_client: Client, feishu_channel: Channel
) -> None:
    now = timezone.now()
    make_notification(feishu_channel, created_at=now)
    make_notification(feishu_channel, created_at=now - datetime.timedelta(days=800))

    html = shown(operator_client)

    for year in range((now - datetime.timedelta(days=800)).year, now.year + 1):
        assert f"created_at__year={year}" in html


def test_badges_show_each_status_in_words_and_colour(
    operator_client: Client, feishu_channel: Channel
) -> None:
    make_notification(feishu_channel, status=Status.RETRYING)

    html = shown(operator_client)

    assert '<span class="orion-badge orion-status-retrying">retrying</span>' in html


def test_a_list_past_the_count_cap_says_so_instead_of_counting(
    operator_client: Client,
    feishu_channel: Channel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from notifications.admin.common import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for _ in range(5):
        make_notification(feishu_channel)

    html = shown(operator_client)

    assert "More than 3 notifications" in html


def test_the_list_costs_the_same_queries_for_few_and_many_rows(
    operator_client: Client,
    feishu_channel: Channel,
    other_channel: Channel,
    django_assert_num_queries: object,
) -> None:
    make_notification(feishu_channel)
    operator_client.get(LIST_URL)  # warm the session's caches alike
    with django_assert_num_queries(LIST_QUERIES):
        shown(operator_client)

    for index in range(30):
        make_notification(feishu_channel if index % 2 else other_channel)
    with django_assert_num_queries(LIST_QUERIES):
        html = shown(operator_client)
    assert html.count("orion-status-queued") == 31
