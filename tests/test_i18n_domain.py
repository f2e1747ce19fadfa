"""Domain errors speak the operator's language; stored delivery errors stay English."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from notifications import services
from notifications.delivery import deliver_next
from notifications.models import Channel, DeliveryAttempt, Status, StatusChange
from notifications.services import NotificationSpec
from tests.builders import feishu_channel_for, in_state, notify
from tests.fakes.feishu import CODES, FakeFeishu, feishu_error


def prepare_error(spec: NotificationSpec, language: str) -> dict[str, list[str]]:
    with translation.override(language):
        with pytest.raises(ValidationError) as caught:
            services.prepare(spec)
        return caught.value.message_dict


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "渠道“nowhere”不存在。"), ("en", "No channel 'nowhere'.")],
)
def test_an_unknown_channel_is_refused_in_the_active_language(
    db: None, language: str, expected: str
) -> None:
    errors = prepare_error(NotificationSpec(channel="nowhere", body="x"), language)

    assert errors == {"channel": [expected]}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "渠道“ops-feishu”已停用。"),
        ("en", "The channel 'ops-feishu' is disabled."),
    ],
)
def test_a_disabled_channel_is_refused_in_the_active_language(
    feishu_channel: Channel, language: str, expected: str
) -> None:
    Channel.objects.filter(pk=feishu_channel.pk).update(enabled=False)

    errors = prepare_error(NotificationSpec(channel="ops-feishu", body="x"), language)

    assert errors == {"channel": [expected]}


@override_settings(ORION_ALLOW_PRIVATE_DESTINATIONS=False)
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            "需要 open.feishu.cn 或 open.larksuite.com 域名下的 https URL。",
        ),
        (
            "en",
            "Expected an https URL on open.feishu.cn or open.larksuite.com.",
        ),
    ],
)
def test_a_feishu_webhook_on_another_host_is_refused_in_the_active_language(
    db: None, language: str, expected: str
) -> None:
    channel = Channel(
        slug="wrong-host",
        name="wrong host",
        kind="feishu",
        secrets={"webhook_url": "https://example.com/open-apis/bot/v2/hook/abc123"},
    )

    with translation.override(language):
        with pytest.raises(ValidationError) as caught:
            channel.full_clean()
        errors = caught.value.message_dict

    assert errors["secrets.webhook_url"] == [expected]


def test_an_adapter_label_follows_the_active_language() -> None:
    adapter = Channel(kind="dingtalk").adapter

    with translation.override("zh-hans"):
        chinese = str(adapter.label)
    with translation.override("en"):
        english = str(adapter.label)

    assert (chinese, english) == ("钉钉自定义机器人", "DingTalk custom robot")


def test_a_refused_action_is_explained_in_chinese(feishu_channel: Channel) -> None:
    sent = in_state(feishu_channel, Status.SENT)

    with translation.override("zh-hans"):
        with pytest.raises(services.ActionRefused) as caught:
            services.cancel(sent)
        done, skipped = services.bulk_action([sent], "cancel")

    assert str(caught.value) == f"无法取消 {sent.uuid}：其状态为已发送。"
    assert caught.value.action == "cancel"
    assert (done, skipped) == ([], [(sent, "其状态为已发送")])


def test_a_delivery_error_is_stored_in_english_under_a_chinese_worker(
    db: None, fake_feishu: FakeFeishu
) -> None:
    channel = feishu_channel_for(fake_feishu)
    fake_feishu.fail_next(feishu_error(9499, CODES[9499]))
    notification = notify(channel)

    with translation.override("zh-hans"):
        deliver_next()

    english = "Feishu refused the body as malformed or over 20 KB."
    notification.refresh_from_db()
    channel.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.last_error == english
    assert channel.last_error == english
    assert DeliveryAttempt.objects.get(notification=notification).error == english
    failure = StatusChange.objects.get(notification=notification, target="failed")
    assert failure.reason == english
