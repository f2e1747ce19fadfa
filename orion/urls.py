"""Orion's URLs: admin, health checks, and the API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
    path("api/", include("notifications.api.urls")),
]

# JSON errors under /api/, Django's pages elsewhere.
handler400 = "notifications.api.errors.bad_request"
handler403 = "notifications.api.errors.permission_denied"
handler404 = "notifications.api.errors.not_found"
handler500 = "notifications.api.errors.server_error"
