"""Template helpers of the activity pages."""

from __future__ import annotations

from typing import Any

from django import template

from rapport.activities.recurrence import Occurrence

register = template.Library()


@register.filter
def occurrence_param(occurrence: Occurrence) -> str:
    """The occurrence's RECURRENCE-ID as the pages name it (20270301T080000Z), or "" for a single activity."""
    return occurrence.original_start.strftime("%Y%m%dT%H%M%SZ") if occurrence.original_start else ""


@register.filter
def occurrence_url(occurrence: Occurrence) -> str:
    from rapport.activities.views import occurrence_url as url_for

    return url_for(occurrence)


@register.filter
def may_change(activity: Any, user: Any) -> bool:
    """Whether the user may change (move, edit) the activity: drag and drop is offered only then."""
    from rapport.core.access import can

    return can(user, "activity", "update", activity)


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None
