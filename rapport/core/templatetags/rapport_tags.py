"""Template helpers shared by every app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from rapport.core.access import record_visible
from rapport.core.registry import RecordPanel, detail_url, record_panels

register = template.Library()


@register.filter
def seen_by(record: Any, user: Any) -> bool:
    """{% if contact.account|seen_by:user %}: show a linked record only to those who may see it."""
    return record_visible(user, record)


@register.simple_tag
def options(choices: Iterable[tuple[str, str]], selected: str = "") -> str:
    """<option> elements for (value, label) pairs, rendered in one pass: long pickers stay cheap."""
    return format_html_join(
        "", "<option value=\"{}\"{}>{}</option>",
        ((value, mark_safe(" selected") if str(value) == str(selected) else "", label)
         for value, label in choices),
    )


@register.simple_tag
def panels_of(record: Any) -> list[RecordPanel]:
    """{% panels_of account as panels %}: the sections other apps add to this record's page."""
    return record_panels(record.record_type)


@register.filter
def record_url(record: Any) -> str:
    """{{ record|record_url }}: the page of a record of any type that activities and notes can be about."""
    return detail_url(record) or ""
