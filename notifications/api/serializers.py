"""Serializers of notifications and their history, and of bulk requests."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from notifications.api.fields import (
    JSONObjectField,
    StrictBooleanField,
    StrictCharField,
    StrictSlugField,
)
from notifications.models import (
    DeliveryAttempt,
    Notification,
    Outcome,
    Priority,
    Status,
    StatusChange,
)
from notifications.services import NotificationSpec

MAX_BULK_ITEMS = 10_000
MAX_BODY_CHARS = 100_000


class NewNotificationSerializer(serializers.Serializer):
    """What a client asks to send: a template with a context, or subject and body."""

    channel = StrictSlugField(
        max_length=64, help_text="The slug of an enabled channel."
    )
    recipient = StrictCharField(
        max_length=320,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Who receives it, in the form the channel kind takes: an email "
            "address, an E.164 phone number, user ids to mention in a chat "
            "group, or nothing for a group bot."
        ),
    )
    template = StrictSlugField(
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text="The slug of a template to render; leave out subject and body.",
    )
    context = JSONObjectField(
        required=False,
        default=dict,
        help_text="The template's variables. Every variable it uses must be here.",
    )
    subject = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="The subject or title, without a template.",
    )
    body = StrictCharField(
        max_length=MAX_BODY_CHARS,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The message text, without a template.",
    )
    html_body = StrictCharField(
        max_length=MAX_BODY_CHARS,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="An HTML alternative for email, without a template.",
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        default=Priority.NORMAL,
        help_text="Urgent work is sent before normal, normal before bulk.",
    )
    send_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Send no earlier than this (ISO 8601). Leave out to send now; up to "
            "five minutes in the past is taken as now."
        ),
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Never send after this time; it must come after send_at.",
    )
    metadata = JSONObjectField(
        required=False,
        default=dict,
        help_text="Your own data, stored and returned unchanged.",
    )

    @staticmethod
    def spec(data: dict[str, Any], **overrides: Any) -> NotificationSpec:
        """The domain's request from validated data; overrides win."""
        values = {
            "channel": data["channel"],
            "recipient": data.get("recipient", ""),
            "template": data.get("template"),
            "context": data.get("context") or {},
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "html_body": data.get("html_body", ""),
            "priority": data.get("priority", Priority.NORMAL),
            "send_at": data.get("send_at"),
            "expires_at": data.get("expires_at"),
            "metadata": data.get("metadata") or {},
        }
        values.update(overrides)
        return NotificationSpec(**values)


class BulkNotificationsSerializer(serializers.Serializer):
    notifications = NewNotificationSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_BULK_ITEMS,
        help_text=(
            f"Up to {MAX_BULK_ITEMS} notifications, each as for a single one. "
            "All are created, or none."
        ),
    )
    note = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="A note kept on the batch, for the operators.",
    )


class BulkResponseSerializer(serializers.Serializer):
    batch = serializers.UUIDField(help_text="The id of the batch created.")
    count = serializers.IntegerField(help_text="How many notifications it holds.")
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="The notifications' ids, in the order of the request.",
    )


class ActionSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why, for the notification's history.",
    )


def _confirm_unknown_field() -> StrictBooleanField:
    return StrictBooleanField(
        required=False,
        default=False,
        help_text=(
            "Send it again even though it failed with an unknown outcome (an "
            "SMS whose provider did not answer): the provider may already have "
            "delivered it. Without it such a notification answers 409 "
            "`unknown_outcome`; check with the provider first."
        ),
    )


class RetrySerializer(ActionSerializer):
    confirm_unknown = _confirm_unknown_field()


class ResendSerializer(serializers.Serializer):
    confirm_unknown = _confirm_unknown_field()


class NotificationSerializer(serializers.ModelSerializer):
    """A notification as listed; `NotificationDetailSerializer` adds its history.

    Expects the queryset of `NotificationViewSet.get_queryset()`, which
    annotates the related slugs so a page costs one query.
    """

    id = serializers.UUIDField(source="uuid", read_only=True, help_text="Its id.")
    channel = serializers.CharField(
        source="channel_slug", read_only=True, help_text="The channel's slug."
    )
    template = serializers.CharField(
        source="template_slug",
        read_only=True,
        allow_null=True,
        help_text="The template's slug, or null when sent without one.",
    )
    status = serializers.ChoiceField(
        choices=Status.choices, read_only=True, help_text="Where it is now."
    )
    attempt_count = serializers.IntegerField(
        source="attempts", read_only=True, help_text="Delivery attempts so far."
    )
    batch = serializers.UUIDField(
        source="batch_id",
        read_only=True,
        allow_null=True,
        help_text="The batch it was created in, if any.",
    )
    resend_of = serializers.UUIDField(
        source="resend_of_uuid",
        read_only=True,
        allow_null=True,
        help_text="The notification this one resends, if any.",
    )
    created_by = serializers.CharField(
        source="created_by_username",
        read_only=True,
        allow_null=True,
        help_text="The username of who created it, or null.",
    )
    context = serializers.DictField(read_only=True, help_text="The template context.")
    metadata = serializers.DictField(read_only=True, help_text="The client's data.")

    class Meta:
        model = Notification
        fields = [
            "id",
            "channel",
            "recipient",
            "template",
            "context",
            "subject",
            "body",
            "html_body",
            "priority",
            "status",
            "send_at",
            "expires_at",
            "attempt_count",
            "max_attempts",
            "next_attempt_at",
            "last_error",
            "provider_message_id",
            "metadata",
            "batch",
            "resend_of",
            "created_by",
            "created_via",
            "created_at",
            "updated_at",
            "sent_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "recipient": {"help_text": "Who receives it."},
            "subject": {"help_text": "The rendered subject."},
            "body": {"help_text": "The rendered body."},
            "html_body": {"help_text": "The rendered HTML body, for email."},
            "priority": {"help_text": "urgent, normal or bulk."},
            "send_at": {"help_text": "Not sent before this time."},
            "expires_at": {"help_text": "Not sent after this time."},
            "max_attempts": {"help_text": "The attempt count it may reach."},
            "next_attempt_at": {"help_text": "When it is retried, if retrying."},
            "last_error": {"help_text": "The last failure, redacted."},
            "provider_message_id": {"help_text": "The provider's id, if it gave one."},
            "created_via": {"help_text": "api, admin, cli..."},
            "created_at": {"help_text": "When it was created."},
            "updated_at": {"help_text": "When it last changed."},
            "sent_at": {"help_text": "When the provider accepted it."},
        }


class AttemptSerializer(serializers.ModelSerializer):
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, read_only=True, help_text="How the attempt ended."
    )

    class Meta:
        model = DeliveryAttempt
        fields = [
            "number",
            "started_at",
            "finished_at",
            "duration_ms",
            "outcome",
            "status_code",
            "provider_code",
            "error",
            "reply_excerpt",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "number": {"help_text": "1 for the first attempt."},
            "started_at": {"help_text": "When the request started."},
            "finished_at": {"help_text": "When it ended."},
            "duration_ms": {"help_text": "How long it took."},
            "status_code": {"help_text": "The provider's HTTP status."},
            "provider_code": {"help_text": "The provider's own result code."},
            "error": {"help_text": "What went wrong, redacted."},
            "reply_excerpt": {"help_text": "The start of the reply, redacted."},
        }


class TransitionSerializer(serializers.ModelSerializer):
    """One state change; `from` is a Python keyword, so it is added by name."""

    to = serializers.ChoiceField(
        source="target",
        choices=Status.choices,
        read_only=True,
        help_text="The state it entered.",
    )
    by = serializers.CharField(
        source="by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The user who caused it, or null.",
    )
    why = serializers.CharField(
        source="reason", read_only=True, help_text="The reason given."
    )

    class Meta:
        model = StatusChange
        fields = ["to", "transition", "by", "actor", "at", "why"]
        read_only_fields = fields
        extra_kwargs = {
            "transition": {"help_text": "Its name: create, claim, cancel..."},
            "actor": {"help_text": "What made it: api, admin, worker..."},
            "at": {"help_text": "When."},
        }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        source = serializers.CharField(
            source="source",
            read_only=True,
            help_text="The state it left; empty for the creation.",
        )
        return {"from": source, **fields}


class NotificationDetailSerializer(NotificationSerializer):
    attempts = AttemptSerializer(
        source="delivery_attempts",
        many=True,
        read_only=True,
        help_text="Every delivery attempt, first to last.",
    )
    transitions = TransitionSerializer(
        source="status_changes",
        many=True,
        read_only=True,
        help_text="Every state change, oldest first.",
    )

    class Meta(NotificationSerializer.Meta):
        fields = [*NotificationSerializer.Meta.fields, "attempts", "transitions"]
        read_only_fields = fields
