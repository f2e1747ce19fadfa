"""Channels: configure destinations; secrets are write-only."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

import adapters
from notifications import services
from notifications.api import examples
from notifications.api.errors import ApiError, django_field_errors
from notifications.api.fields import (
    JSONObjectField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSlugField,
    WholeItemSerializer,
    json_problem,
)
from notifications.api.schema import slug_parameter
from notifications.models import Channel

logger = logging.getLogger(__name__)

SLUG = slug_parameter("channel")
MAX_SECRET_CHARS = 2000


class SecretsField(serializers.Field):
    """Write: {name: value, or null/"" to clear}. Read: {name: {set, last4}}.

    Reads come from `Channel.masked_secrets()`, so a secret never leaves
    Orion in full; `source="*"` hands it the channel, not the raw dict.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, channel: Channel) -> dict[str, Any]:
        try:
            return channel.masked_secrets()
        except KeyError:
            # A kind whose adapter is gone: say nothing rather than fail.
            return {}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                'Give an object of secret names to values (null or "" clears one).'
            )
        cleaned: dict[str, str | None] = {}
        for name, value in data.items():
            if value is not None and not isinstance(value, str):
                raise serializers.ValidationError({name: ["Give a string or null."]})
            if value and len(value) > MAX_SECRET_CHARS:
                raise serializers.ValidationError(
                    {name: [f"Give at most {MAX_SECRET_CHARS} characters."]}
                )
            problem = json_problem(value)
            if problem:
                raise serializers.ValidationError({name: [problem]})
            cleaned[str(name)] = value
        return {"secrets": cleaned}


class RateLimitSerializer(WholeItemSerializer):
    count = StrictIntegerField(min_value=1, help_text="At most this many sends...")
    seconds = StrictIntegerField(
        min_value=1, max_value=86400, help_text="...per this many seconds."
    )


class ChannelSerializer(serializers.Serializer):
    """A channel; validation is the model's (`Channel.clean`), so admin agrees."""

    slug = StrictSlugField(
        max_length=64, help_text="Its unique name, used in URLs and requests."
    )
    name = StrictCharField(max_length=200, help_text="A name for people.")
    kind = serializers.ChoiceField(
        choices=[],
        help_text="The kind of destination; it cannot change after creation.",
    )
    enabled = StrictBooleanField(
        default=True, help_text="A disabled channel takes no new notifications."
    )
    config = JSONObjectField(
        required=False,
        help_text=(
            "Plain settings of the kind (see the channel kinds documentation), "
            'e.g. {"message_type": "post"} for feishu. On PATCH, keys given '
            "replace those stored and null removes one."
        ),
    )
    secrets = SecretsField(
        required=False,
        help_text=(
            "Write-only values such as webhook URLs and signing secrets. Reads "
            "show only whether each is set and at most its last four "
            'characters. On PATCH, a secret left out is kept and null or "" '
            "clears it."
        ),
    )
    rate_limit = RateLimitSerializer(
        many=True,
        required=False,
        help_text=(
            "Limits lower than the provider's; empty means the provider's "
            "documented limits."
        ),
    )
    last_error = serializers.CharField(
        read_only=True, help_text="The last delivery failure, redacted."
    )
    last_error_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it happened."
    )
    credential_dead_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the provider said the credential no longer exists.",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Created at.")
    updated_at = serializers.DateTimeField(read_only=True, help_text="Changed at.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # Kinds register as their adapter modules load: read them per use.
        fields["kind"].choices = adapters.kinds()
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current: Channel | None = self.instance
        if current is not None and attrs.get("kind", current.kind) != current.kind:
            raise serializers.ValidationError(
                {"kind": ["A channel's kind cannot change; create a new channel."]}
            )
        channel = copy.copy(current) if current is not None else Channel()
        for name in ("slug", "name", "kind", "enabled"):
            if name in attrs:
                setattr(channel, name, attrs[name])
        if "config" in attrs:
            channel.config = _merge(current.config if current else {}, attrs["config"])
        if "secrets" in attrs:
            channel.secrets = _merge(
                current.secrets if current else {}, attrs["secrets"]
            )
        if "rate_limit" in attrs:
            channel.rate_limit = [dict(item) for item in attrs["rate_limit"]]
        try:
            channel.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_field_errors(exc)) from None
        return {"channel": channel}

    def create(self, validated_data: dict[str, Any]) -> Channel:
        channel = validated_data["channel"]
        channel.save()
        logger.info("channel %s (%s) created via the API", channel.slug, channel.kind)
        return channel

    def update(self, instance: Channel, validated_data: dict[str, Any]) -> Channel:
        channel = validated_data["channel"]
        channel.save()
        logger.info("channel %s changed via the API", channel.slug)
        return channel


def _merge(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch: given keys replace stored ones; null or "" removes one."""
    merged = {**stored, **given}
    return {key: value for key, value in merged.items() if value not in (None, "")}


class TestSendSerializer(serializers.Serializer):
    recipient = StrictCharField(
        max_length=320,
        required=False,
        allow_blank=True,
        default="",
        help_text="Whom to send the test to, if the kind needs a recipient.",
    )


class TestSendResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Whether the provider accepted it.")
    message = serializers.CharField(help_text="What happened, for people.")
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The provider's HTTP status, if it answered."
    )
    provider_code = serializers.CharField(
        allow_blank=True, help_text="The provider's own result code."
    )
    reply = serializers.CharField(
        allow_blank=True, help_text="The start of the provider's reply, redacted."
    )


@extend_schema_view(
    list=extend_schema(summary="List channels"),
    retrieve=extend_schema(summary="Read a channel", parameters=[SLUG]),
    create=extend_schema(
        summary="Create a channel", examples=examples.CHANNEL_REQUESTS
    ),
    partial_update=extend_schema(
        summary="Change a channel",
        parameters=[SLUG],
        description="Only the fields given change; see `config` and `secrets`.",
    ),
    destroy=extend_schema(
        summary="Delete a channel",
        parameters=[SLUG],
        description=(
            "Refused with 409 while notifications refer to it: disable it instead."
        ),
    ),
)
class ChannelViewSet(viewsets.ModelViewSet):
    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    lookup_field = "slug"
    filter_backends: list[type] = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # As in the admin: the permission of migration 0002, or changing channels.
    action_permissions = {
        "test": (("notifications.test_channel", "notifications.change_channel"),)
    }
    conflict_actions = {
        "destroy": "Notifications refer to the channel; disable it instead.",
        "create": "Another request created a channel with this slug meanwhile.",
        "partial_update": "Another request gave a channel this slug meanwhile.",
    }

    def perform_destroy(self, instance: Channel) -> None:
        try:
            instance.delete()
        except ProtectedError:
            raise ApiError(
                409,
                "channel_in_use",
                f"The channel '{instance.slug}' has notifications, so it cannot "
                'be deleted; disable it instead (PATCH {"enabled": false}).',
            ) from None
        logger.info("channel %s deleted via the API", instance.slug)

    @extend_schema(
        summary="Send a test message",
        parameters=[SLUG],
        description=(
            "Sends a test message through the channel now, bypassing the queue. "
            "A provider's refusal is a 200 with ok false: the channel answered."
        ),
        request=TestSendSerializer,
        responses={200: OpenApiResponse(TestSendResultSerializer)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, slug: str) -> Response:
        serializer = TestSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel = self.get_object()
        result = services.test_send(
            channel, serializer.validated_data["recipient"], by=request.user
        )
        return Response(TestSendResultSerializer(result).data)
