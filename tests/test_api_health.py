"""/healthz says the process is up; /readyz checks what a send depends on."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from notifications.models import Lease

pytest_plugins = ["tests.api_fixtures"]


def test_liveness_answers_ok(anonymous_client, db):
    response = anonymous_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_fails_without_a_live_worker_cluster(anonymous_client, db):
    response = anonymous_client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["workers"] == "failing"


def test_readiness_passes_with_a_dispatcher_holding_its_lease(anonymous_client, db):
    Lease.objects.create(
        name="dispatcher",
        holder="host-1",
        expires_at=timezone.now() + timedelta(seconds=30),
    )

    response = anonymous_client.get("/readyz")

    assert response.status_code == 200
    assert set(response.json()["checks"].values()) == {"ok"}
