"""Orion's URLs: admin, health checks, and the API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
]
