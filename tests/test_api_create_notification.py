"""POST /api/v1/notifications/ creates one notification, or says what to fix."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notifications.api import parsers
from notifications.models import Notification, Status
from tests.api_support import error_of

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/notifications/"


def test_creates_a_queued_notification_from_subject_and_body(
    operator_client, operator, feishu_channel
):
    response = operator_client.post(
        URL,
        {
            "channel": "ops-feishu",
            "subject": "Disk",
            "body": "db-1 has 3% left.",
            "priority": "urgent",
            "metadata": {"ticket": "OPS-1"},
        },
    )

    assert response.status_code == 201
    body = response.json()
    notification = Notification.objects.get()
    assert body["id"] == str(notification.uuid)
    assert body["channel"] == "ops-feishu"
    assert body["status"] == Status.QUEUED
    assert body["priority"] == "urgent"
    assert body["metadata"] == {"ticket": "OPS-1"}
    assert body["created_by"] == operator.username
    assert body["attempts"] == []
    assert [t["transition"] for t in body["transitions"]] == ["create"]
    assert notification.created_via == "api"


def test_renders_the_template_variant_of_the_channel_kind(
    operator_client, feishu_channel, alert_template
):
    response = operator_client.post(
        URL,
        {
            "channel": "ops-feishu",
            "template": "service-down",
            "context": {"service": "billing", "at": "12:04"},
        },
    )

    assert response.status_code == 201
    assert response.json()["subject"] == "[P1] billing"
    assert response.json()["body"] == "billing down (12:04)"
    assert response.json()["template"] == "service-down"


def test_a_future_send_at_waits_as_pending(operator_client, feishu_channel):
    send_at = timezone.now() + datetime.timedelta(hours=1)

    response = operator_client.post(
        URL, {"channel": "ops-feishu", "body": "Later", "send_at": send_at.isoformat()}
    )

    assert response.status_code == 201
    assert response.json()["status"] == Status.PENDING


def test_missing_template_variables_are_named(
    operator_client, feishu_channel, alert_template
):
    response = operator_client.post(
        URL,
        {"channel": "ops-feishu", "template": "service-down", "context": {}},
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "missing_variables"
    assert sorted(error["missing"]) == ["at", "service"]
    assert "context" in error["fields"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channel": "nowhere", "body": "x"}, "channel"),
        ({"channel": "ops-feishu"}, "body"),
        ({"channel": "ops-feishu", "template": "nope"}, "template"),
        ({"channel": "ops-feishu", "body": "x", "priority": "asap"}, "priority"),
        ({"channel": "ops-feishu", "body": 12}, "body"),
        ({"channel": "ops-feishu", "body": "x", "context": [1]}, "context"),
        ({"channel": "ops-feishu", "body": "x", "metadata": "m"}, "metadata"),
        ({"channel": "ops-feishu", "body": "x", "send_at": "soon"}, "send_at"),
        ({"channel": "ops-feishu", "body": "x\x00"}, "body"),
        ({"channel": "ops-feishu", "body": "x", "metadata": {"k": "\x00"}}, "metadata"),
        ({"body": "x"}, "channel"),
    ],
)
def test_refuses_invalid_input_naming_the_field(
    operator_client, feishu_channel, payload, field
):
    response = operator_client.post(URL, payload)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert field in error["message"]
    assert not Notification.objects.exists()


def test_refuses_a_disabled_channel(operator_client, feishu_channel):
    feishu_channel.enabled = False
    feishu_channel.save()

    response = operator_client.post(URL, {"channel": "ops-feishu", "body": "x"})

    assert response.status_code == 400
    assert "disabled" in error_of(response)["fields"]["channel"][0]


def test_refuses_both_a_template_and_a_body(
    operator_client, feishu_channel, alert_template
):
    response = operator_client.post(
        URL, {"channel": "ops-feishu", "template": "service-down", "body": "x"}
    )

    assert response.status_code == 400
    assert "template" in error_of(response)["fields"]


def test_refuses_send_at_in_the_past_beyond_the_tolerance(
    operator_client, feishu_channel
):
    send_at = timezone.now() - datetime.timedelta(hours=1)

    response = operator_client.post(
        URL, {"channel": "ops-feishu", "body": "x", "send_at": send_at.isoformat()}
    )

    assert response.status_code == 400
    assert "past" in error_of(response)["fields"]["send_at"][0]


def test_refuses_an_expiry_before_the_time_of_sending(operator_client, feishu_channel):
    send_at = timezone.now() + datetime.timedelta(hours=2)

    response = operator_client.post(
        URL,
        {
            "channel": "ops-feishu",
            "body": "x",
            "send_at": send_at.isoformat(),
            "expires_at": (send_at - datetime.timedelta(hours=1)).isoformat(),
        },
    )

    assert response.status_code == 400
    assert "expires_at" in error_of(response)["fields"]


def test_refuses_a_message_the_provider_would_refuse(operator_client, feishu_channel):
    response = operator_client.post(
        URL, {"channel": "ops-feishu", "body": "x" * 30_000}
    )

    assert response.status_code == 400
    assert "Feishu takes at most" in error_of(response)["fields"]["body"][0]


def test_malformed_json_is_a_400_that_says_so(operator_client, feishu_channel):
    response = operator_client.post(
        URL, data='{"channel": "ops-feishu",', content_type="application/json"
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert "JSON" in error["message"]


def test_a_deeply_nested_document_is_a_400_not_a_crash(operator_client, feishu_channel):
    response = operator_client.post(
        URL, data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_number_too_large_for_json_is_a_400(operator_client, feishu_channel):
    response = operator_client.post(
        URL,
        data='{"channel": "ops-feishu", "body": "x", "metadata": {"n": 1e400}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "metadata" in error_of(response)["fields"]


def test_a_body_over_the_size_cap_is_a_413(
    operator_client, feishu_channel, monkeypatch
):
    monkeypatch.setattr(parsers, "MAX_BODY_BYTES", 100)

    response = operator_client.post(URL, {"channel": "ops-feishu", "body": "x" * 200})

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert not Notification.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(operator_client, feishu_channel):
    response = operator_client.post(URL, data="[]", content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_a_form_encoded_body_is_refused_as_unsupported(operator_client, feishu_channel):
    response = operator_client.post(
        URL,
        data="channel=ops-feishu&body=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
