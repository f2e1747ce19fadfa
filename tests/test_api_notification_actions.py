"""Cancel, retry and resend through the API follow the state machine."""

from __future__ import annotations

from notifications.models import Notification, Status
from tests.api_support import error_of, send

pytest_plugins = ["tests.api_fixtures"]


def action_url(notification: Notification, action: str) -> str:
    return f"/api/v1/notifications/{notification.uuid}/{action}/"


def set_status(notification: Notification, status: str) -> None:
    Notification.objects.filter(pk=notification.pk).update(status=status)


def test_cancel_stops_a_queued_notification(operator_client, feishu_channel):
    notification = send(feishu_channel)

    response = operator_client.post(
        action_url(notification, "cancel"), {"reason": "Wrong group."}
    )

    assert response.status_code == 200
    assert response.json()["status"] == Status.CANCELLED
    assert response.json()["transitions"][-1]["why"] == "Wrong group."
    notification.refresh_from_db()
    assert notification.status == Status.CANCELLED


def test_cancelling_a_sent_notification_is_a_409_with_its_status(
    operator_client, feishu_channel
):
    notification = send(feishu_channel)
    set_status(notification, Status.SENT)

    response = operator_client.post(action_url(notification, "cancel"))

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "action_refused"
    assert error["status"] == "sent"
    assert "sent" in error["message"]


def test_retry_sends_a_failed_notification_back_to_the_queue(
    operator_client, feishu_channel
):
    notification = send(feishu_channel)
    set_status(notification, Status.FAILED)

    response = operator_client.post(action_url(notification, "retry"))

    assert response.status_code == 200
    assert response.json()["status"] == Status.QUEUED
    assert response.json()["transitions"][-1]["transition"] == "retry"


def test_retrying_a_queued_notification_is_a_409(operator_client, feishu_channel):
    notification = send(feishu_channel)

    response = operator_client.post(action_url(notification, "retry"))

    assert response.status_code == 409
    assert error_of(response)["status"] == "queued"


def test_resend_creates_a_new_notification_linked_to_the_first(
    operator_client, feishu_channel
):
    notification = send(feishu_channel, body="Once more")
    set_status(notification, Status.SENT)

    response = operator_client.post(action_url(notification, "resend"))

    assert response.status_code == 201
    body = response.json()
    assert body["resend_of"] == str(notification.uuid)
    assert body["id"] != str(notification.uuid)
    assert body["body"] == "Once more"
    assert body["status"] == Status.QUEUED
    assert Notification.objects.count() == 2


def test_resend_through_a_disabled_channel_is_a_400(operator_client, feishu_channel):
    notification = send(feishu_channel)
    feishu_channel.enabled = False
    feishu_channel.save()

    response = operator_client.post(action_url(notification, "resend"))

    assert response.status_code == 400
    assert "disabled" in error_of(response)["fields"]["channel"][0]


def test_a_reason_that_is_not_text_is_a_400(operator_client, feishu_channel):
    notification = send(feishu_channel)

    response = operator_client.post(action_url(notification, "cancel"), {"reason": 5})

    assert response.status_code == 400
    assert "reason" in error_of(response)["fields"]
    notification.refresh_from_db()
    assert notification.status == Status.QUEUED
