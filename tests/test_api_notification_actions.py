"""Cancel, retry and resend through the API follow the state machine."""

from __future__ import annotations

import pytest

from notifications.models import Notification, Status
from tests.api_support import error_of, send
from tests.unknown_outcomes import failed_with_unknown_outcome

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
    set_status(notification, Status.FAILED)
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


@pytest.mark.parametrize(
    "status", [Status.PENDING, Status.QUEUED, Status.SENDING, Status.RETRYING]
)
def test_resending_one_not_finished_is_a_409_saying_to_cancel_or_retry(
    operator_client, feishu_channel, status
):
    notification = send(feishu_channel)
    set_status(notification, status)

    response = operator_client.post(action_url(notification, "resend"))

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["status"]) == ("action_refused", status)
    assert "Cancel it or retry it instead." in error["message"]
    assert Notification.objects.count() == 1


@pytest.fixture
def sms_failure(twilio_channel, fake_twilio) -> Notification:
    return failed_with_unknown_outcome(twilio_channel, fake_twilio)


@pytest.mark.parametrize("action", ["retry", "resend"])
def test_an_unknown_outcome_is_a_409_until_confirmed(
    operator_client, sms_failure, action
):
    response = operator_client.post(action_url(sms_failure, action))

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["status"]) == ("unknown_outcome", "failed")
    assert "may already have delivered" in error["message"]
    assert "Check with the provider" in error["message"]
    sms_failure.refresh_from_db()
    assert sms_failure.status == Status.FAILED
    assert Notification.objects.count() == 1


def test_a_confirmed_retry_of_an_unknown_outcome_queues_it(
    operator_client, sms_failure
):
    response = operator_client.post(
        action_url(sms_failure, "retry"),
        {"confirm_unknown": True, "reason": "Twilio says it was not delivered."},
    )

    assert response.status_code == 200
    assert response.json()["status"] == Status.QUEUED
    assert response.json()["transitions"][-1]["why"].startswith(
        "Twilio says it was not delivered."
    )


def test_a_confirmed_resend_of_an_unknown_outcome_creates_the_copy(
    operator_client, sms_failure
):
    response = operator_client.post(
        action_url(sms_failure, "resend"), {"confirm_unknown": True}
    )

    assert response.status_code == 201
    assert response.json()["resend_of"] == str(sms_failure.uuid)


def test_confirm_unknown_must_be_a_boolean(operator_client, sms_failure):
    response = operator_client.post(
        action_url(sms_failure, "resend"), {"confirm_unknown": "yes"}
    )

    assert response.status_code == 400
    assert "confirm_unknown" in error_of(response)["fields"]
    assert Notification.objects.count() == 1
