"""Notifications: create one or many, list, read, cancel, retry, resend."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications import services
from notifications.api import examples
from notifications.api.errors import (
    ApiError,
    batch_invalid,
    field_errors,
    invalid_message,
)
from notifications.api.filters import NotificationFilter
from notifications.api.idempotency import HEADER, KEY_PATTERN, idempotent
from notifications.api.pagination import NotificationCursorPagination
from notifications.api.schema import NOTIFICATION_ID, ErrorSerializer
from notifications.api.serializers import (
    ActionSerializer,
    BulkNotificationsSerializer,
    BulkResponseSerializer,
    NewNotificationSerializer,
    NotificationDetailSerializer,
    NotificationSerializer,
    ResendSerializer,
    RetrySerializer,
)
from notifications.models import Channel, Notification, StatusChange, Template

logger = logging.getLogger(__name__)

VIA = "api"
# SQLite allows 999 variables per statement in older builds.
LOOKUP_CHUNK = 500

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description=(
        "A key you choose (up to 255 printable ASCII characters) to make the "
        "request safe to repeat: a repeat with the same key and body answers "
        "200 with the first answer and creates nothing; the same key with "
        "another body is a 409. Keys are scoped to your user."
    ),
)


UNKNOWN_OUTCOME_EXAMPLE = OpenApiExample(
    "unknown_outcome",
    value={
        "error": {
            "code": "unknown_outcome",
            "message": (
                "The provider may already have delivered this message: its last "
                "attempt ended without an answer, and sending again could reach "
                "the recipient twice. Check with the provider, then confirm to "
                "send it again."
            ),
            "status": "failed",
        }
    },
)


def _conflict(description: str, refused: str, status_: str) -> OpenApiResponse:
    """A 409 that is either `action_refused` or `unknown_outcome`."""
    refused_example = OpenApiExample(
        "action_refused",
        value={
            "error": {"code": "action_refused", "message": refused, "status": status_}
        },
    )
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[refused_example, UNKNOWN_OUTCOME_EXAMPLE],
    )


def unknown_outcome(exc: services.UnknownOutcome) -> ApiError:
    """The 409 for a retry or resend the caller has not confirmed."""
    return ApiError(
        409,
        "unknown_outcome",
        " ".join(exc.messages),
        status=exc.notification.status,
    )


def _by_slug(model: Any, slugs: Iterable[str], **related: Any) -> dict[str, Any]:
    """Fetch rows of `model` by slug in a few queries, whatever their number."""
    slugs = sorted(set(slugs))
    found: dict[str, Any] = {}
    for start in range(0, len(slugs), LOOKUP_CHUNK):
        queryset = model.objects.filter(slug__in=slugs[start : start + LOOKUP_CHUNK])
        if related.get("prefetch"):
            queryset = queryset.prefetch_related(*related["prefetch"])
        found.update((row.slug, row) for row in queryset)
    return found


@extend_schema_view(
    list=extend_schema(
        summary="List notifications",
        description="Newest first, a page at a time; follow `next` for more.",
    ),
    retrieve=extend_schema(
        summary="Read a notification",
        description="With its delivery attempts and its state changes.",
        parameters=[NOTIFICATION_ID],
    ),
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_field = "uuid"
    lookup_url_kwarg = "id"
    filterset_class = NotificationFilter
    pagination_class = NotificationCursorPagination
    action_permissions = {
        "cancel": ("notifications.change_notification",),
        "retry": ("notifications.change_notification",),
        "resend": (
            "notifications.add_notification",
            "notifications.change_notification",
        ),
        "bulk": ("notifications.add_notification",),
    }
    conflict_actions = {
        "create": "The Idempotency-Key was used for another request.",
        "bulk": "The Idempotency-Key was used for another request.",
        "cancel": "The notification is past cancelling; `status` says where it is.",
        "retry": (
            "`action_refused`: only a failed or retrying notification can be "
            "retried. `unknown_outcome`: it failed with an unknown outcome; "
            "check with the provider, then send `confirm_unknown: true`."
        ),
        "resend": (
            "`action_refused`: it is not finished yet (pending, queued, sending "
            "or retrying); cancel or retry it instead. `unknown_outcome`: it "
            "failed with an unknown outcome; check with the provider, then send "
            "`confirm_unknown: true`."
        ),
    }

    def get_queryset(self) -> QuerySet[Notification]:
        queryset = Notification.objects.annotate(
            channel_slug=F("channel__slug"),
            template_slug=F("template__slug"),
            resend_of_uuid=F("resend_of__uuid"),
            created_by_username=F("created_by__username"),
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(
                "delivery_attempts",
                Prefetch(
                    "status_changes", queryset=StatusChange.objects.select_related("by")
                ),
            )
        return queryset

    def get_serializer_class(self) -> type:
        if self.action == "list":
            return NotificationSerializer
        return NotificationDetailSerializer

    def _detail(self, notification: Notification) -> dict[str, Any]:
        """The notification as read back, with its annotations and history."""
        fresh = self.get_queryset().get(pk=notification.pk)
        return NotificationDetailSerializer(fresh).data

    @extend_schema(
        summary="Send a notification",
        request=NewNotificationSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OpenApiResponse(
                NotificationDetailSerializer,
                description="Created: queued, or pending until send_at.",
            ),
            200: OpenApiResponse(
                NotificationDetailSerializer,
                description=(
                    "A repeat of an earlier request with the same Idempotency-Key: "
                    "the first answer, replayed. Nothing new was created."
                ),
            ),
        },
        examples=examples.NOTIFICATION_REQUESTS,
    )
    def create(self, request: Request) -> Response:
        serializer = NewNotificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def run() -> tuple[int, Any]:
            notification = services.create_notification(
                serializer.spec(serializer.validated_data),
                created_by=request.user,
                via=VIA,
            )
            return status.HTTP_201_CREATED, self._detail(notification)

        return idempotent(request, run)

    @extend_schema(
        summary="Send many notifications at once",
        description=(
            "All items are validated first; if any is invalid nothing is created "
            "and the 400 lists the errors by item index. Otherwise all are "
            "created in one batch."
        ),
        request=BulkNotificationsSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OpenApiResponse(BulkResponseSerializer, description="Created."),
            200: OpenApiResponse(
                BulkResponseSerializer,
                description="A repeat with the same Idempotency-Key, replayed.",
            ),
        },
        examples=examples.BULK_REQUESTS,
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        serializer = BulkNotificationsSerializer(data=request.data)
        type_errors: dict[int, Any] = {}
        if serializer.is_valid():
            items = dict(enumerate(serializer.validated_data["notifications"]))
            note = serializer.validated_data["note"]
        else:
            type_errors = _item_errors(serializer.errors)
            # Check the well-formed items too, so one answer lists every problem.
            child = NewNotificationSerializer()
            raw = request.data["notifications"]
            items = {
                index: child.run_validation(item)
                for index, item in enumerate(raw)
                if index not in type_errors
            }
            note = ""
        specs = _specs(items)

        if type_errors:
            errors = {**type_errors, **_domain_errors(specs, request.user)}
            raise batch_invalid(errors, total=len(request.data["notifications"]))

        def run() -> tuple[int, Any]:
            try:
                batch, created = services.create_batch(
                    list(specs.values()), created_by=request.user, via=VIA, note=note
                )
            except services.BatchInvalid as exc:
                raise batch_invalid(exc.errors, total=len(specs)) from None
            body = {
                "batch": str(batch.pk),
                "count": len(created),
                "ids": [str(n.uuid) for n in created],
            }
            return status.HTTP_201_CREATED, body

        return idempotent(request, run)

    @extend_schema(
        summary="Cancel a notification",
        parameters=[NOTIFICATION_ID],
        description="Only one that has not started sending can be cancelled.",
        request=ActionSerializer,
        responses={200: NotificationDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, id: str) -> Response:
        return self._act(request, services.cancel, ActionSerializer)

    @extend_schema(
        summary="Retry a failed notification",
        parameters=[NOTIFICATION_ID],
        description=(
            "Sends it back to the queue with a fresh allowance of attempts. One "
            "that failed with an unknown outcome (an SMS the provider may have "
            "delivered) answers 409 `unknown_outcome` unless the body has "
            "`confirm_unknown: true`."
        ),
        request=RetrySerializer,
        responses={
            200: NotificationDetailSerializer,
            409: _conflict(
                conflict_actions["retry"],
                "Cannot retry this notification: it is queued.",
                "queued",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, id: str) -> Response:
        return self._act(request, services.retry, RetrySerializer)

    def _act(self, request: Request, function: Any, serializer_class: type) -> Response:
        """Apply the service `function` with the request's validated fields.

        Each field of `serializer_class` must be a keyword of `function`.
        """
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = self.get_object()
        try:
            function(
                notification, by=request.user, via=VIA, **serializer.validated_data
            )
        except services.UnknownOutcome as exc:
            raise unknown_outcome(exc) from None
        return Response(self._detail(notification))

    @extend_schema(
        summary="Send a notification again",
        parameters=[NOTIFICATION_ID],
        description=(
            "Creates a new notification with the same message as rendered then, "
            "linked by `resend_of`. Only a finished notification (sent, failed, "
            "cancelled or expired) can be resent: one still pending, queued, "
            "sending or retrying answers 409 `action_refused`, as a copy would "
            "duplicate it. One that failed with an unknown outcome answers 409 "
            "`unknown_outcome` unless the body has `confirm_unknown: true`."
        ),
        request=ResendSerializer,
        responses={
            201: NotificationDetailSerializer,
            409: _conflict(
                conflict_actions["resend"],
                "Cannot resend this notification: it is queued and not finished "
                "yet, so a copy would be a duplicate. Cancel it or retry it "
                "instead.",
                "queued",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, id: str) -> Response:
        serializer = ResendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = self.get_object()
        try:
            copy = services.resend(
                notification,
                by=request.user,
                via=VIA,
                confirm_unknown=serializer.validated_data["confirm_unknown"],
            )
        except services.UnknownOutcome as exc:
            raise unknown_outcome(exc) from None
        except services.ActionRefused as exc:
            current = exc.notification.status
            raise ApiError(
                409,
                "action_refused",
                f"Cannot resend this notification: it is {current} and not "
                "finished yet, so a copy would be a duplicate. Cancel it or "
                "retry it instead.",
                status=current,
            ) from None
        return Response(self._detail(copy), status=status.HTTP_201_CREATED)


def _item_errors(errors: dict[str, Any]) -> dict[int, Any]:
    """The item errors of an invalid bulk request, by index; raise on others."""
    item_errors = errors.get("notifications")
    # DRF reports a list's item errors by index, in a dict or a list.
    if isinstance(item_errors, dict) and all(isinstance(k, int) for k in item_errors):
        indexed = dict(item_errors)
    elif isinstance(item_errors, list) and all(
        isinstance(e, dict) for e in item_errors
    ):
        indexed = {index: e for index, e in enumerate(item_errors) if e}
    else:
        indexed = {}
    if not indexed or set(errors) - {"notifications"}:
        fields = field_errors(errors)
        raise ApiError(400, "invalid", invalid_message(fields), fields)
    return indexed


def _specs(items: dict[int, dict[str, Any]]) -> dict[int, services.NotificationSpec]:
    """The domain's requests, with every channel and template looked up once.

    An unknown slug stays a string, for the domain to report.
    """
    channels = _by_slug(Channel, (item["channel"] for item in items.values()))
    templates = _by_slug(
        Template,
        (item["template"] for item in items.values() if item.get("template")),
        prefetch=["variants"],
    )
    return {
        index: NewNotificationSerializer.spec(
            item,
            channel=channels.get(item["channel"], item["channel"]),
            template=templates.get(item["template"], item["template"])
            if item.get("template")
            else None,
        )
        for index, item in items.items()
    }


def _domain_errors(
    specs: dict[int, services.NotificationSpec], user: Any
) -> dict[int, Any]:
    """What the domain would refuse among `specs`, by index; nothing is saved."""
    errors: dict[int, Any] = {}
    for index, spec in specs.items():
        try:
            services.prepare(spec, created_by=user, via=VIA)
        except DjangoValidationError as exc:
            errors[index] = (
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            )
    return errors
