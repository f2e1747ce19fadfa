"""Requests are rate-limited per token, with a JSON 429 and Retry-After."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from notifications.api.throttling import TokenRateThrottle
from tests.api_support import client_for, error_of

pytest_plugins = ["tests.api_fixtures"]


@pytest.fixture(autouse=True)
def two_per_minute(monkeypatch):
    cache.clear()
    # The rates DRF read from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
    monkeypatch.setitem(TokenRateThrottle.THROTTLE_RATES, "token", "2/min")
    yield
    cache.clear()


def test_the_third_request_in_a_minute_is_a_429(operator_client):
    statuses = [operator_client.get("/api/v1/ping").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_throttled_answer_says_when_to_come_back(operator_client):
    for _ in range(2):
        operator_client.get("/api/v1/ping")

    response = operator_client.get("/api/v1/ping")

    assert int(response["Retry-After"]) > 0
    assert error_of(response)["code"] == "throttled"


def test_each_token_has_its_own_allowance(operator, operator_client):
    for _ in range(3):
        operator_client.get("/api/v1/ping")

    other_token = client_for(operator)

    assert other_token.get("/api/v1/ping").status_code == 200
