"""The "send a test message" button sends now and shows the provider's answer."""

from __future__ import annotations

from django.test import Client

from notifications.models import Channel, Notification
from tests.fakes.base import Reply
from tests.fakes.feishu import CODES, FakeFeishu, feishu_error

pytest_plugins = ("tests.admin_support",)


def page_url(channel: Channel) -> str:
    return f"/admin/notifications/channel/{channel.pk}/test/"


def test_an_operator_sees_the_provider_accept_the_test_message(
    operator_client: Client, feishu_channel: Channel, fake_feishu: FakeFeishu
) -> None:
    response = operator_client.post(page_url(feishu_channel), {"recipient": ""})

    html = response.content.decode()
    assert "The provider accepted the test message." in html
    assert "&quot;StatusMessage&quot;: &quot;success&quot;" in html
    assert len(fake_feishu.requests) == 1
    assert (
        "Test message from Orion" in fake_feishu.requests[0].json()["content"]["text"]
    )
    assert Notification.objects.count() == 0


def test_a_refusal_shows_the_provider_code_without_the_token(
    operator_client: Client, feishu_channel: Channel, fake_feishu: FakeFeishu
) -> None:
    fake_feishu.fail_next(feishu_error(19024, CODES[19024]))

    html = operator_client.post(page_url(feishu_channel)).content.decode()

    assert "The test message was not delivered." in html
    assert "19024" in html
    assert "Key Words Not Found" in html
    assert fake_feishu.token not in html


def test_a_server_error_is_reported_with_its_status(
    operator_client: Client, feishu_channel: Channel, fake_feishu: FakeFeishu
) -> None:
    fake_feishu.fail_next(Reply(503, "busy"))

    html = operator_client.post(page_url(feishu_channel)).content.decode()

    assert "Feishu answered HTTP 503." in html


def test_the_change_page_links_to_the_test_for_operators_only(
    operator_client: Client, viewer_client: Client, feishu_channel: Channel
) -> None:
    change = f"/admin/notifications/channel/{feishu_channel.pk}/change/"

    assert page_url(feishu_channel) in operator_client.get(change).content.decode()
    assert page_url(feishu_channel) not in viewer_client.get(change).content.decode()
    assert viewer_client.post(page_url(feishu_channel)).status_code == 403
