"""OpenAPI details drf-spectacular cannot infer: auth, errors, write-only secrets."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
)
from rest_framework import permissions, serializers

from notifications.models import Status

_FIELD_MESSAGES = {"type": "array", "items": {"type": "string"}}

NOTIFICATION_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The notification's id, as returned when it was created.",
)


def slug_parameter(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "slug",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=r"^[-a-zA-Z0-9_]+$",
        description=f"The {what}'s slug.",
    )


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                _FIELD_MESSAGES,
                {"type": "object", "additionalProperties": _FIELD_MESSAGES},
            ]
        },
    }
)
class ErrorFieldsField(serializers.DictField):
    """Field errors: {field: [messages]}, or for bulk {index: {field: [...]}}."""


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=(
            "A machine-readable code: invalid, missing_variables, parse_error, "
            "not_authenticated, authentication_failed, permission_denied, "
            "not_found, method_not_allowed, unsupported_media_type, "
            "action_refused, unknown_outcome, channel_in_use, "
            "idempotency_key_reused, conflict, "
            "throttled, server_error..."
        )
    )
    message = serializers.CharField(help_text="What went wrong and what to fix.")
    fields = ErrorFieldsField(
        required=False,
        help_text=(
            "Errors by field, dotted for nested ones (`config.url`). For bulk "
            "requests, keyed by item index, each holding that item's errors."
        ),
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        help_text=(
            "With action_refused and unknown_outcome: the notification's "
            "current status."
        ),
    )
    missing = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="With missing_variables: the variables the context lacks.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer(help_text="The one shape of every API error.")


def _example(code: str, message: str, **extra: Any) -> OpenApiExample:
    return OpenApiExample(
        code, value={"error": {"code": code, "message": message, **extra}}
    )


ERRORS = {
    400: (
        "The request is invalid; `fields` says where.",
        _example(
            "invalid",
            "channel: No channel 'ops'.",
            fields={"channel": ["No channel 'ops'."]},
        ),
    ),
    401: (
        "No credentials, or a token that is invalid, revoked or expired.",
        _example(
            "not_authenticated",
            "Authentication is required: send an 'Authorization: Bearer <token>' "
            "header.",
        ),
    ),
    403: (
        "Your user lacks the model permission this needs.",
        _example(
            "permission_denied",
            "Your account lacks the permission for this; an administrator can "
            "grant it in the admin.",
        ),
    ),
    404: (
        "Nothing at this address.",
        _example("not_found", "Nothing was found at this address."),
    ),
    409: (
        "The request conflicts with the current state.",
        _example(
            "action_refused",
            "Cannot cancel this notification: it is sent.",
            status="sent",
        ),
    ),
    413: (
        "The body is larger than the API accepts (32 MiB).",
        _example(
            "payload_too_large",
            "The request body is larger than 32 MiB; send fewer notifications "
            "per request.",
        ),
    ),
    415: (
        "The body is not JSON.",
        _example(
            "unsupported_media_type",
            'Unsupported media type "text/plain" in request.',
        ),
    ),
    429: (
        "Too many requests for this token; wait as Retry-After says.",
        _example(
            "throttled",
            "Request was throttled. Expected available in 3 seconds.",
        ),
    ),
}


class OrionAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers each operation can give.

    Views list their extra 409s in `conflict_actions` ({action: description}).
    """

    def _error_codes(self) -> dict[int, str]:
        codes: dict[int, str] = {}
        if self.method in ("POST", "PUT", "PATCH"):
            codes[400] = ERRORS[400][0]
            codes[413] = ERRORS[413][0]
            codes[415] = ERRORS[415][0]
        elif self._is_list_view() and (
            self._get_paginator() or self.get_filter_backends()
        ):
            codes[400] = "A filter or pagination parameter is invalid."
        if not any(
            isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()
        ):
            codes[401] = ERRORS[401][0]
            codes[403] = ERRORS[403][0]
            codes[429] = ERRORS[429][0]
        if "{" in self.path:
            codes[404] = ERRORS[404][0]
        action = getattr(self.view, "action", None)
        conflict = getattr(self.view, "conflict_actions", {}).get(action)
        if conflict:
            codes[409] = conflict
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in sorted(self._error_codes().items()):
            if str(code) in responses:
                continue
            response = OpenApiResponse(
                ErrorSerializer, description=description, examples=[ERRORS[code][1]]
            )
            responses[str(code)] = self._get_response_for_code(
                response, str(code), ["application/json"], direction
            )
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "notifications.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A token from `manage.py create_token USERNAME`, sent as "
                "`Authorization: Bearer <token>`."
            ),
        }


class SecretsFieldSchema(OpenApiSerializerFieldExtension):
    """Secrets go in as strings and come out masked: two different shapes."""

    target_class = "notifications.api.channels.SecretsField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> Any:
        if direction == "request":
            return {
                "type": "object",
                "additionalProperties": {"type": "string", "nullable": True},
            }
        return {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "set": {"type": "boolean"},
                    "last4": {
                        "type": "string",
                        "description": "Empty unless the secret is long enough.",
                    },
                },
                "required": ["set", "last4"],
            },
        }
