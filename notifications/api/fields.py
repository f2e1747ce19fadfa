"""Serializer fields shared by the API's resources."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

# Free-form JSON is stored as it is given; a limit on its size and depth keeps
# one request from filling a row or a worker's memory.
MAX_JSON_DEPTH = 32
MAX_JSON_ITEMS = 10_000


def json_problem(value: Any) -> str:
    """Why a JSON value cannot be stored portably, or "" when it can.

    PostgreSQL's jsonb refuses NUL characters and lone surrogates, which
    Python and SQLite accept, and neither stores an infinite number; refusing
    them here keeps both databases alike.
    """
    stack = [(value, 0)]
    items = 0
    while stack:
        current, depth = stack.pop()
        items += 1
        if depth > MAX_JSON_DEPTH:
            return f"Nest at most {MAX_JSON_DEPTH} levels deep."
        if items > MAX_JSON_ITEMS:
            return f"Give at most {MAX_JSON_ITEMS} values in all."
        if isinstance(current, dict):
            for key, item in current.items():
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        elif isinstance(current, list):
            stack.extend((item, depth + 1) for item in current)
        elif isinstance(current, float) and not math.isfinite(current):
            # 1e400 parses as infinity, which JSON cannot store.
            return "Numbers must be finite."
        elif isinstance(current, str):
            if "\x00" in current:
                return "Text may not contain NUL characters."
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return "Text may not contain unpaired surrogate characters."
    return ""


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.DictField):
    """A JSON object of any values, storable in SQLite and PostgreSQL alike."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        problem = json_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class StrictCharField(serializers.CharField):
    """A JSON string, and only that: DRF's CharField would take 12 as "12"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    """A slug given as a JSON string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, not "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not "5", 5.0 or true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeItemSerializer(serializers.Serializer):
    """An item of a list, validated whole even inside a PATCH.

    DRF skips the required fields and defaults of nested serializers when the
    request is partial; but a list given in a PATCH replaces the stored one,
    so each of its items must be complete.
    """

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        missing = {
            name: ["This field is required."]
            for name, field in self.fields.items()
            if field.required and not field.read_only and name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        for name, field in self.fields.items():
            if name not in attrs and field.default is not empty:
                attrs[name] = field.get_default()
        return attrs
