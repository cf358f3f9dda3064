"""Template helpers of the reports app: table cells as the chart labels them, and who sees the dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.formats import date_format, number_format

from rapport.reports import selectors

register = template.Library()


@register.filter
def sees_manager_dashboard(user: Any) -> bool:
    """{% if user|sees_manager_dashboard %}: from the rights the request already resolved, no query."""
    return selectors.sees_dashboard(user)


@register.filter
def cell(value: Any, column: Any) -> str:
    """A report cell: amounts with two decimals, counts grouped, months as "Nov 2026"."""
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return number_format(value, decimal_pos=2, force_grouping=True)
    if column.kind == "int":
        return number_format(value, force_grouping=True)
    if column.kind == "month" and isinstance(value, dt.date):
        return date_format(value, "M Y")
    if column.kind == "date" and isinstance(value, dt.date):
        return date_format(value, "j M Y")
    return str(value)


@register.filter
def value_of(row: dict[str, Any], key: str) -> Any:
    return row.get(key)


@register.filter
def has_key(row: dict[str, Any], key: str) -> bool:
    return key in row
