"""URLs of the API, mounted under /api/ by orion/urls.py."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from notifications.api import schema  # noqa: F401  (registers the extensions)
from notifications.api.channels import ChannelViewSet
from notifications.api.notifications import NotificationViewSet
from notifications.api.templates import TemplateViewSet
from notifications.api.views import PingView, StatsView

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")
router.register("channels", ChannelViewSet, basename="channel")
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = [
    path("v1/ping", PingView.as_view(), name="api-ping"),
    path("v1/stats/", StatsView.as_view(), name="api-stats"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
]
