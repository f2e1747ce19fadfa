"""One JSON shape for every API error, from DRF, Django and the domain.

{"error": {"code": "<machine_code>", "message": "<what to fix>",
           "fields": {<field>: [messages]}}}

`fields` appears only when there are field errors. A few errors add a key:
`status` (an action the state machine refused), `missing` (template
variables the context lacks).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from notifications.services import ActionRefused, BatchInvalid
from notifications.templating import MissingVariables

logger = logging.getLogger(__name__)

API_PATH = "/api/"
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


class ApiError(exceptions.APIException):
    """An error whose whole body the view chose: code, message, fields, extras."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.body = error_body(code, message, fields, **extra)


def error_body(
    code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF or Django error details to {"a.0.b": [messages]}.

    Nested serializers, lists and the adapters' own dotted keys
    (`config.url`) all end up as one level of dotted names.
    """
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if key in (NON_FIELD_ERRORS, NON_FIELD):
                # Errors of the object as a whole belong to the object's name.
                name = prefix or NON_FIELD
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in field_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            return {prefix or NON_FIELD: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                name = f"{prefix}.{index}" if prefix else str(index)
                flat.update(field_errors(item, name))
        return flat
    return {prefix or NON_FIELD: [str(detail)]}


def django_field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return field_errors(exc.message_dict)
    return {NON_FIELD: list(exc.messages)}


def invalid_message(fields: dict[str, Any]) -> str:
    """Name the first problem, so the message alone says what to fix."""
    if not fields:
        return "The request is invalid."
    name, messages = next(iter(fields.items()))
    first = messages[0] if isinstance(messages, list) and messages else messages
    text = str(first) if name == NON_FIELD else f"{name}: {first}"
    if len(fields) > 1:
        text += f" (and {len(fields) - 1} more field(s); see `fields`)"
    return text


def validation_error(exc: DjangoValidationError) -> ApiError:
    """A Django `ValidationError` from the domain, as a 400."""
    if isinstance(exc, MissingVariables):
        fields = django_field_errors(exc)
        return ApiError(
            400,
            "missing_variables",
            invalid_message(fields),
            fields,
            missing=list(exc.names),
        )
    if isinstance(exc, BatchInvalid):
        return batch_invalid(exc.errors, total=None)
    fields = django_field_errors(exc)
    return ApiError(400, "invalid", invalid_message(fields), fields)


def batch_invalid(errors: dict[int, Any], total: int | None) -> ApiError:
    """Item errors of a bulk request, keyed by the item's index."""
    fields = {}
    for index, item_errors in sorted(errors.items()):
        if isinstance(item_errors, dict):
            fields[str(index)] = field_errors(item_errors)
        else:
            fields[str(index)] = {NON_FIELD: [str(m) for m in item_errors]}
    count = f"{len(fields)} of {total}" if total is not None else str(len(fields))
    first = next(iter(fields), None)
    where = (
        f" Item {first}: {invalid_message(fields[first]).rstrip('.')}." if first else ""
    )
    return ApiError(
        400,
        "invalid",
        f"{count} notification(s) are invalid, so none was created.{where} "
        "`fields` lists the errors by item index.",
        fields,
    )


def translate(exc: Exception) -> Exception:
    """Map domain and Django exceptions onto the API's errors."""
    if isinstance(exc, DjangoValidationError):
        return validation_error(exc)
    if isinstance(exc, ActionRefused):
        return ApiError(
            409,
            "action_refused",
            f"Cannot {exc.action} this notification: it is {exc.notification.status}.",
            status=exc.notification.status,
        )
    if isinstance(exc, ProtectedError):
        return ApiError(
            409, "in_use", "Other records still refer to this one; it was kept."
        )
    if isinstance(exc, IntegrityError):
        # Two requests raced to create the same thing; the database kept one.
        logger.warning("integrity error answered as 409: %s", exc)
        return ApiError(
            409,
            "conflict",
            "The request conflicts with a concurrent change; fetch the current "
            "state and try again.",
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound("Nothing was found at this address.")
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    return exc


MESSAGES = {
    "not_authenticated": (
        "Authentication is required: send an 'Authorization: Bearer <token>' header."
    ),
    "permission_denied": (
        "Your account lacks the permission for this; an administrator can "
        "grant it in the admin."
    ),
}


def body_for(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return exc.body
    if isinstance(exc, exceptions.ValidationError):
        fields = field_errors(exc.detail)
        return error_body("invalid", invalid_message(fields), fields)
    code = exc.default_code
    codes = exc.get_codes()
    if isinstance(codes, str) and codes:
        code = codes
    message = _text(exc.detail)
    # DRF's stock wording is replaced; a specific one (a CSRF failure) stays.
    if code in MESSAGES and message == str(exc.default_detail):
        message = MESSAGES[code]
    return error_body(code, message)


def _text(detail: Any) -> str:
    if isinstance(detail, dict | list):
        return invalid_message(field_errors(detail))
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's EXCEPTION_HANDLER: DRF's own, then the API's error shape.

    Returns None for an exception nobody expected, so Django answers 500
    through `server_error` without revealing what happened.
    """
    exc = translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = body_for(exc)  # type: ignore[arg-type]
    return response


# -- Django's error views, JSON under /api/ ----------------------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PATH)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("bad_request", "The request could not be understood."),
            status=400,
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", MESSAGES["permission_denied"]), status=403
        )
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(
                "not_found",
                "No API endpoint at this address; see /api/docs/ for the list.",
            ),
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(
                "server_error",
                "Orion failed to answer this request; it has been logged. Try "
                "again, and report it if it persists.",
            ),
            status=500,
        )
    return defaults.server_error(request)
