"""How an activity's fields map to iCalendar properties and back.

The feed writes with these maps and the importer reads with them, so an item
that goes out and comes back in (another user's import, a second Rapport)
keeps its kind, status and priority. The feed also uses `fields_from_component`
to tell which fields of an imported item were changed in Rapport since: only
their properties are rewritten, the rest of the original text is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from rapport.activities.models import Activity, ActivityKind, ActivityStatus, ActivityType, Priority
from rapport.core.models import Visibility

PRODID = "-//Rapport//Rapport CRM//EN"
KIND_PROPERTY = "X-RAPPORT-KIND"
# Only where STATUS cannot say it (an event that is completed): iCalendar events have no "done".
STATUS_PROPERTY = "X-RAPPORT-STATUS"

# RFC 5545 3.8.1.9: 1 is the highest, 9 the lowest, 0 undefined; 1-4 high, 5 medium, 6-9 low (as 3.8.1.9 suggests).
PRIORITY_TO_ICAL: dict[str, int] = {Priority.HIGH: 1, Priority.NORMAL: 5, Priority.LOW: 9}

EVENT_STATUS_TO_ICAL: dict[str, str] = {
    ActivityStatus.OPEN: "CONFIRMED",
    ActivityStatus.PENDING: "TENTATIVE",
    ActivityStatus.COMPLETED: "CONFIRMED",
    ActivityStatus.CANCELLED: "CANCELLED",
}
TODO_STATUS_TO_ICAL: dict[str, str] = {
    ActivityStatus.OPEN: "NEEDS-ACTION",
    ActivityStatus.PENDING: "IN-PROCESS",
    ActivityStatus.COMPLETED: "COMPLETED",
    ActivityStatus.CANCELLED: "CANCELLED",
}
STATUS_FROM_ICAL: dict[str, str] = {
    "CONFIRMED": ActivityStatus.OPEN,
    "TENTATIVE": ActivityStatus.PENDING,
    "CANCELLED": ActivityStatus.CANCELLED,
    "NEEDS-ACTION": ActivityStatus.OPEN,
    "IN-PROCESS": ActivityStatus.PENDING,
    "COMPLETED": ActivityStatus.COMPLETED,
}
DEFAULT_KIND: dict[str, str] = {ActivityType.EVENT: "meeting", ActivityType.TASK: "todo"}

SUBJECT_MAX = Activity._meta.get_field("subject").max_length or 200
LOCATION_MAX = Activity._meta.get_field("location").max_length or 200
DESCRIPTION_MAX = Activity._meta.get_field("description").max_length or 20000


def clip(text: str, limit: int) -> str:
    """Text cut to a field's length; the full text stays in the item's iCalendar source."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def priority_from_ical(value: Any) -> str:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return Priority.NORMAL
    if number == 0 or number == 5:
        return Priority.NORMAL
    return Priority.HIGH if number < 5 else Priority.LOW


def status_to_ical(activity_type: str, status: str) -> str:
    table = TODO_STATUS_TO_ICAL if activity_type == ActivityType.TASK else EVENT_STATUS_TO_ICAL
    return table.get(status, table[ActivityStatus.OPEN])


def status_needs_hint(activity_type: str, status: str) -> bool:
    """Whether STATUS alone would read back as another status (a completed event)."""
    return STATUS_FROM_ICAL[status_to_ical(activity_type, status)] != status


def text_value(component: Any, name: str) -> str:
    """A text property as a person reads it (unescaped); the first, if it is given twice."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def categories(component: Any) -> list[str]:
    value = component.get("CATEGORIES")
    found: list[str] = []
    for item in value if isinstance(value, list) else [value] if value is not None else []:
        found.extend(str(category).strip() for category in getattr(item, "cats", [item]))
    return [category for category in found if category]


class Kinds:
    """The activity kinds, loaded once per feed or import, and matched to iCalendar by key or label."""

    def __init__(self, kinds: Iterable[ActivityKind]) -> None:
        self.all = list(kinds)
        self.by_key = {kind.key: kind for kind in self.all}
        self.by_name: dict[str, ActivityKind] = {}
        for kind in self.all:
            if kind.is_active:
                self.by_name.setdefault(kind.label.casefold(), kind)
                self.by_name.setdefault(kind.key.casefold(), kind)

    @classmethod
    def load(cls) -> Kinds:
        return cls(ActivityKind.objects.all())

    def default(self, activity_type: str) -> ActivityKind:
        kind = self.by_key.get(DEFAULT_KIND.get(activity_type, "meeting"))
        if kind is None:
            kind = next((k for k in self.all if k.is_active), None) or self.all[0]
        return kind

    def from_component(self, component: Any, activity_type: str) -> ActivityKind:
        """X-RAPPORT-KIND if it names an offered kind, else the first category that does, else the default."""
        key = text_value(component, KIND_PROPERTY).strip().lower()
        kind = self.by_key.get(key)
        if kind is not None and kind.is_active:
            return kind
        for category in categories(component):
            kind = self.by_name.get(category.casefold())
            if kind is not None:
                return kind
        return self.default(activity_type)


def reminder_from_component(component: Any) -> int | None:
    """Minutes before the start of the first alarm set relative to the start, or None."""
    for alarm in getattr(component, "subcomponents", []):
        if alarm.name != "VALARM":
            continue
        trigger = alarm.get("TRIGGER")
        offset = getattr(trigger, "dt", None)
        related = str(getattr(trigger, "params", {}).get("RELATED", "START")).upper()
        if isinstance(offset, dt.timedelta) and related == "START" and offset <= dt.timedelta(0):
            return int(-offset.total_seconds() // 60)
    return None


def visibility_from_component(component: Any) -> str | None:
    """CLASS:PRIVATE (or CONFIDENTIAL) makes the item private; anything else leaves the visibility alone."""
    value = text_value(component, "CLASS").strip().upper()
    return Visibility.PRIVATE if value in ("PRIVATE", "CONFIDENTIAL") else None


def fields_from_component(component: Any, kinds: Kinds) -> dict[str, Any]:
    """The activity fields that the descriptive properties of a VEVENT or VTODO give (not its times)."""
    activity_type = ActivityType.TASK if component.name == "VTODO" else ActivityType.EVENT
    hint = text_value(component, STATUS_PROPERTY).strip().lower()
    if hint in ActivityStatus.values:
        status = hint
    else:
        status = STATUS_FROM_ICAL.get(text_value(component, "STATUS").strip().upper(), ActivityStatus.OPEN)
    return {
        "activity_type": activity_type,
        "kind": kinds.from_component(component, activity_type),
        "subject": clip(" ".join(text_value(component, "SUMMARY").split()), SUBJECT_MAX) or _("(no subject)"),
        "description": clip(text_value(component, "DESCRIPTION").strip(), DESCRIPTION_MAX),
        "location": clip(" ".join(text_value(component, "LOCATION").split()), LOCATION_MAX),
        "status": status,
        "priority": priority_from_ical(component.get("PRIORITY")),
        "reminder_minutes": reminder_from_component(component),
        "visibility": visibility_from_component(component),
    }


def zone(name: str) -> dt.tzinfo:
    return dt.UTC if name in ("", "UTC") else zoneinfo.ZoneInfo(name)


def _until_part(value: str, *, time_zone: str, all_day: bool) -> str:
    """UNTIL as RFC 5545 wants it beside the DTSTART the feed writes: a date for all-day items, else UTC.

    Rapport also accepts a plain date beside a timed start (the end of that day, local time) and a
    local time; both are written as the UTC time they stand for.
    """
    if all_day:
        return value[:8]
    if value.endswith("Z"):
        return value
    if "T" not in value:
        local = dt.datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59)
    else:
        local = dt.datetime.strptime(value, "%Y%m%dT%H%M%S")
    return local.replace(tzinfo=zone(time_zone)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def export_rule(rule: str, *, time_zone: str, all_day: bool) -> str:
    """The stored RRULE as the feed writes it: the same parts, UNTIL in the form its DTSTART needs."""
    parts = []
    for chunk in rule.split(";"):
        name, _sep, value = chunk.partition("=")
        if name == "UNTIL":
            # The services only store rules that read; one that does not is kept as it is.
            with contextlib.suppress(ValueError):
                value = _until_part(value, time_zone=time_zone, all_day=all_day)
        parts.append(f"{name}={value}")
    return ";".join(parts)
