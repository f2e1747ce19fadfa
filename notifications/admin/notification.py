"""The notification list, the read-only detail page and the operator actions."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

import adapters
from notifications import services
from notifications.admin.common import (
    ACTION_LABELS,
    CONFIRM_LABELS,
    MAX_BULK,
    PERM_ADD,
    PERM_CHANGE,
    PERM_VIEW,
    VIA,
    CappedPaginator,
    short_id,
    status_badge,
    when,
)
from notifications.models import (
    DeliveryAttempt,
    Notification,
    Status,
    StatusChange,
)

# The checkbox by which an operator confirms sending again after an unknown
# outcome, on the confirmation pages of retry and resend.
CONFIRM_UNKNOWN = "confirm_unknown"


class ChannelKindFilter(admin.SimpleListFilter):
    title = _("channel kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return adapters.kinds()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(channel__kind=self.value())
        return queryset


class BatchFilter(admin.SimpleListFilter):
    """Narrow the list to one batch; offered only once a batch is chosen.

    Listing every batch as a choice would grow without bound, so the batch
    pages link here instead.
    """

    title = _("batch")
    parameter_name = "batch"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if value and _as_uuid(value):
            return [(value, short_id(value))]
        return []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        batch_id = _as_uuid(value)
        return queryset.filter(batch_id=batch_id) if batch_id else queryset.none()


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _time_field(name: str) -> Any:
    """A read-only display of a time field, to the second."""

    def show(model_admin: Any, obj: Any) -> str:
        return when(getattr(obj, name))

    show.__name__ = f"{name}_display"
    return admin.display(description=Notification._meta.get_field(name).verbose_name)(
        show
    )


def _pre(text: str) -> SafeString:
    return format_html('<pre class="orion-pre">{}</pre>', text)


class _HistoryInline(admin.TabularInline):
    """A read-only part of a notification's history.

    Attempts and transitions belong to the notification: whoever may see it
    sees them, without separate permissions on these models.
    """

    extra = 0
    can_delete = False
    show_change_link = False
    classes = ("orion-history",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(PERM_VIEW) or request.user.has_perm(PERM_CHANGE)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryAttemptInline(_HistoryInline):
    model = DeliveryAttempt
    verbose_name = _("delivery attempt")
    verbose_name_plural = _("delivery attempts")
    fields = (
        "number",
        "outcome_display",
        "started",
        "duration_ms",
        "status_code",
        "provider_code",
        "error",
        "reply_display",
    )
    readonly_fields = fields

    @admin.display(description=_("started at"))
    def started(self, attempt: DeliveryAttempt) -> str:
        return when(attempt.started_at)

    @admin.display(description=_("outcome"))
    def outcome_display(self, attempt: DeliveryAttempt) -> SafeString:
        return format_html(
            '<span class="orion-badge orion-outcome-{}">{}</span>',
            attempt.outcome,
            attempt.get_outcome_display(),
        )

    @admin.display(description=_("reply (redacted)"))
    def reply_display(self, attempt: DeliveryAttempt) -> SafeString | str:
        return _pre(attempt.reply_excerpt) if attempt.reply_excerpt else "-"


class StatusChangeInline(_HistoryInline):
    model = StatusChange
    verbose_name = _("status change")
    verbose_name_plural = _("status changes")
    fields = ("when_display", "change_display", "who", "reason")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("by")

    @admin.display(description=_("at"))
    def when_display(self, change: StatusChange) -> str:
        return when(change.at)

    @admin.display(description=_("change"))
    def change_display(self, change: StatusChange) -> SafeString:
        if not change.source:
            return format_html(
                "{} {}", gettext("created as"), status_badge(change.target)
            )
        return format_html(
            "{} → {}", status_badge(change.source), status_badge(change.target)
        )

    @admin.display(description=_("by"))
    def who(self, change: StatusChange) -> str:
        if change.by is not None:
            return f"{change.by} ({change.actor})" if change.actor else str(change.by)
        return change.actor or "-"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "short_uuid",
        "status_display",
        "channel",
        "recipient_display",
        "priority",
        "created",
    )
    list_display_links = ("short_uuid",)
    list_filter = (
        "status",
        ChannelKindFilter,
        "channel",
        "priority",
        BatchFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("channel",)
    list_per_page = 50
    date_hierarchy = "created_at"
    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # get_search_results() decides how each term is matched; this only turns
    # the search box on.
    search_fields = ("recipient",)
    search_help_text = _(
        "A notification id, a provider message id, or the beginning of a "
        "recipient (case-sensitive)."
    )
    actions = ("cancel_selected", "retry_selected", "resend_selected")
    inlines = (DeliveryAttemptInline, StatusChangeInline)
    change_list_template = "admin/notifications/notification/change_list.html"
    change_form_template = "admin/notifications/notification/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "channel_link",
                    "recipient",
                    "priority",
                    "created_detail",
                    "batch_link",
                    "resend_links",
                )
            },
        ),
        (
            _("Message"),
            {"fields": ("subject", "body_display", "html_body_display")},
        ),
        (
            _("Delivery"),
            {
                "fields": (
                    "attempts_detail",
                    "next_attempt_at_display",
                    "send_at_display",
                    "expires_at_display",
                    "queued_at_display",
                    "sent_at_display",
                    "provider_message_id",
                    "last_error_display",
                )
            },
        ),
        (
            _("Context and metadata"),
            {
                "classes": ("collapse",),
                "fields": ("template", "context_display", "metadata_display"),
            },
        ),
    )

    # -- list ------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # A channel's secrets are never shown here: not even decrypted.
        return (
            super()
            .get_queryset(request)
            .select_related("channel")
            .defer("channel__secrets")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Match only through indexes: exact ids, or a recipient's beginning.

        A substring search would read every row of a table of millions.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        found = _as_uuid(term)
        if found is not None:
            return queryset.filter(uuid=found), False
        return (
            queryset.filter(
                Q(recipient__startswith=term) | Q(provider_message_id=term)
            ),
            False,
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Notification | None:
        # The detail page needs the row before Django's view fetches it;
        # keep it for the request instead of reading it twice.
        cache = request.__dict__.setdefault("_orion_notifications", {})
        if object_id not in cache:
            queryset = self.get_queryset(request).select_related(
                "batch", "created_by", "resend_of", "template"
            )
            try:
                cache[object_id] = queryset.get(pk=int(object_id))
            except (Notification.DoesNotExist, ValueError):
                cache[object_id] = None
        return cache[object_id]

    @admin.display(description=_("id"), ordering="uuid")
    def short_uuid(self, notification: Notification) -> str:
        return short_id(notification.uuid)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, notification: Notification) -> SafeString:
        return status_badge(notification.status)

    @admin.display(description=_("recipient"), ordering="recipient")
    def recipient_display(self, notification: Notification) -> str:
        return notification.recipient or "-"

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, notification: Notification) -> str:
        return when(notification.created_at, seconds_only=True)

    # -- detail ----------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A notification's record is never edited: actions change it through
        # the services. The permission still gates the list actions.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for _title, opts in self.fieldsets for name in opts["fields"]]

    next_attempt_at_display = _time_field("next_attempt_at")
    send_at_display = _time_field("send_at")
    expires_at_display = _time_field("expires_at")
    queued_at_display = _time_field("queued_at")
    sent_at_display = _time_field("sent_at")

    @admin.display(description=_("channel"))
    def channel_link(self, notification: Notification) -> SafeString:
        channel = notification.channel
        url = reverse("admin:notifications_channel_change", args=[channel.pk])
        return format_html(
            '<a href="{}">{}</a> <span class="orion-help">{} · {}</span>',
            url,
            channel.slug,
            channel.name,
            _kind_label(channel.kind),
        )

    @admin.display(description=_("created"))
    def created_detail(self, notification: Notification) -> str:
        values = {
            "at": when(notification.created_at),
            "by": str(notification.created_by),
            "via": notification.created_via or "-",
        }
        if notification.created_by is None:
            return gettext("%(at)s via %(via)s") % values
        return gettext("%(at)s by %(by)s via %(via)s") % values

    @admin.display(description=_("batch"))
    def batch_link(self, notification: Notification) -> SafeString | str:
        if notification.batch_id is None:
            return "-"
        url = reverse("admin:notifications_batch_change", args=[notification.batch_id])
        return format_html('<a href="{}">{}</a>', url, notification.batch_id)

    @admin.display(description=_("resends"))
    def resend_links(self, notification: Notification) -> SafeString | str:
        parts = []
        if notification.resend_of_id:
            parts.append(
                format_html(
                    '{} <a href="{}">{}</a>',
                    gettext("Resend of"),
                    _change_url(notification.resend_of_id),
                    notification.resend_of.uuid,
                )
            )
        resends = list(notification.resends.only("id", "uuid", "status"))
        if resends:
            links = format_html_join(
                ", ",
                '<a href="{}">{}</a> {}',
                (
                    (
                        _change_url(copy.pk),
                        short_id(copy.uuid),
                        status_badge(copy.status),
                    )
                    for copy in resends
                ),
            )
            parts.append(format_html("{} {}", gettext("Resent as"), links))
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts)) or "-"

    @admin.display(description=_("body"))
    def body_display(self, notification: Notification) -> SafeString:
        return _pre(notification.body)

    @admin.display(description=_("HTML body"))
    def html_body_display(self, notification: Notification) -> SafeString | str:
        return _pre(notification.html_body) if notification.html_body else "-"

    @admin.display(description=_("attempts"))
    def attempts_detail(self, notification: Notification) -> str:
        return gettext("%(made)d made, %(left)d left of %(limit)d") % {
            "made": notification.attempts,
            "left": notification.attempts_left,
            "limit": notification.max_attempts,
        }

    @admin.display(description=_("last error"))
    def last_error_display(self, notification: Notification) -> SafeString | str:
        return _pre(notification.last_error) if notification.last_error else "-"

    @admin.display(description=_("context"))
    def context_display(self, notification: Notification) -> SafeString:
        return _pre(json.dumps(notification.context, indent=2, ensure_ascii=False))

    @admin.display(description=_("metadata"))
    def metadata_display(self, notification: Notification) -> SafeString:
        return _pre(json.dumps(notification.metadata, indent=2, ensure_ascii=False))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        notification = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if notification is not None:
            extra["orion_actions"] = available_actions(request, notification)
            extra["orion_status"] = status_badge(notification.status)
            extra["orion_explanation"] = explain_status(notification)
        return super().change_view(request, object_id, form_url, extra)

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # "Add notification" is the send form: it goes through the services.
        return HttpResponseRedirect(reverse("admin:notifications_notification_send"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"title": self.opts.verbose_name_plural.capitalize()}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # -- actions ---------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        from notifications.admin.send import send_view

        wrap = self.admin_site.admin_view
        return [
            path(
                "send/",
                wrap(lambda request: send_view(self, request)),
                name="notifications_notification_send",
            ),
            path(
                "<path:object_id>/act/<str:action>/",
                wrap(self.act_view),
                name="notifications_notification_act",
            ),
            *super().get_urls(),
        ]

    def act_view(
        self, request: HttpRequest, object_id: str, action: str
    ) -> HttpResponse:
        """Confirm, then cancel, retry or resend one notification."""
        if action not in ACTION_LABELS:
            raise PermissionDenied
        notification = self.get_object(request, object_id)
        if notification is None:
            raise Http404
        if not self.has_view_permission(request, notification):
            raise PermissionDenied
        if not _allowed(request, action):
            raise PermissionDenied

        if request.method == "POST":
            return self._act(request, notification, action)
        sends_again = action in ("retry", "resend")
        context = {
            **self.admin_site.each_context(request),
            "title": ACTION_LABELS[action],
            "opts": self.opts,
            "original": notification,
            "action": action,
            "action_label": ACTION_LABELS[action],
            "confirm_label": CONFIRM_LABELS[action],
            "status": status_badge(notification.status),
            "question": _action_question(action),
            "takes_reason": action != "resend",
            "available": any(
                a["name"] == action for a in available_actions(request, notification)
            ),
            "unknown_outcome": sends_again
            and services.failed_with_unknown_outcome(notification),
            "confirm_unknown_name": CONFIRM_UNKNOWN,
        }
        return TemplateResponse(
            request, "admin/notifications/notification/act_confirm.html", context
        )

    def _act(
        self, request: HttpRequest, notification: Notification, action: str
    ) -> HttpResponse:
        reason = request.POST.get("reason", "").strip()[:500]
        confirmed = _confirmed_unknown(request)
        target = notification
        try:
            if action == "cancel":
                services.cancel(notification, by=request.user, via=VIA, reason=reason)
                self.message_user(request, gettext("Cancelled."), messages.SUCCESS)
            elif action == "retry":
                services.retry(
                    notification,
                    by=request.user,
                    via=VIA,
                    reason=reason,
                    confirm_unknown=confirmed,
                )
                self.message_user(
                    request, gettext("Sent back to the queue."), messages.SUCCESS
                )
            else:
                target = services.resend(
                    notification, by=request.user, via=VIA, confirm_unknown=confirmed
                )
                self.message_user(
                    request,
                    gettext("Resent as a new notification, %(id)s.")
                    % {"id": target.uuid},
                    messages.SUCCESS,
                )
        except services.ActionRefused as exc:
            self.message_user(
                request,
                gettext("Nothing was done: %(reason)s.") % {"reason": exc.reason},
                messages.WARNING,
            )
        except services.UnknownOutcome as exc:
            # Back to the confirmation page, which offers the confirmation.
            self.message_user(
                request,
                gettext("Nothing was done: %(reason)s")
                % {"reason": " ".join(exc.messages)},
                messages.WARNING,
            )
            return HttpResponseRedirect(
                reverse(
                    "admin:notifications_notification_act",
                    args=[notification.pk, action],
                )
            )
        except ValidationError as exc:
            self.message_user(
                request,
                gettext("Nothing was done: %(reason)s")
                % {"reason": " ".join(exc.messages)},
                messages.ERROR,
            )
        return HttpResponseRedirect(_change_url(target.pk))

    @admin.action(
        description=_("Cancel the selected notifications"), permissions=["change"]
    )
    def cancel_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._bulk(request, queryset, "cancel")

    @admin.action(
        description=_("Retry the selected notifications now"), permissions=["change"]
    )
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._bulk(request, queryset, "retry")

    @admin.action(
        description=_("Resend the selected notifications"), permissions=["add"]
    )
    def resend_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._bulk(request, queryset, "resend")

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet, action: str
    ) -> HttpResponse | None:
        """Show a confirmation page; once confirmed, act and say what happened."""
        selected = list(queryset.select_related("channel")[: MAX_BULK + 1])
        if len(selected) > MAX_BULK:
            self.message_user(
                request,
                gettext(
                    "Select at most %(limit)d notifications at a time; "
                    "narrow the list with the filters."
                )
                % {"limit": MAX_BULK},
                messages.ERROR,
            )
            return None
        sends_again = action in ("retry", "resend")
        if request.POST.get("post") != "yes":
            unknown = (
                sum(services.failed_with_unknown_outcome(n) for n in selected)
                if sends_again
                else 0
            )
            context = {
                **self.admin_site.each_context(request),
                "title": ACTION_LABELS[action],
                "opts": self.opts,
                "action": f"{action}_selected",
                "action_label": ACTION_LABELS[action],
                "confirm_label": CONFIRM_LABELS[action],
                "question": _bulk_question(action, len(selected)),
                "selected": selected[:100],
                "more": max(0, len(selected) - 100),
                "all_ids": [n.pk for n in selected],
                "by_status": [
                    (status_badge(status), count)
                    for status, count in Counter(n.status for n in selected).items()
                ],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "unknown_outcome": unknown,
                "confirm_unknown_name": CONFIRM_UNKNOWN,
            }
            return TemplateResponse(
                request, "admin/notifications/notification/bulk_confirm.html", context
            )

        done, skipped = services.bulk_action(
            selected,
            action,
            by=request.user,
            via=VIA,
            confirm_unknown=sends_again and _confirmed_unknown(request),
        )
        report_bulk(self, request, action, done, skipped)
        return None


def report_bulk(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    action: str,
    done: list[Notification],
    skipped: list[tuple[Notification, str]],
) -> None:
    """Tell the operator how many were done, and which were skipped and why."""
    count = len(done)
    if action == "cancel":
        text = ngettext(
            "Cancelled %(count)d notification.",
            "Cancelled %(count)d notifications.",
            count,
        )
    elif action == "retry":
        text = ngettext(
            "Sent %(count)d notification back to the queue.",
            "Sent %(count)d notifications back to the queue.",
            count,
        )
    else:
        text = ngettext(
            "Resent %(count)d notification.", "Resent %(count)d notifications.", count
        )
    model_admin.message_user(
        request, text % {"count": count}, messages.SUCCESS if count else messages.INFO
    )
    if not skipped:
        return

    by_reason: dict[str, list[str]] = defaultdict(list)
    for notification, reason in skipped:
        by_reason[reason].append(short_id(notification.uuid))
    details = "; ".join(
        f"{', '.join(_first(ids, 10))} ({reason})" for reason, ids in by_reason.items()
    )
    model_admin.message_user(
        request,
        ngettext(
            "Skipped %(count)d notification: %(details)s.",
            "Skipped %(count)d notifications: %(details)s.",
            len(skipped),
        )
        % {"count": len(skipped), "details": details},
        messages.WARNING,
    )


def _first(ids: list[str], limit: int) -> list[str]:
    if len(ids) <= limit:
        return ids
    return [*ids[:limit], gettext("and %(more)d more") % {"more": len(ids) - limit}]


def _confirmed_unknown(request: HttpRequest) -> bool:
    """Whether the operator ticked "I checked with the provider; send again"."""
    return request.POST.get(CONFIRM_UNKNOWN) == "yes"


def _allowed(request: HttpRequest, action: str) -> bool:
    if action == "resend":
        return request.user.has_perm(PERM_ADD)
    return request.user.has_perm(PERM_CHANGE)


def available_actions(
    request: HttpRequest, notification: Notification
) -> list[dict[str, Any]]:
    """The actions the state machine and the user's permissions allow now."""
    names = {
        t.name for t in notification.get_available_user_status_transitions(request.user)
    }
    found = []
    if "cancel" in names and _allowed(request, "cancel"):
        found.append("cancel")
    # A disabled channel would only fail a retry or a resend again at once.
    enabled = notification.channel.enabled
    if names & {"retry", "requeue"} and _allowed(request, "retry") and enabled:
        found.append("retry")
    resendable = notification.status in services.RESENDABLE
    if _allowed(request, "resend") and enabled and resendable:
        found.append("resend")
    return [
        {
            "name": name,
            "label": ACTION_LABELS[name],
            "url": reverse(
                "admin:notifications_notification_act", args=[notification.pk, name]
            ),
        }
        for name in found
    ]


def explain_status(notification: Notification) -> str:
    """One sentence an operator reads next to the status badge."""
    status = notification.status
    if status == Status.PENDING:
        return gettext("Waiting until %(at)s") % {"at": when(notification.send_at)}
    if status == Status.QUEUED:
        return gettext("Waiting for a worker.")
    if status == Status.SENDING:
        return gettext("A worker is sending it now.")
    if status == Status.RETRYING:
        return gettext("Next attempt: %(at)s") % {
            "at": when(notification.next_attempt_at)
        }
    if status == Status.SENT:
        return gettext("Accepted by the provider: %(at)s") % {
            "at": when(notification.sent_at)
        }
    if status == Status.FAILED and services.failed_with_unknown_outcome(notification):
        return gettext(
            "No more attempts will be made: the provider may have delivered it. "
            "Check with the provider before retrying or resending."
        )
    if status == Status.FAILED:
        return gettext("No more attempts will be made.")
    if status == Status.EXPIRED:
        return gettext("Its expiry passed before it could be sent.")
    return gettext("It will not be sent.")


def _kind_label(kind: str) -> str:
    return dict(adapters.kinds()).get(kind, kind)


def _change_url(pk: int) -> str:
    return reverse("admin:notifications_notification_change", args=[pk])


def _action_question(action: str) -> str:
    if action == "cancel":
        return gettext("Cancel this notification? It will not be sent.")
    if action == "retry":
        return gettext(
            "Send this notification back to the queue now? A worker will try it "
            "again within seconds."
        )
    return gettext(
        "Send this message again as a new notification, to the same recipient "
        "through the same channel? The original keeps its history."
    )


def _bulk_question(action: str, count: int) -> str:
    if action == "cancel":
        text = ngettext(
            "Cancel %(count)d notification? Those already sent or finished are "
            "skipped.",
            "Cancel %(count)d notifications? Those already sent or finished are "
            "skipped.",
            count,
        )
    elif action == "retry":
        text = ngettext(
            "Send %(count)d notification back to the queue now? Only failed or "
            "retrying ones can be retried; the others are skipped.",
            "Send %(count)d notifications back to the queue now? Only failed or "
            "retrying ones can be retried; the others are skipped.",
            count,
        )
    else:
        text = ngettext(
            "Send %(count)d message again, as a new notification? Only "
            "finished ones are resent; those still waiting or being sent are "
            "skipped.",
            "Send %(count)d messages again, each as a new notification? Only "
            "finished ones are resent; those still waiting or being sent are "
            "skipped.",
            count,
        )
    return text % {"count": count}
