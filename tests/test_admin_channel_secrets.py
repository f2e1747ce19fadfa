"""Channel secrets are write-only: never on a page, kept when left blank."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifications.models import Channel
from tests.admin_helpers import client_for, make_notification, make_user
from tests.fakes.feishu import FakeFeishu

pytest_plugins = ("tests.admin_support",)

SIGNING_SECRET = "sig-Secret-value-7f3a9c"
ADD_URL = "/admin/notifications/channel/add/"


@pytest.fixture
def admin_client_(db: None) -> Client:
    user = make_user("root", None)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    return client_for(User.objects.get(pk=user.pk))


@pytest.fixture
def signed_channel(feishu_channel: Channel) -> Channel:
    feishu_channel.secrets = {
        **feishu_channel.secrets,
        "signing_secret": SIGNING_SECRET,
    }
    feishu_channel.save()
    return feishu_channel


def change_url(channel: Channel) -> str:
    return f"/admin/notifications/channel/{channel.pk}/change/"


def edit_data(channel: Channel, **fields: str) -> dict[str, str]:
    data = {
        "slug": channel.slug,
        "name": channel.name,
        "enabled": "on",
        "config": '{"message_type": "text"}',
        "rate_limit": "[]",
        "secret_webhook_url": "",
        "secret_signing_secret": "",
    }
    data.update(fields)
    return data


def test_no_channel_page_contains_a_secret(
    admin_client_: Client,
    operator_client: Client,
    viewer_client: Client,
    signed_channel: Channel,
    fake_feishu: FakeFeishu,
) -> None:
    notification = make_notification(signed_channel)
    pages = [
        "/admin/notifications/channel/",
        change_url(signed_channel),
        f"/admin/notifications/channel/{signed_channel.pk}/test/",
        f"/admin/notifications/channel/{signed_channel.pk}/history/",
        f"/admin/notifications/notification/{notification.pk}/change/",
        "/admin/notifications/notification/",
        "/admin/notifications/notification/send/",
        "/admin/",
    ]
    secrets = (SIGNING_SECRET, fake_feishu.webhook_url, fake_feishu.token)

    for client in (admin_client_, operator_client, viewer_client):
        for page in pages:
            html = client.get(page).content.decode()
            for secret in secrets:
                assert secret not in html, (page, secret)


def test_the_change_form_shows_whether_each_secret_is_set_and_its_end(
    admin_client_: Client, signed_channel: Channel
) -> None:
    html = admin_client_.get(change_url(signed_channel)).content.decode()

    assert 'type="password" name="secret_signing_secret"' in html
    assert "Set, ending in …9c" not in html
    assert "Set, ending in …3a9c." in html
    assert SIGNING_SECRET not in html


def test_leaving_a_secret_blank_keeps_it(
    admin_client_: Client, signed_channel: Channel
) -> None:
    response = admin_client_.post(
        change_url(signed_channel), edit_data(signed_channel, name="Renamed")
    )

    signed_channel.refresh_from_db()
    assert response.status_code == 302
    assert signed_channel.name == "Renamed"
    assert signed_channel.secrets["signing_secret"] == SIGNING_SECRET


def test_typing_a_secret_replaces_it_and_clearing_an_optional_one_removes_it(
    admin_client_: Client, signed_channel: Channel
) -> None:
    admin_client_.post(
        change_url(signed_channel),
        edit_data(signed_channel, secret_signing_secret="a-new-signing-secret"),
    )
    signed_channel.refresh_from_db()
    assert signed_channel.secrets["signing_secret"] == "a-new-signing-secret"

    admin_client_.post(
        change_url(signed_channel),
        edit_data(signed_channel, clear_signing_secret="on"),
    )
    signed_channel.refresh_from_db()
    assert "signing_secret" not in signed_channel.secrets
    assert signed_channel.secrets["webhook_url"]


def test_adapter_errors_appear_on_their_fields(
    admin_client_: Client, signed_channel: Channel
) -> None:
    bad_config = admin_client_.post(
        change_url(signed_channel),
        edit_data(signed_channel, config='{"message_type": "video"}'),
    )
    bad_url = admin_client_.post(
        change_url(signed_channel),
        edit_data(signed_channel, secret_webhook_url="https://example.com/no-hook"),
    )

    config_errors = bad_config.context["adminform"].form.errors
    url_errors = bad_url.context["adminform"].form.errors
    assert config_errors["config"] == [
        "message_type: Choose one of: text, post, interactive"
    ]
    assert url_errors["secret_webhook_url"] == [
        "This URL does not have the provider's path shape."
    ]
    assert "https://example.com/no-hook" not in bad_url.content.decode()
    signed_channel.refresh_from_db()
    assert signed_channel.config == {"message_type": "text"}
    assert signed_channel.secrets["webhook_url"] != "https://example.com/no-hook"


def test_a_new_channel_takes_its_secrets_from_the_form(
    admin_client_: Client, fake_feishu: FakeFeishu
) -> None:
    response = admin_client_.post(
        ADD_URL,
        {
            "slug": "new-feishu",
            "name": "New",
            "kind": "feishu",
            "enabled": "on",
            "config": "{}",
            "rate_limit": "[]",
            "secret_webhook_url": fake_feishu.webhook_url,
        },
    )

    channel = Channel.objects.get(slug="new-feishu")
    assert response.status_code == 302
    assert channel.secrets == {"webhook_url": fake_feishu.webhook_url}
    assert channel.config == {"message_type": "text"}
