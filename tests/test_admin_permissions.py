"""Operators send and act; viewers only look; both groups come from a migration."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.test import Client

from notifications.models import Channel, Notification, Status
from tests.admin_helpers import make_notification

pytest_plugins = ("tests.admin_support",)

LIST_URL = "/admin/notifications/notification/"
SEND_URL = LIST_URL + "send/"


def codenames(group: str) -> set[str]:
    return set(
        Group.objects.get(name=group).permissions.values_list("codename", flat=True)
    )


def test_the_migration_creates_both_groups_with_their_permissions(db: None) -> None:
    operators = codenames("Operators")
    viewers = codenames("Viewers")

    assert {"add_notification", "change_notification", "test_channel"} <= operators
    assert "change_channel" not in operators
    assert "delete_notification" not in operators
    assert all(name.startswith("view_") for name in viewers)
    assert {"view_notification", "view_channel", "view_template"} <= viewers


def test_a_viewer_sees_no_actions_no_buttons_and_no_send_link(
    viewer_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.FAILED)

    listing = viewer_client.get(LIST_URL).content.decode()
    detail = viewer_client.get(f"{LIST_URL}{notification.pk}/change/").content.decode()
    index = viewer_client.get("/admin/").content.decode()

    assert 'name="action"' not in listing
    assert SEND_URL not in listing + detail + index
    assert "/act/" not in detail
    assert "orion-status-failed" in detail


def test_a_viewer_cannot_send_or_act_even_by_posting(
    viewer_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel)

    assert viewer_client.get(SEND_URL).status_code == 403
    assert (
        viewer_client.post(f"{LIST_URL}{notification.pk}/act/cancel/").status_code
        == 403
    )
    viewer_client.post(
        LIST_URL,
        {
            "action": "cancel_selected",
            "_selected_action": [notification.pk],
            "post": "yes",
        },
    )
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED


def test_an_operator_sees_the_send_link_and_the_actions(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel, status=Status.FAILED)

    listing = operator_client.get(LIST_URL).content.decode()
    detail = operator_client.get(
        f"{LIST_URL}{notification.pk}/change/"
    ).content.decode()
    index = operator_client.get("/admin/").content.decode()

    assert SEND_URL in listing and SEND_URL in index
    assert 'value="retry_selected"' in listing
    assert f"{notification.pk}/act/retry/" in detail
    assert operator_client.get(SEND_URL).status_code == 200


def test_an_operator_cannot_edit_channels_or_delete_notifications(
    operator_client: Client, feishu_channel: Channel
) -> None:
    notification = make_notification(feishu_channel)

    change = operator_client.get(
        f"/admin/notifications/channel/{feishu_channel.pk}/change/"
    ).content.decode()
    deleted = operator_client.post(
        f"{LIST_URL}{notification.pk}/delete/", {"post": "yes"}
    )

    assert 'name="secret_webhook_url"' not in change
    assert 'name="_save"' not in change
    assert deleted.status_code == 403
    assert Notification.objects.filter(pk=notification.pk).exists()
