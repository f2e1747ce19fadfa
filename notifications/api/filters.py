"""Query filters of the notification list."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from notifications.models import Notification, Priority, Status


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time that stays in range once converted to UTC.

    Year 1 with a positive offset, or year 9999 with a negative one, cannot
    be held in UTC and would make the database query fail.
    """

    def to_python(self, value: object) -> datetime.datetime | None:
        result = super().to_python(value)
        if result is not None:
            try:
                result.astimezone(datetime.UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "This time is out of range.", code="overflow"
                ) from None
        return result


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class NotificationFilterForm(forms.Form):
    """Refuses an empty value where only a choice, id or time makes sense.

    django-filter ignores `?status=`; a client that sent it meant something,
    and listing everything instead would hide its mistake.
    """

    not_blank = ("status", "priority", "batch", "created_after", "created_before")

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.not_blank:
            if name in self.data and not self.data[name]:
                self.add_error(name, "Give a value, or leave the parameter out.")
        return cleaned


class NotificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Status.choices, help_text="Only notifications in this state."
    )
    channel = django_filters.CharFilter(
        field_name="channel__slug",
        help_text="Only those of the channel with this slug.",
    )
    priority = django_filters.ChoiceFilter(
        choices=Priority.choices, help_text="Only those of this priority."
    )
    recipient = django_filters.CharFilter(
        help_text="Only those to exactly this recipient."
    )
    batch = django_filters.UUIDFilter(
        field_name="batch_id", help_text="Only those of the batch with this id."
    )
    created_after = BoundedIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Only those created at or after this time (ISO 8601).",
    )
    created_before = BoundedIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Only those created before this time (ISO 8601).",
    )

    class Meta:
        model = Notification
        form = NotificationFilterForm
        fields = [
            "status",
            "channel",
            "priority",
            "recipient",
            "batch",
            "created_after",
            "created_before",
        ]
