"""An Idempotency-Key makes a create safe to repeat: one notification, one answer."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from notifications import services
from notifications.models import IdempotencyKey, Notification
from tests.api_support import client_for, error_of, make_user

pytest_plugins = ["tests.api_fixtures"]

URL = "/api/v1/notifications/"
BULK_URL = "/api/v1/notifications/bulk/"
PAYLOAD = {"channel": "ops-feishu", "body": "Deploy 42 finished."}


def test_a_repeat_answers_200_with_the_first_answer(operator_client, feishu_channel):
    first = operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")
    again = operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Notification.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(operator_client, feishu_channel):
    operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")

    response = operator_client.post(
        URL, {**PAYLOAD, "body": "Deploy 43"}, HTTP_IDEMPOTENCY_KEY="deploy-42"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Notification.objects.count() == 1


def test_keys_are_scoped_to_the_user(operator_client, feishu_channel):
    other_client = client_for(make_user("otto"))

    first = operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")
    second = other_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_an_invalid_request_does_not_use_up_the_key(operator_client, feishu_channel):
    refused = operator_client.post(
        URL, {**PAYLOAD, "channel": "nowhere"}, HTTP_IDEMPOTENCY_KEY="deploy-42"
    )
    corrected = operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="deploy-42")

    assert refused.status_code == 400
    assert corrected.status_code == 201


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_400(operator_client, feishu_channel, key):
    response = operator_client.post(URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not Notification.objects.exists()


def test_bulk_requests_take_a_key_too(operator_client, feishu_channel):
    payload = {"notifications": [PAYLOAD, PAYLOAD]}

    first = operator_client.post(BULK_URL, payload, HTTP_IDEMPOTENCY_KEY="b-1")
    again = operator_client.post(BULK_URL, payload, HTTP_IDEMPOTENCY_KEY="b-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Notification.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_notification(
    operator, feishu_channel, monkeypatch
):
    real_create = services.create_notification

    def slow_create(*args, **kwargs):
        # Hold the winner inside its transaction, so the other request
        # certainly arrives while the first is still in flight.
        time.sleep(0.3)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(services, "create_notification", slow_create)
    clients = [client_for(operator), client_for(operator)]
    barrier = threading.Barrier(len(clients))
    responses = [None, None]

    def post(index: int) -> None:
        try:
            barrier.wait()
            responses[index] = clients[index].post(
                URL, PAYLOAD, HTTP_IDEMPOTENCY_KEY="race-1"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json() == responses[1].json()
    assert Notification.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
