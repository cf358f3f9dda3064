"""One user's calendar feed: the activities assigned to them as an iCalendar (VCALENDAR) text.

Calendar apps subscribe to it (docs/calendar.md). It holds every activity
assigned to the user that the user may see and that ended at most 90 days ago,
every recurrence still running, and every open task however old; at most
MAX_ITEMS activities, read in a constant number of queries (`feed_load`).

A recurring activity is written as its series, as a calendar app stores it:
one VEVENT with RRULE and EXDATE (skipped occurrences) and one VEVENT with
RECURRENCE-ID per moved occurrence. Events are VEVENTs (timed ones with the
TZID of the activity's time zone, and a VTIMEZONE for each zone; all-day ones as
dates), tasks are VTODOs due on their date.

An item imported from an .ics file keeps its original text (`ical_source`): the
feed starts from that text and rewrites only the properties of the fields that
were changed in Rapport since, so alarms, X- properties, attendees and the like
come out as they went in.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo, vRecur

from rapport.activities.ical import convert
from rapport.activities.models import Activity, ActivityAssignee, ActivityException
from rapport.core.models import User, Visibility

FEED_PAST = dt.timedelta(days=90)
MAX_ITEMS = 5000
REFRESH_INTERVAL = dt.timedelta(hours=1)
# Years of daylight-saving transitions written into each VTIMEZONE after the current one.
ZONE_YEARS_AHEAD = 10

# Properties the feed always writes from the activity itself, even for an imported item: times,
# recurrence and bookkeeping are what Rapport keeps, and a TZID of the original file may not exist here.
ALWAYS_WRITTEN = ("UID", "DTSTAMP", "SEQUENCE", "LAST-MODIFIED", "DTSTART", "DTEND", "DUE", "DURATION",
                  "RRULE", "RDATE", "EXRULE", "EXDATE", "RECURRENCE-ID", "URL")
# The properties behind each descriptive field: rewritten only where the field differs from the original.
FIELD_PROPERTIES = {
    "subject": ("SUMMARY",),
    "description": ("DESCRIPTION",),
    "location": ("LOCATION",),
    "status": ("STATUS", convert.STATUS_PROPERTY, "COMPLETED", "PERCENT-COMPLETE"),
    "priority": ("PRIORITY",),
    "kind": (convert.KIND_PROPERTY, "CATEGORIES"),
    "visibility": ("CLASS",),
}

ActivityLink = Callable[[Activity], str]


@dataclass
class Feed:
    """What one feed holds, read up front so that writing it out runs no query."""

    user: User
    activities: list[Activity]
    exceptions: dict[int, list[ActivityException]]
    kinds: convert.Kinds | None
    now: dt.datetime
    truncated: bool


def feed_load(*, user: User, now: dt.datetime | None = None) -> Feed:
    """The user's feed, in a constant number of queries (rights, activities, exceptions, kinds)."""
    now = now or timezone.now()
    since = now - FEED_PAST
    assigned = (ActivityAssignee.objects.filter(user_id=user.pk)
                .filter(Q(open_task=True) | Q(last_ends_at__isnull=True) | Q(last_ends_at__gte=since))
                .values("activity_id"))
    # Oldest first: running series and what is coming soon are kept; past the cap, the far future goes.
    rows = list(Activity.objects.visible_to(user).filter(pk__in=assigned).select_related("kind")
                .order_by("starts_at", "id")[: MAX_ITEMS + 1])
    truncated = len(rows) > MAX_ITEMS
    activities = rows[:MAX_ITEMS]
    exceptions: dict[int, list[ActivityException]] = defaultdict(list)
    recurring = [activity.pk for activity in activities if activity.rrule]
    if recurring:
        for exception in ActivityException.objects.filter(activity_id__in=recurring).order_by("original_start"):
            exceptions[exception.activity_id].append(exception)
    kinds = convert.Kinds.load() if any(activity.ical_source for activity in activities) else None
    return Feed(user=user, activities=activities, exceptions=dict(exceptions), kinds=kinds, now=now,
                truncated=truncated)


def feed_chunks(feed: Feed, *, link: ActivityLink | None = None) -> Iterator[bytes]:
    """The feed's text, a component at a time (for a streaming response)."""
    yield _header(feed)
    for zone_name, first in sorted(_zones(feed.activities).items()):
        yield _vtimezone(zone_name, first.year, feed.now.year + ZONE_YEARS_AHEAD)
    for activity in feed.activities:
        for component in activity_components(activity, feed.exceptions.get(activity.pk, ()), now=feed.now,
                                             kinds=feed.kinds, link=link):
            yield component.to_ical()
    yield b"END:VCALENDAR\r\n"


def feed_text(feed: Feed, *, link: ActivityLink | None = None) -> bytes:
    return b"".join(feed_chunks(feed, link=link))


# --- The calendar and its time zones ---------------------------------------------------------------


def _header(feed: Feed) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", convert.PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Rapport – {feed.user.display_name}")
    calendar.add("x-wr-timezone", feed.user.time_zone or "UTC")
    # How often to look again: RFC 7986's REFRESH-INTERVAL, and Outlook's older X-PUBLISHED-TTL.
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    text = calendar.to_ical()
    return text[: text.rindex(b"END:VCALENDAR")]


def _zones(activities: Iterable[Activity]) -> dict[str, dt.date]:
    """The time zones timed events are written in, with the earliest date each must cover."""
    first: dict[str, dt.date] = {}
    for activity in activities:
        if activity.is_task or activity.all_day or activity.time_zone in ("", "UTC"):
            continue
        day = activity.starts_at.date()
        first[activity.time_zone] = min(day, first.get(activity.time_zone, day))
    return first


@functools.lru_cache(maxsize=256)
def _vtimezone(zone_name: str, first_year: int, last_year: int) -> bytes:
    """A VTIMEZONE with the zone's transitions from first_year to last_year (cached: each takes a while)."""
    try:
        component = Timezone.from_tzid(zone_name, first_date=dt.date(first_year, 1, 1),
                                       last_date=dt.date(last_year, 12, 31))
    except ValueError:
        return b""  # a zone the tz database no longer has: clients still get the TZID name
    return component.to_ical()


# --- One activity ----------------------------------------------------------------------------------


def _moment(activity: Activity, value: dt.datetime) -> dt.datetime | dt.date:
    """A stored UTC time as the feed writes it for this activity: a date for all-day items, else local."""
    if activity.is_task or activity.all_day:
        return value.astimezone(dt.UTC).date()
    return value.astimezone(convert.zone(activity.time_zone))


def _sequence(activity: Activity, source: Component | None) -> int:
    """SEQUENCE grows with every change (the version); for an imported item, on top of its own."""
    base = 0
    if source is not None:
        try:
            base = int(source.get("SEQUENCE") or 0)
        except (TypeError, ValueError):
            base = 0
    return base + activity.version - 1


def _add_descriptive(component: Component, activity: Activity) -> None:
    component.add("summary", activity.subject)
    if activity.description:
        component.add("description", activity.description)
    if activity.location:
        component.add("location", activity.location)
    component.add("status", convert.status_to_ical(activity.activity_type, activity.status))
    if convert.status_needs_hint(activity.activity_type, activity.status):
        component.add(convert.STATUS_PROPERTY, activity.status)
    if activity.is_task and activity.completed_at is not None:
        component.add("completed", activity.completed_at.astimezone(dt.UTC))
    component.add("priority", convert.PRIORITY_TO_ICAL.get(activity.priority, 5))
    component.add("categories", [activity.kind.label])
    component.add(convert.KIND_PROPERTY, activity.kind.key)
    if activity.visibility == Visibility.PRIVATE:
        component.add("class", "PRIVATE")


def _alarm(activity: Activity) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", activity.subject)
    alarm.add("trigger", dt.timedelta(minutes=-(activity.reminder_minutes or 0)))
    return alarm


def _fresh(activity: Activity, cancelled: list[dt.datetime], *, now: dt.datetime, sequence: int,
           link: ActivityLink | None) -> Component:
    """The activity as a VEVENT or VTODO written from its fields alone."""
    component: Component = Todo() if activity.is_task else Event()
    component.add("uid", activity.uid)
    component.add("dtstamp", now.astimezone(dt.UTC))
    component.add("created", activity.created_at.astimezone(dt.UTC))
    component.add("last-modified", activity.updated_at.astimezone(dt.UTC))
    component.add("sequence", sequence)
    if link is not None:
        component.add("url", link(activity))
    _add_descriptive(component, activity)
    if activity.is_task:
        component.add("due", _moment(activity, activity.starts_at))
    else:
        component.add("dtstart", _moment(activity, activity.starts_at))
        component.add("dtend", _moment(activity, activity.ends_at))
    if activity.rrule:
        rule = convert.export_rule(activity.rrule, time_zone=activity.time_zone,
                                   all_day=activity.all_day or activity.is_task)
        component.add("rrule", vRecur.from_ical(rule))
        if cancelled:
            component.add("exdate", [_moment(activity, start) for start in cancelled])
    if activity.reminder_minutes is not None:
        component.add_component(_alarm(activity))
    return component


def _replace(target: Component, fresh: Component, names: Iterable[str]) -> None:
    """Take these properties from `fresh` into `target`, dropping target's own."""
    for name in names:
        target.pop(name, None)
        if name in fresh:
            target[name] = fresh[name]


def _patched(source: Component, fresh: Component, activity: Activity, kinds: convert.Kinds) -> Component:
    """The imported component with the properties Rapport keeps rewritten, and the rest as it came."""
    original = convert.fields_from_component(source, kinds)
    current = {
        "subject": activity.subject, "description": activity.description, "location": activity.location,
        "status": activity.status, "priority": activity.priority, "kind": activity.kind,
        "visibility": Visibility.PRIVATE if activity.visibility == Visibility.PRIVATE else None,
    }
    _replace(source, fresh, ALWAYS_WRITTEN)
    for field, names in FIELD_PROPERTIES.items():
        if original[field] != current[field]:
            _replace(source, fresh, names)
    if "CREATED" not in source and "CREATED" in fresh:
        source["CREATED"] = fresh["CREATED"]
    if original["reminder_minutes"] != activity.reminder_minutes:
        source.subcomponents = [sub for sub in source.subcomponents if sub.name != "VALARM"]
        source.subcomponents.extend(sub for sub in fresh.subcomponents if sub.name == "VALARM")
    return source


def _sources(activity: Activity) -> tuple[Component | None, dict[dt.datetime, Component]]:
    """The master and the overrides (by RECURRENCE-ID, UTC) of an imported activity's original text."""
    if not activity.ical_source:
        return None, {}
    try:
        components = Component.from_ical(activity.ical_source, multiple=True)
    except ValueError:
        return None, {}
    wanted = "VTODO" if activity.is_task else "VEVENT"
    master, overrides = None, {}
    for component in components:
        if component.name != wanted:
            continue
        recurrence_id = component.get("RECURRENCE-ID")
        if recurrence_id is None:
            master = master or component
            continue
        moment = getattr(recurrence_id, "dt", None)
        if isinstance(moment, dt.datetime):
            if moment.tzinfo is None:  # a floating time: in the activity's zone, as the importer reads it
                moment = moment.replace(tzinfo=convert.zone(activity.time_zone))
            overrides[moment.astimezone(dt.UTC)] = component
        elif isinstance(moment, dt.date):
            overrides[dt.datetime.combine(moment, dt.time(0), tzinfo=dt.UTC)] = component
    return master, overrides


def _override(activity: Activity, exception: ActivityException, fresh: Component, source: Component | None,
              *, now: dt.datetime) -> Component:
    """A moved occurrence: a VEVENT (VTODO) with the series' UID and the RECURRENCE-ID it replaces."""
    assert exception.starts_at is not None  # only moved occurrences come here
    component: Component = source if source is not None else (Todo() if activity.is_task else Event())
    for name in ALWAYS_WRITTEN:
        component.pop(name, None)
    if source is None:  # a new override: the series' descriptive properties and alarm (nothing is inherited)
        for name, value in fresh.items():
            if name not in ALWAYS_WRITTEN:
                component[name] = value
        component.subcomponents.extend(fresh.subcomponents)
    component.add("uid", activity.uid)
    component.add("dtstamp", now.astimezone(dt.UTC))
    component["SEQUENCE"] = fresh["SEQUENCE"]
    component.add("last-modified", activity.updated_at.astimezone(dt.UTC))
    component.add("recurrence-id", _moment(activity, exception.original_start))
    ends_at = exception.ends_at or exception.starts_at + (activity.ends_at - activity.starts_at)
    if activity.is_task:
        component.add("due", _moment(activity, exception.starts_at))
    else:
        component.add("dtstart", _moment(activity, exception.starts_at))
        component.add("dtend", _moment(activity, ends_at))
    return component


def activity_components(activity: Activity, exceptions: Iterable[ActivityException], *, now: dt.datetime,
                        kinds: convert.Kinds | None = None, link: ActivityLink | None = None) -> list[Component]:
    """The components of one activity: the item (or series) and one per moved occurrence."""
    exceptions = list(exceptions) if activity.rrule else []
    cancelled = [exc.original_start for exc in exceptions if exc.cancelled]
    source, source_overrides = _sources(activity) if kinds is not None else (None, {})
    fresh = _fresh(activity, cancelled, now=now, sequence=_sequence(activity, source), link=link)
    master = _patched(source, fresh, activity, kinds) if source is not None and kinds is not None else fresh
    components = [master]
    for exception in exceptions:
        if not exception.cancelled and exception.starts_at is not None:
            components.append(_override(activity, exception, fresh,
                                        source_overrides.get(exception.original_start), now=now))
    return components

