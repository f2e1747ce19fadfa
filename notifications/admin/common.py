"""Pieces shared by Orion's admin pages: badges, counting, permissions."""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from notifications.models import Status

# What the admin writes as `created_via` and `actor`, like "api" or "cli".
VIA = "admin"

# The largest selection a list action works on in one request: each item is a
# guarded transition with its own transaction, and the request must end.
MAX_BULK = 1000

PERM_ADD = "notifications.add_notification"
PERM_CHANGE = "notifications.change_notification"
PERM_VIEW = "notifications.view_notification"
# Created by migration 0002_operator_groups; Channel.Meta does not declare it.
PERM_TEST_CHANNEL = "notifications.test_channel"


def can_test_channel(request: HttpRequest) -> bool:
    """Whether the user may send a test message through a channel."""
    user = request.user
    return user.has_perm(PERM_TEST_CHANNEL) or user.has_perm(
        "notifications.change_channel"
    )


def status_badge(status: str) -> SafeString:
    """A coloured label for a notification status; the word carries the meaning."""
    try:
        label = Status(status).label
    except ValueError:
        label = status
    return format_html(
        '<span class="orion-badge orion-status-{}">{}</span>', status, label
    )


def when(value: datetime.datetime | None, *, seconds_only: bool = False) -> str:
    """A time in Orion's time zone to the second: operators compare events
    that happen within the same minute. `seconds_only` leaves out the zone."""
    if value is None:
        return "-"
    return date_format(
        timezone.localtime(value), "Y-m-d H:i:s" if seconds_only else "Y-m-d H:i:s T"
    )


def short_id(value: Any) -> str:
    """The first block of a UUID: enough to tell rows apart on a page."""
    return str(value).split("-", 1)[0]


class CappedPaginator(Paginator):
    """A paginator that never counts more than `cap` rows.

    `COUNT(*)` reads every matching row, which on a table of millions makes
    each list page slow. Counting a LIMITed subquery stops at `cap + 1`;
    pages beyond the cap are reached with filters, not by paging.
    """

    cap = 10_000

    @cached_property
    def _found(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return min(self._found, self.cap)

    @property
    def is_capped(self) -> bool:
        """True when there are more rows than were counted."""
        return self._found > self.cap


ACTION_LABELS = {
    "cancel": _("Cancel"),
    "retry": _("Retry now"),
    "resend": _("Resend"),
}

CONFIRM_LABELS = {
    "cancel": _("Yes, cancel"),
    "retry": _("Yes, retry now"),
    "resend": _("Yes, resend"),
}
