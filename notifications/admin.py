"""Admin registrations for inspecting Orion's records."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import (
    Channel,
    DeliveryAttempt,
    Notification,
    StatusChange,
    Template,
    TemplateVariant,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "enabled", "last_error_at")
    list_filter = ("kind", "enabled")
    search_fields = ("slug", "name")
    exclude = ("secrets",)


class TemplateVariantInline(admin.TabularInline):
    model = TemplateVariant
    extra = 0


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "updated_at")
    search_fields = ("slug", "name")
    inlines = [TemplateVariantInline]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("source", "target", "transition", "by", "actor", "reason", "at")
    fields = readonly_fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("uuid", "channel", "recipient", "status", "priority", "created_at")
    list_filter = ("status", "priority", "channel")
    search_fields = ("uuid", "recipient", "provider_message_id")
    list_select_related = ("channel",)
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [DeliveryAttemptInline, StatusChangeInline]
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False
