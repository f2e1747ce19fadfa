"""Small endpoints: ping and delivery statistics."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import stats
from notifications.models import Notification, Priority, Status


class PingView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Check your token",
        description="Answers when the credentials are valid; nothing else.",
        responses={
            200: inline_serializer(
                "Pong",
                {"ping": serializers.CharField(help_text='Always "pong".')},
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response({"ping": "pong"})


def _counts(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=serializers.IntegerField(), help_text=help_text)


class LatencySerializer(serializers.Serializer):
    p50 = serializers.FloatField(
        allow_null=True, help_text="Median seconds from creation to sent."
    )
    p95 = serializers.FloatField(
        allow_null=True, help_text="95th percentile seconds from creation to sent."
    )
    count = serializers.IntegerField(help_text="Sends the figures are taken from.")


class WindowSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Notifications created in the window.")
    by_status = _counts(
        "Counts by status: " + ", ".join(Status.values) + " (absent when 0)."
    )
    by_priority = _counts(
        "Counts by priority: " + ", ".join(Priority.values) + " (absent when 0)."
    )
    by_channel = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Per channel slug, counts by status.",
    )
    failure_rate = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Per channel slug, failed / (sent + failed), from 0 to 1.",
    )
    latency_seconds = LatencySerializer(
        help_text="Delivery latency of the notifications sent in the window."
    )


class StatsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(help_text="When the figures were taken.")
    oldest_waiting_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Creation time of the oldest notification still waiting.",
    )
    hour = WindowSerializer(help_text="The last hour.")
    day = WindowSerializer(help_text="The last 24 hours.")


class StatsView(APIView):
    # Model permissions need a queryset: reading stats is viewing notifications.
    queryset = Notification.objects.none()

    @extend_schema(
        summary="Delivery statistics",
        description=(
            "Counts by status, channel and priority over the last hour and day, "
            "and the delivery latency's median and 95th percentile."
        ),
        responses={200: StatsSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(stats.summary())
