"""URLs of the notifications app: health checks (the API adds its own)."""

from django.urls import path

from notifications import health

urlpatterns = [
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
]
