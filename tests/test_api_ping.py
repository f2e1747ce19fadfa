"""GET /api/v1/ping answers a valid token, and nobody else."""

from __future__ import annotations

pytest_plugins = ["tests.api_fixtures"]


def test_ping_answers_pong_to_a_valid_token(viewer_client):
    response = viewer_client.get("/api/v1/ping")

    assert response.status_code == 200
    assert response.json() == {"ping": "pong"}


def test_ping_refuses_an_anonymous_request(anonymous_client):
    response = anonymous_client.get("/api/v1/ping")

    assert response.status_code == 401
