"""With Accept-Language: zh-CN the admin speaks Simplified Chinese."""

from __future__ import annotations

from django.test import Client

from notifications.models import Channel, Status
from tests.admin_helpers import client_for, make_notification

pytest_plugins = ("tests.admin_support",)


def test_the_notification_pages_are_in_chinese(
    operator: object, feishu_channel: Channel
) -> None:
    client = client_for(operator, language="zh-CN")
    notification = make_notification(feishu_channel, status=Status.FAILED)

    listing = client.get("/admin/notifications/notification/").content.decode()
    detail = client.get(
        f"/admin/notifications/notification/{notification.pk}/change/"
    ).content.decode()

    assert '<html lang="zh-hans"' in listing
    assert "发送通知" in listing
    assert '<span class="orion-badge orion-status-failed">失败</span>' in listing
    assert "渠道类型" in listing
    assert "立即重试" in detail
    assert "投递尝试" in detail
    assert "不会再尝试发送。" in detail


def test_the_dashboard_and_send_form_are_in_chinese(
    operator: object, feishu_channel: Channel
) -> None:
    client = client_for(operator, language="zh-CN")

    index = client.get("/admin/").content.decode()
    send = client.get("/admin/notifications/notification/send/").content.decode()

    assert "最近 24 小时" in index
    assert "没有工作进程集群在运行" in index
    assert "每行一个。" in send
    assert "在您检查预览并确认之前，不会发送任何消息。" in send


def test_english_stays_the_default_without_a_chinese_browser(
    operator_client: Client, feishu_channel: Channel
) -> None:
    html = operator_client.get("/admin/").content.decode()

    assert "The last 24 hours" in html
    assert "最近 24 小时" not in html
