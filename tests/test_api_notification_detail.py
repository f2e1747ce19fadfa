"""GET /api/v1/notifications/{id}/ shows a notification with its whole history."""

from __future__ import annotations

import uuid

from django.utils import timezone

from notifications.models import DeliveryAttempt, Outcome
from tests.api_support import error_of, send

pytest_plugins = ["tests.api_fixtures"]


def test_shows_attempts_and_transitions(operator_client, operator, feishu_channel):
    notification = send(feishu_channel)
    started = timezone.now()
    DeliveryAttempt.objects.create(
        notification=notification,
        number=1,
        started_at=started,
        finished_at=started,
        duration_ms=120,
        outcome=Outcome.TRANSIENT,
        status_code=200,
        provider_code="11232",
        error="Feishu rate-limited the bot.",
        reply_excerpt='{"code":11232}',
    )
    operator_client.post(f"/api/v1/notifications/{notification.uuid}/cancel/")

    response = operator_client.get(f"/api/v1/notifications/{notification.uuid}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(notification.uuid)
    assert body["attempts"] == [
        {
            "number": 1,
            "started_at": body["attempts"][0]["started_at"],
            "finished_at": body["attempts"][0]["finished_at"],
            "duration_ms": 120,
            "outcome": "transient",
            "status_code": 200,
            "provider_code": "11232",
            "error": "Feishu rate-limited the bot.",
            "reply_excerpt": '{"code":11232}',
        }
    ]
    create, cancel = body["transitions"]
    assert (create["from"], create["to"], create["by"]) == ("", "queued", None)
    assert cancel["from"] == "queued"
    assert cancel["to"] == "cancelled"
    assert cancel["transition"] == "cancel"
    assert cancel["by"] == operator.username
    assert cancel["actor"] == "api"
    assert cancel["why"]
    assert cancel["at"]


def test_an_unknown_id_is_a_json_404(operator_client, db):
    response = operator_client.get(f"/api/v1/notifications/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_an_id_that_is_not_a_uuid_is_a_json_404(operator_client, db):
    response = operator_client.get("/api/v1/notifications/12/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
