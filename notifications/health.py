"""Liveness and readiness endpoints for load balancers and orchestrators."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from notifications.models import Lease


@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def check_broker() -> bool:
    from django_q.brokers import get_broker

    try:
        return get_broker().ping() is not False
    except Exception:
        return False


def check_workers() -> bool:
    """A cluster is alive when its dispatcher renewed the lease lately."""
    try:
        return Lease.objects.filter(
            name="dispatcher",
            expires_at__gt=timezone.now() - timezone.timedelta(seconds=5),
        ).exists()
    except Exception:
        return False


@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "workers": check_workers(),
    }
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
