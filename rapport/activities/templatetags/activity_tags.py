"""Template helpers of the activity pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

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


# --- Calendar entries ----------------------------------------------------------------------------------
# A month or a busy week draws hundreds of entries: built here in one pass rather than by an {% include %}
# each, which cost about 2 ms an entry (lookups, filters, two URL reversals, a rights check).

_URL_SLOT = "0-ENTRY-0"


def _entry_urls(render_context: Any) -> tuple[str, str]:
    """The detail and move URLs with a slot for the public id, reversed once per page."""
    urls = render_context.get("calendar_entry_urls")
    if urls is None:
        urls = (reverse("activity_detail", args=[_URL_SLOT]), reverse("activity_move", args=[_URL_SLOT]))
        render_context["calendar_entry_urls"] = urls
    return urls


def _position(placed: Any, timed: bool) -> str:
    if placed.all_day or not timed:
        return ""
    return (f' style="top:{placed.top:.2f}%;height:{placed.height:.2f}%;left:{placed.left:.2f}%;'
            f'width:{placed.width:.2f}%"')


@register.simple_tag(takes_context=True)
def calendar_entry(context: Any, placed: Any, timed: bool = False) -> str:
    """One entry of the calendar grid: a link to the activity (draggable where the viewer may change it),
    or "Busy" for one the viewer may see only the times of."""
    entry = placed.entry
    occurrence = entry.occurrence
    activity = entry.activity
    names = ""
    if context.get("several"):
        person_names = context.get("person_names") or {}
        names = ", ".join(str(person_names.get(pk) or "") for pk in entry.person_ids)
    who = format_html(' <span class="cal-who">· {}</span>', names) if names else ""
    time_text = "" if placed.all_day else f"{timezone.template_localtime(placed.start):%H:%M}"
    position = _position(placed, timed)
    if entry.busy:
        shown_time = format_html('<span class="cal-time">{}</span> ', time_text) if time_text else ""
        return format_html('<div class="cal-entry busy"{}>{}{}{}</div>', mark_safe(position), shown_time,  # noqa: S308
                           _("Busy"), who)
    detail_url, move_url = _entry_urls(context.render_context)
    href = detail_url.replace(_URL_SLOT, activity.public_id)
    param = occurrence_param(occurrence)
    if param:
        href += "?occurrence=" + param
    drag = ""
    if may_change(activity, context.get("user")):
        drag = format_html(' draggable="true" data-move-url="{}" data-version="{}" data-occurrence="{}"',
                           move_url.replace(_URL_SLOT, activity.public_id), activity.version, param)
    if activity.is_task:
        lead = format_html('<span class="cal-mark" aria-hidden="true">{}</span>'
                           '<span class="visually-hidden">{}:</span>',
                           "✓" if activity.status == "completed" else "☐", _("Task"))
    elif time_text:
        lead = format_html('<span class="cal-time">{}</span>', time_text)
    else:
        lead = ""
    repeat = ""
    if activity.rrule:
        repeat = format_html(' <span class="cal-repeat" title="{0}" aria-label="{0}">↻</span>', _("Repeats"))
    classes = f"cal-entry {activity.activity_type} status-{activity.status}" + (" all-day" if placed.all_day else "")
    title = activity.subject + (f" · {names}" if names else "")
    return format_html('<a class="{}" href="{}"{}{} title="{}">{}<span class="cal-subject">{}</span>{}{}</a>',
                       classes, href, drag, mark_safe(position), title, lead, activity.subject, repeat,  # noqa: S308
                       who)



@register.simple_tag
def calendar_slots(hours: list[str], iso: str, label: str, create_url: str, new_event: str,
                   can_create: bool) -> str:
    """A day column's hour slots, each a link to a new event at that hour where the viewer may create one.
    A week draws 168: built here in one pass rather than by eight template lookups each."""
    if not can_create:
        return mark_safe('<div class="cal-slot"></div>' * len(hours))  # noqa: S308
    day, name, url, new = (conditional_escape(value) for value in (iso, label, create_url, new_event))
    slots = (f'<a class="cal-slot" data-date="{day}" data-time="{hour}" href="{url}?type=event&amp;date={day}&amp;'
             f'time={hour}" tabindex="-1" aria-label="{new}, {name}, {hour}"></a>'
             for hour in map(conditional_escape, hours))
    return mark_safe("".join(slots))  # noqa: S308 - every value is escaped above
