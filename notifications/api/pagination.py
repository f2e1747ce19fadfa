"""Cursor pagination for notifications: stable under inserts, newest first."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class NotificationCursorPagination(CursorPagination):
    """`?page_size=` from 1 to 500; a bad cursor or size is a 400, never ignored."""

    ordering = ("-created_at", "-id")
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        message = f"Give a whole number from 1 to {self.max_page_size}."
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({self.page_size_query_param: [message]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def decode_cursor(self, request: Request) -> Cursor | None:
        message = "This cursor is not valid: use a `next` or `previous` link as given."
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [message]}) from None
        # The position is compared with created_at: a forged one that is not
        # a timestamp would make the database query fail.
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:
                valid = False
            if not valid:
                raise ValidationError({self.cursor_query_param: [message]})
        return cursor

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["next"]["description"] = "The next page's URL, or null at the end."
        properties["previous"]["description"] = (
            "The previous page's URL, or null on the first page."
        )
        properties["results"]["description"] = "This page's notifications."
        return paginated

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    {"minimum": 1, "maximum": self.max_page_size}
                )
                parameter["description"] = (
                    f"Results per page, from 1 to {self.max_page_size} "
                    f"(default {self.page_size})."
                )
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Where the page starts: pass the cursor of a `next` or "
                    "`previous` link unchanged."
                )
        return parameters
