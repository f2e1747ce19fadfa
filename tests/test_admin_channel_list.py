"""The channel list flags dead credentials and shows recent success, cheaply."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from notifications.models import Channel, Status
from tests.admin_helpers import make_notification
from tests.fakes.feishu import FakeFeishu

pytest_plugins = ("tests.admin_support",)

LIST_URL = "/admin/notifications/channel/"
# Session, user, the user's own and group permissions, the count and the full
# count, the page's channels, their last-24-hours figures, the kind filter.
LIST_QUERIES = 9


def add_channels(count: int, fake: FakeFeishu) -> None:
    start = Channel.objects.count()
    for index in range(start, start + count):
        Channel.objects.create(
            slug=f"team-{index}",
            name=f"Team {index}",
            kind="feishu",
            secrets={"webhook_url": fake.webhook_url},
        )


def test_a_channel_whose_credential_died_is_flagged_but_stays_enabled(
    operator_client: Client, feishu_channel: Channel
) -> None:
    Channel.objects.filter(pk=feishu_channel.pk).update(
        credential_dead_at=timezone.now()
    )

    html = operator_client.get(LIST_URL).content.decode()

    assert "rejected by the provider" in html
    assert Channel.objects.get(pk=feishu_channel.pk).enabled


def test_it_shows_the_share_of_sends_that_went_out_in_the_last_day(
    operator_client: Client, feishu_channel: Channel
) -> None:
    for status in (Status.SENT, Status.SENT, Status.SENT, Status.FAILED):
        make_notification(feishu_channel, status=status)
    make_notification(feishu_channel)

    html = operator_client.get(LIST_URL).content.decode()

    assert '<td class="field-success_display">75%</td>' in html


def test_the_list_costs_the_same_queries_for_few_and_many_channels(
    operator_client: Client,
    feishu_channel: Channel,
    fake_feishu: FakeFeishu,
    django_assert_num_queries: object,
) -> None:
    operator_client.get(LIST_URL)
    with django_assert_num_queries(LIST_QUERIES):
        operator_client.get(LIST_URL)

    add_channels(20, fake_feishu)
    with django_assert_num_queries(LIST_QUERIES):
        html = operator_client.get(LIST_URL).content.decode()
    assert html.count("field-success_display") == 21
