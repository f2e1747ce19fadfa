"""Template tags of Orion's admin pages: the dashboard and a cheap date drill-down."""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django import template
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def orion_dashboard() -> dict[str, Any]:
    from notifications.admin.dashboard import dashboard

    return dashboard()


@register.inclusion_tag("admin/date_hierarchy.html")
def orion_date_hierarchy(cl: Any) -> dict[str, Any]:
    """The admin's date drill-down without its `SELECT DISTINCT` over the list.

    Django lists only the years, months or days that have rows, which reads
    every row in range. This offers every period between the first and the
    last row instead: one MIN/MAX query on an indexed column. A period with
    no rows shows an empty list.
    """
    field = cl.date_hierarchy
    year = _int(cl.params.get(f"{field}__year"))
    month = _int(cl.params.get(f"{field}__month"))
    day = _int(cl.params.get(f"{field}__day"))

    def link(filters: dict[str, Any]) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    if year and month and day:
        date = datetime.date(year, month, day)
        return {
            "show": True,
            "back": {
                "link": link({f"{field}__year": year, f"{field}__month": month}),
                "title": capfirst(formats.date_format(date, "YEAR_MONTH_FORMAT")),
            },
            "choices": [
                {"title": capfirst(formats.date_format(date, "MONTH_DAY_FORMAT"))}
            ],
        }

    span = cl.queryset.aggregate(first=Min(field), last=Max(field))
    if not span["first"]:
        return {"show": False}
    first = timezone.localtime(span["first"]).date()
    last = timezone.localtime(span["last"]).date()

    if year and month:
        days = range(
            first.day if (first.year, first.month) == (year, month) else 1,
            (
                last.day
                if (last.year, last.month) == (year, month)
                else calendar.monthrange(year, month)[1]
            )
            + 1,
        )
        return {
            "show": True,
            "back": {"link": link({f"{field}__year": year}), "title": str(year)},
            "choices": [
                {
                    "link": link(
                        {
                            f"{field}__year": year,
                            f"{field}__month": month,
                            f"{field}__day": number,
                        }
                    ),
                    "title": capfirst(
                        formats.date_format(
                            datetime.date(year, month, number), "MONTH_DAY_FORMAT"
                        )
                    ),
                }
                for number in days
            ],
        }
    if not year and first.year == last.year:
        year = first.year
    if year:
        months = range(
            first.month if first.year == year else 1,
            (last.month if last.year == year else 12) + 1,
        )
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({f"{field}__year": year, f"{field}__month": number}),
                    "title": capfirst(
                        formats.date_format(
                            datetime.date(year, number, 1), "YEAR_MONTH_FORMAT"
                        )
                    ),
                }
                for number in months
            ],
        }
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({f"{field}__year": number}), "title": str(number)}
            for number in range(first.year, last.year + 1)
        ],
    }


def _int(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None
