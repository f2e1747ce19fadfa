"""Batches: notifications created together, followed as a whole."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.admin.common import CappedPaginator, short_id, status_badge
from notifications.models import WAITING, Batch, Notification, Status


def batch_progress(batch_ids: list[Any]) -> dict[Any, dict[str, int]]:
    """Each batch's notifications by status, in one query."""
    if not batch_ids:
        return {}
    rows = (
        Notification.objects.filter(batch_id__in=batch_ids)
        .values("batch_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    progress: dict[Any, dict[str, int]] = {}
    for row in rows:
        progress.setdefault(row["batch_id"], {})[row["status"]] = row["n"]
    return progress


def summarise(counts: dict[str, int]) -> dict[str, int]:
    """Total, sent, failed, waiting (to be sent) and otherwise finished."""
    waiting = sum(counts.get(s, 0) for s in (*WAITING, Status.SENDING))
    sent = counts.get(Status.SENT, 0)
    failed = counts.get(Status.FAILED, 0)
    total = sum(counts.values())
    return {
        "total": total,
        "sent": sent,
        "failed": failed,
        "waiting": waiting,
        "other": total - sent - failed - waiting,
    }


def progress_bar(counts: dict[str, int]) -> SafeString:
    figures = summarise(counts)
    total = figures["total"] or 1
    parts = format_html_join(
        "",
        '<span class="orion-bar-{}" style="width: {}%"></span>',
        (
            (name, round(100 * figures[name] / total, 1))
            for name in ("sent", "failed", "other", "waiting")
            if figures[name]
        ),
    )
    label = (
        gettext("%(sent)d sent, %(failed)d failed, %(waiting)d waiting of %(total)d")
        % figures
    )
    return format_html(
        '<span class="orion-bar" title="{}">{}</span> <span>{}</span>',
        label,
        parts,
        label,
    )


class BatchChangeList(ChangeList):
    """Counts the listed batches' notifications in one query, not one per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        progress = batch_progress([batch.pk for batch in self.result_list])
        for batch in self.result_list:
            batch.progress = progress.get(batch.pk, {})


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("short_batch_id", "created_at", "creator", "note", "progress")
    list_select_related = ("created_by",)
    list_per_page = 50
    paginator = CappedPaginator
    show_full_result_count = False
    search_fields = ("note",)
    fields = (
        "full_id",
        "created_at",
        "creator",
        "note",
        "progress_detail",
        "list_link",
    )
    readonly_fields = fields

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BatchChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("batch"))
    def short_batch_id(self, batch: Batch) -> str:
        return short_id(batch.pk)

    @admin.display(description=_("batch id"))
    def full_id(self, batch: Batch) -> str:
        return str(batch.pk)

    @admin.display(description=_("created by"))
    def creator(self, batch: Batch) -> str:
        return str(batch.created_by) if batch.created_by else "-"

    @admin.display(description=_("progress"))
    def progress(self, batch: Batch) -> SafeString:
        return progress_bar(getattr(batch, "progress", {}))

    @admin.display(description=_("progress"))
    def progress_detail(self, batch: Batch) -> SafeString:
        counts = batch_progress([batch.pk]).get(batch.pk, {})
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{}</a></td></tr>',
            (
                (status_badge(status), _list_url(batch, status), counts[status])
                for status in Status.values
                if counts.get(status)
            ),
        )
        return format_html(
            '{}<table class="orion-table">{}</table>', progress_bar(counts), rows
        )

    @admin.display(description=_("notifications"))
    def list_link(self, batch: Batch) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            _list_url(batch),
            gettext("See this batch's notifications"),
        )


def _list_url(batch: Batch, status: str | None = None) -> str:
    query = {"batch": str(batch.pk)}
    if status:
        query["status__exact"] = status
    return (
        reverse("admin:notifications_notification_changelist") + "?" + urlencode(query)
    )
