"""Calendar items of CalDAV sync: an activity as the iCalendar text a client stores, and back.

Each user has two collections, `calendar` (events, VEVENT) and `tasks` (tasks, VTODO), of the
activities assigned to them; the storage plugin (rapport/sync/dav) reads through `calendar_texts`
and writes through `calendar_put`.

Writing out reuses the calendar feed (activities/ical/feed.py): a recurring activity is one item
(RRULE, EXDATE for cancelled occurrences, one RECURRENCE-ID override per moved one), and an item
with `ical_source` is patched, not regenerated, so what Rapport does not model (alarms, X-
properties, attendee parameters) goes back to the client as it sent it. Unlike the feed, the text
depends on the record alone (DTSTAMP is its last change), so one version is one byte string and the
ETag made from the version is honest.

Reading in reuses the .ics importer (activities/ical/importer.py) and writes through the activity
services, so rights, validation and history are those of any other edit. `ical_source` holds the
item's components as the client wrote them (the VEVENTs or VTODOs, without the VCALENDAR around
them or its VTIMEZONEs), the same form an .ics import stores, which the feed knows how to patch.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar.prop import vText

from rapport.activities import recurrence, services
from rapport.activities.ical import convert, feed, importer
from rapport.activities.models import Activity, ActivityException, ActivityStatus
from rapport.core.errors import StaleVersion
from rapport.core.models import User
from rapport.sync.errors import DavRefusal
from rapport.sync.hrefs import dav_name_for, release_deleted_uid

EXTENSION = "ics"
ITEM_NAMES = ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY")
COLLECTION_OF = {"VEVENT": _("calendar (events)"), "VTODO": _("task list (tasks)")}
# Exceptions are read with one IN list per this many recurring activities (SQLite's variable limit).
EXCEPTIONS_BATCH = 5000
# Text fields whose read-back is normalised (whitespace, length) by convert.fields_from_component.
ONE_LINE_FIELDS = ("subject", "location")


# --- Writing out ------------------------------------------------------------------------------------


def calendar_texts(activities: Sequence[Activity]) -> dict[int, str]:
    """Each activity's iCalendar text (a whole VCALENDAR: VERSION, PRODID, the VTIMEZONEs it uses, the
    VEVENT/VTODO and one override per moved occurrence, EXDATE for cancelled ones), by activity pk.

    Deterministic (DTSTAMP is the activity's updated_at), in at most two queries for up to
    EXCEPTIONS_BATCH recurring activities: their exceptions, and the kinds when an item has a source.
    The activities come with `kind` selected. The UID written is the one the client knows.
    """
    activities = list(activities)
    exceptions = _exceptions_of([activity.pk for activity in activities if activity.rrule])
    kinds = convert.Kinds.load() if any(activity.ical_source for activity in activities) else None
    return {activity.pk: _text(activity, exceptions.get(activity.pk, ()), kinds) for activity in activities}


def _exceptions_of(pks: list[int]) -> dict[int, list[ActivityException]]:
    found: dict[int, list[ActivityException]] = defaultdict(list)
    for start in range(0, len(pks), EXCEPTIONS_BATCH):
        for exception in (ActivityException.objects.filter(activity_id__in=pks[start:start + EXCEPTIONS_BATCH])
                          .order_by("activity_id", "original_start")):
            found[exception.activity_id].append(exception)
    return found


@functools.cache
def _header() -> bytes:
    # No METHOD: RFC 4791 4.1 forbids it in a calendar object resource (it is for invitations).
    calendar = Calendar()
    calendar.add("prodid", convert.PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    text = calendar.to_ical()
    return text[: text.rindex(b"END:VCALENDAR")]


def _text(activity: Activity, exceptions: Iterable[ActivityException], kinds: convert.Kinds | None) -> str:
    stamp = activity.updated_at
    components = feed.activity_components(activity, exceptions, now=stamp, kinds=kinds)
    uid = client_uid(activity)
    if uid != activity.uid:
        for component in components:
            component.pop("UID", None)
            component.add("uid", uid)
    chunks = [_header()]
    for zone_name, first in sorted(feed._zones([activity]).items()):
        # The years covered follow the record (its start, its last change), never today's date.
        chunks.append(feed._vtimezone(zone_name, first.year, stamp.year + feed.ZONE_YEARS_AHEAD))
    chunks.extend(component.to_ical() for component in components)
    chunks.append(b"END:VCALENDAR\r\n")
    return b"".join(chunks).decode("utf-8")


def _top_level(text: str) -> Iterable[tuple[str, str, str]]:
    """(component, property name, raw value) of each property directly inside a VEVENT or VTODO
    (not inside its VALARMs) of a run of components as written."""
    stack: list[str] = []
    for _number, line, _physical in importer._logical_lines(text):
        name, _sep, value = line.partition(":")
        keyword = name.split(";", 1)[0].strip().upper()
        if keyword == "BEGIN":
            stack.append(value.strip().upper())
        elif keyword == "END":
            if stack:
                stack.pop()
        elif stack and stack[-1] in ("VEVENT", "VTODO") and stack.count("VEVENT") + stack.count("VTODO") == 1:
            yield stack[-1], keyword, value


def client_uid(activity: Activity) -> str:
    """The UID the client knows the activity by: its source's, where it is stored under a derived
    (or, for a very long UID, digested) one; else its own."""
    if activity.ical_source:
        for _component, name, value in _top_level(activity.ical_source):
            if name == "UID" and value.strip():
                return str(vText.from_ical(value.strip()))
    return activity.uid


def stored_uids(uid: str, user: User) -> list[str]:
    """The uids an item with this client UID may be stored under for this user (the UID itself, and
    the derived one): the plugin uses it to find an item by UID within a user's collection."""
    stored = importer._stored_uid(uid)
    return [stored, importer.derived_uid(stored, user)]


# --- Reading in -------------------------------------------------------------------------------------


def _refusal(exc: ValidationError) -> DavRefusal:
    if hasattr(exc, "error_dict") and set(exc.error_dict) == {"file"}:
        return DavRefusal(400, " ".join(exc.message_dict["file"]))
    return DavRefusal(400, importer._message(exc))


def _read(text: str, component: str, actor: User, kinds: convert.Kinds) -> importer.Series:
    """The one item (a series: the master and its overrides) of a client's text, or a DavRefusal."""
    raw = importer.split_components(text)
    names = {part.name for part in raw if part.name in ITEM_NAMES}
    others = names - {component}
    if others or not names:
        found = ", ".join(sorted(others)) or _("no VEVENT or VTODO")
        raise DavRefusal(403, _("This %(collection)s holds %(wanted)s items only; the item holds %(found)s.")
                         % {"collection": COLLECTION_OF[component], "wanted": component, "found": found})
    for part in raw:
        if part.name == component and not any(name == "UID" and value.strip()
                                              for _c, name, value in _top_level(part.text)):
            raise DavRefusal(400, _("UID is missing: every %(name)s needs one (line %(line)d).")
                             % {"name": component, "line": part.line})
        if part.name == component:
            present = {name for _c, name, _v in _top_level(part.text)}
            extra = sorted(present & {"RDATE", "EXRULE"})
            if extra:
                raise DavRefusal(400, _("%(names)s is not supported: Rapport keeps one RRULE per item, with "
                                        "EXDATE and RECURRENCE-ID for changed occurrences.")
                                 % {"names": " and ".join(extra)})
    # An undated to-do (Thunderbird, tasks.org and phones make them): Rapport's tasks are due on a day, so
    # it is due today, where the user's task list shows it; a replace keeps the day it has (_replace).
    today = timezone.localdate(timezone=convert.zone(actor.time_zone or "UTC"))
    entries = importer.read_entries(text, home_zone=actor.time_zone or "UTC", kinds=kinds, notes=[],
                                    undated_due=today)
    all_series = importer._series(entries)
    if len(all_series) > 1:
        raise DavRefusal(400, _("The item holds several UIDs (%(uids)s); each must be an item of its own.")
                         % {"uids": ", ".join(series.uid[:60] for series in all_series[:5])})
    [series] = all_series
    master = series.master
    if master is None:
        raise DavRefusal(400, _("The item holds only changed occurrences (RECURRENCE-ID) and not the %(name)s "
                                "they belong to.") % {"name": component})
    if master.skip:
        raise DavRefusal(400, _("%(name)s cannot be stored: %(reason)s.") % {"name": component,
                                                                             "reason": master.skip})
    if component == "VTODO":
        master.data["status"] = _task_status(master)
    return series


def _undated(series: importer.Series) -> bool:
    """Whether the item's to-do gives no day at all (neither DUE nor DTSTART)."""
    assert series.master is not None
    return series.master.name == "VTODO" and not {name for _c, name, _v in _top_level(series.master.text)} & {
        "DUE", "DTSTART"}


def _task_status(master: importer.Entry) -> str:
    """A task's status: STATUS where it is given, else done when COMPLETED or PERCENT-COMPLETE:100 say so
    (clients that mark completion without STATUS)."""
    given: dict[str, str] = {}
    for _component, name, value in _top_level(master.text):
        given.setdefault(name, value.strip())
    status = master.data.get("status", ActivityStatus.OPEN)
    if given.get(convert.STATUS_PROPERTY) or given.get("STATUS"):
        return status
    if "COMPLETED" in given or given.get("PERCENT-COMPLETE") == "100":
        return ActivityStatus.COMPLETED
    return status


def _names_a_kind(text: str, kinds: convert.Kinds) -> bool:
    """Whether the item names one of Rapport's kinds (X-RAPPORT-KIND, or a category with a kind's name)."""
    for _component, name, value in _top_level(text):
        if name == convert.KIND_PROPERTY:
            kind = kinds.by_key.get(value.strip().lower())
            if kind is not None and kind.is_active:
                return True
        elif name == "CATEGORIES":
            categories = (part.replace("\\,", ",").strip() for part in re.split(r"(?<!\\),", value))
            if any(category.casefold() in kinds.by_name for category in categories):
                return True
    return False


def _same_rule(activity: Activity, rule: str, *, time_zone: str, all_day: bool) -> bool:
    """Whether a rule read back is the stored one: the same parts, whatever their order (icalendar
    writes them in its own order) and however UNTIL is written."""
    if not rule or not activity.rrule:
        return not rule and not activity.rrule
    try:
        normal = recurrence.normalise_rule(rule)
    except ValidationError:
        return False
    def parts(text: str) -> frozenset[str]:
        return frozenset(convert.export_rule(text, time_zone=time_zone, all_day=all_day).split(";"))
    return parts(normal) == parts(activity.rrule)


def _changes(activity: Activity, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of `data` that differ from the activity, compared as the text can say them."""
    changed: dict[str, Any] = {}
    all_day = bool(data.get("all_day", activity.all_day)) or activity.is_task
    time_zone = data.get("time_zone", activity.time_zone)
    for name, value in data.items():
        if name == "due_on":
            same = activity.due_on == value
        elif name == "kind":
            same = activity.kind_id == value.pk
        elif name in ONE_LINE_FIELDS:
            limit = convert.SUBJECT_MAX if name == "subject" else convert.LOCATION_MAX
            same = convert.clip(" ".join(getattr(activity, name).split()), limit) == value
        elif name == "description":
            same = activity.description.strip() == value
        elif name == "rrule":
            same = _same_rule(activity, value, time_zone=time_zone, all_day=all_day)
        else:
            same = getattr(activity, name) == value
        if not same:
            changed[name] = value
    return changed


def _wanted_exceptions(activity: Activity, series: importer.Series
                       ) -> dict[dt.datetime, tuple[dt.datetime, dt.datetime] | None]:
    """The moved (new start, end) and cancelled (None) occurrences the text gives, by original start."""
    master = series.master
    assert master is not None
    if not activity.rrule:
        if series.overrides:
            raise DavRefusal(400, _("RECURRENCE-ID: the item has changed occurrences but does not repeat "
                                    "(no RRULE)."))
        return {}
    wanted: dict[dt.datetime, tuple[dt.datetime, dt.datetime] | None] = {}
    duration = activity.ends_at - activity.starts_at
    for start in master.exdates:
        if recurrence.occurs_at(activity, start):  # RFC 5545: an EXDATE the rule does not give is ignored
            wanted[start] = None
    for override in series.overrides:
        assert override.recurrence_id is not None
        if not recurrence.occurs_at(activity, override.recurrence_id):
            # Kept, it would vanish from the next text the client reads: refused rather than lost.
            raise DavRefusal(400, _("RECURRENCE-ID %(start)s is not an occurrence of the item's RRULE.")
                             % {"start": override.recurrence_id.strftime("%Y%m%dT%H%M%SZ")})
        if override.cancelled or override.moved is None:
            wanted[override.recurrence_id] = None
        else:
            starts_at, ends_at = override.moved
            wanted[override.recurrence_id] = (starts_at, ends_at or starts_at + duration)
    return wanted


def _exceptions_differ(activity: Activity, wanted: dict[dt.datetime, Any]) -> bool:
    have = {exc.original_start: None if exc.cancelled else (exc.starts_at, exc.ends_at)
            for exc in ActivityException.objects.filter(activity=activity)}
    return have != wanted


def _apply_exceptions(actor: User, activity: Activity, series: importer.Series) -> Activity:
    """Make the activity's moved and cancelled occurrences exactly those of the text (services for the
    moves and skips; an occurrence the text no longer changes goes back to the rule)."""
    activity, existing = importer.apply_wanted_occurrences(actor=actor, activity=activity,
                                                           wanted=_wanted_exceptions(activity, series))
    if existing:
        # Unlike an .ics import (which cannot tell "unchanged" from "left out"), a client's PUT is the
        # whole item: an occurrence it no longer moves or cancels is back where the rule puts it.
        ActivityException.objects.filter(pk__in=[exc.pk for exc in existing.values()]).delete()
        restored = ", ".join(original.isoformat() for original in sorted(existing))
        activity = services._bump(actor, activity, activity.version,
                                  _("occurrences back to the rule: %(starts)s") % {"starts": restored})
    return activity


def calendar_put(*, actor: User, text: str, component: str, activity: Activity | None, href: str) -> Activity:
    """Create (activity is None) or replace `activity` from a client's iCalendar text for one item.

    `component` is "VEVENT" (calendar collection) or "VTODO" (tasks collection). Refusals are
    DavRefusal: 403 for the other component or a right the actor lacks, 400 for malformed text
    (naming the property), 409 for a UID already used elsewhere, 412 for a version changed meanwhile;
    nothing is written then. Replacing runs through activity_update with the activity's version, so
    rights and history apply; a text that changes nothing Rapport keeps leaves the version alone.
    """
    if component not in COLLECTION_OF:
        raise ValueError(f"component must be VEVENT or VTODO, not {component!r}")
    try:
        with transaction.atomic():
            kinds = convert.Kinds.load()
            series = _read(text, component, actor, kinds)
            if activity is None:
                return _create(actor, series, href)
            return _replace(actor, series, activity, text, kinds)
    except ValidationError as exc:
        raise _refusal(exc) from None
    except PermissionDenied as exc:
        raise DavRefusal(403, str(exc) or _("You may not change this activity.")) from None
    except StaleVersion as exc:
        raise DavRefusal(412, str(exc)) from None


def _create(actor: User, series: importer.Series, href: str) -> Activity:
    assert series.master is not None
    uid, derived = stored_uids(series.uid, actor)
    for candidate in (uid, derived):
        release_deleted_uid(Activity, candidate)
    taken = dict(Activity.objects.filter(uid__in=[uid, derived]).values_list("uid", "owner_id"))
    if uid in taken:
        if taken[uid] == actor.pk:
            # The plugin found no item of this UID in the collection: the activity is in the user's
            # other collection or no longer assigned to them.
            raise DavRefusal(409, _("UID %(uid)s is already one of your activities, outside this "
                                    "collection.") % {"uid": series.uid[:80]})
        # Two people sync the same invitation: the second copy is stored under a UID of its own.
        uid = derived
        if uid in taken:
            raise DavRefusal(409, _("UID %(uid)s is already one of your activities, outside this "
                                    "collection.") % {"uid": series.uid[:80]})
    data = {**series.master.data, "uid": uid, "ical_source": series.text,
            "dav_name": dav_name_for(uid, href, EXTENSION)}
    activity = services.activity_create(actor=actor, data=data)
    return _apply_exceptions(actor, activity, series)


def _replace(actor: User, series: importer.Series, activity: Activity, text: str,
             kinds: convert.Kinds) -> Activity:
    assert series.master is not None
    if series.uid not in (activity.uid, importer._stored_uid(client_uid(activity))):
        raise DavRefusal(409, _("UID %(uid)s is not this item's UID (%(own)s); a UID cannot change.")
                         % {"uid": series.uid[:80], "own": client_uid(activity)[:80]})
    if activity.is_task != (series.master.name == "VTODO"):
        raise DavRefusal(403, _("This item is a %(kind)s; it cannot become a %(name)s.")
                         % {"kind": activity.get_activity_type_display(), "name": series.master.name})
    data = dict(series.master.data)
    data.pop("activity_type", None)
    if _undated(series):
        data.pop("due_on", None)
    if not _names_a_kind(series.master.text, kinds):
        data.pop("kind", None)  # a client that drops Rapport's category does not turn a call into a meeting
    if data.get("all_day") or activity.is_task:
        data.pop("time_zone", None)  # all-day items keep theirs: it plays no part in their dates
    changes = _changes(activity, data)
    if not changes and not _exceptions_differ(activity, _wanted_exceptions(activity, series)):
        if activity.ical_source == series.text:
            return activity
        if _normal(text) == _normal(calendar_texts([activity])[activity.pk]):
            return activity  # the text Rapport wrote, sent back untouched: nothing new to keep
    if set(changes) == {"status"}:
        # A status alone goes through the status rule, which lets an assignee complete a task they do not
        # own; the source is bookkeeping of that same change (the version moved with it).
        activity = services.activity_update(actor=actor, activity=activity, data=changes, version=activity.version)
        if activity.ical_source != series.text:
            Activity.objects.filter(pk=activity.pk).update(ical_source=series.text)
            activity.ical_source = series.text
    elif changes or activity.ical_source != series.text:
        changes["ical_source"] = series.text
        activity = services.activity_update(actor=actor, activity=activity, data=changes, version=activity.version)
    return _apply_exceptions(actor, activity, series)


def _normal(text: str) -> str:
    return "\r\n".join(line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line)
