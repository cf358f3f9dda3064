"""Importing an .ics file into the importing user's activities.

`ics_import` is the use case: it reads the whole file first and stores nothing
unless every event and to-do in it can be stored (one transaction). Each
VEVENT becomes an event and each VTODO a task, owned by and assigned to the
importing user, through the activity services (rights, validation, history).
Each keeps its original text in `ical_source`, byte for byte, so what Rapport
does not model (alarms, attendees, X- properties) goes out again in the feed.

Importing the same file again updates the activities by UID instead of adding
them twice, and an unchanged file changes nothing (no new version, no history).
UIDs are unique across Rapport: an item whose UID is another user's activity
(someone imports a colleague's export) is stored under a UID of its own,
derived from the original and the importer, so that a re-import finds it again.

Moved and cancelled occurrences (RECURRENCE-ID components, EXDATE) become the
activity's exceptions through services.occurrence_move / occurrence_skip.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NoReturn

from dateutil import tz as du_tz
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from rapport.activities import recurrence, services
from rapport.activities.ical import convert
from rapport.activities.models import Activity, ActivityAssignee, ActivityException, ActivityType
from rapport.core.access import require
from rapport.core.errors import StaleVersion
from rapport.core.models import Action, User

MAX_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_ERRORS = 20
ENTRY_NAMES = ("VEVENT", "VTODO")
UID_MAX = 200  # longer UIDs are stored as a digest, leaving room for the suffix of a derived UID

# The fields services name in their errors, as a person who knows iCalendar reads them.
FIELD_LABELS = {
    "rrule": "RRULE",
    "starts_at": "DTSTART",
    "ends_at": "DTEND",
    "due_on": "DUE",
    "subject": "SUMMARY",
    "description": "DESCRIPTION",
    "location": "LOCATION",
    "occurrence": "RECURRENCE-ID",
    "time_zone": "TZID",
}


@dataclass
class ImportResult:
    """What an import did: counts of activities, and notes on what was left out and why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _refuse(messages: str | list[str]) -> NoReturn:
    raise ValidationError({"file": messages if isinstance(messages, list) else [messages]})


# --- The file as text: its components exactly as written -------------------------------------------


@dataclass
class RawComponent:
    name: str
    line: int  # where its BEGIN is, counted from 1
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\r\n".join(self.lines) + "\r\n"


_LINE_BREAK = re.compile(r"\r\n|\n|\r")


def _logical_lines(text: str) -> Iterable[tuple[int, str, list[str]]]:
    """(line number, unfolded content line, the physical lines it was written as)."""
    current: tuple[int, list[str]] | None = None
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if line[:1] in (" ", "\t") and current is not None:
            current[1].append(line)
            continue
        if current is not None:
            yield current[0], "".join([current[1][0], *(part[1:] for part in current[1][1:])]), current[1]
        current = (number, [line])
    if current is not None:
        yield current[0], "".join([current[1][0], *(part[1:] for part in current[1][1:])]), current[1]


def split_components(text: str) -> list[RawComponent]:
    """The components directly inside the file's one VCALENDAR, as written, after checking its
    structure (each BEGIN closed by its END), with the line where anything is wrong."""
    stack: list[str] = []
    calendars = 0
    found: list[RawComponent] = []
    current: RawComponent | None = None
    entries = 0
    for number, line, physical in _logical_lines(text):
        name, _sep, value = line.partition(":")
        keyword, what = name.strip().upper(), value.strip().upper()
        if not stack and not line.strip():
            continue
        if not stack and not calendars:
            if keyword == "BEGIN" and what == "VCARD":
                _refuse(_("This is a vCard (address book) file, not a calendar. Choose an .ics file."))
            if (keyword, what) != ("BEGIN", "VCALENDAR"):
                _refuse(_("This is not an iCalendar (.ics) file: it does not start with BEGIN:VCALENDAR."))
        if keyword == "BEGIN":
            if not stack:
                calendars += 1
                if calendars > 1:
                    _refuse(_("Line %(line)d: the file holds more than one calendar; import them one at a time.")
                            % {"line": number})
                if what != "VCALENDAR":
                    _refuse(_("Line %(line)d: BEGIN:%(name)s outside the calendar.") % {"line": number,
                                                                                         "name": what[:30]})
            elif len(stack) == 1:
                current = RawComponent(name=what, line=number)
                if what in ENTRY_NAMES:
                    entries += 1
                    if entries > MAX_ENTRIES:
                        _refuse(_("The file holds more than %(max)s events and to-dos; split it into smaller "
                                  "files.") % {"max": f"{MAX_ENTRIES:,}"})
            stack.append(what)
        elif keyword == "END":
            if not stack or stack[-1] != what:
                _refuse(_("Line %(line)d: END:%(name)s does not close %(open)s.") % {
                    "line": number, "name": what[:30], "open": f"BEGIN:{stack[-1]}" if stack else _("anything")})
            stack.pop()
        elif not stack:
            _refuse(_("Line %(line)d: text after the end of the calendar.") % {"line": number})
        if current is not None:
            current.lines.extend(physical)
            if keyword == "END" and len(stack) == 1:
                found.append(current)
                current = None
    if stack:
        _refuse(_("The file ends before END:%(name)s: it is cut off or malformed.") % {"name": stack[-1][:30]})
    if not calendars:
        _refuse(_("The file is empty."))
    return found


# --- Times ------------------------------------------------------------------------------------------


def _iana(tzid: str) -> str | None:
    """The tz database name a TZID stands for: itself, a Windows name (Outlook), or the end of a path
    ("/mozilla.org/20050126_1/Europe/Berlin"); None if none is known."""
    tail = "/".join(tzid.strip("/").split("/")[-2:])
    for candidate in (tzid, WINDOWS_TO_OLSON.get(tzid), tail, tzid.strip("/").split("/")[-1]):
        if candidate and candidate in _known_zones():
            return candidate
    return None


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # what validate_time_zone accepts; slow to list


class EntryError(Exception):
    """Something wrong with one event or to-do; the message says what, the caller says where."""


@dataclass(frozen=True)
class Moment:
    """A date-time as UTC, and the time zone it was given in (None: a zone Rapport cannot name)."""

    utc: dt.datetime
    zone: str | None


def _moment(prop: Any, *, floating_zone: str, name: str) -> Moment:
    """A DATE-TIME property value as UTC; a time that does not exist in its zone is an error."""
    value = prop.dt
    tzid = str(prop.params.get("TZID", "")) if hasattr(prop, "params") else ""
    tzinfo = value.tzinfo
    zone_name: str | None
    if tzinfo is None:
        if tzid:
            raise EntryError(_("%(name)s names the time zone “%(tzid)s”, which is neither defined in the file "
                               "nor known.") % {"name": name, "tzid": tzid[:60]})
        zone_name, tzinfo = floating_zone, convert.zone(floating_zone)  # a floating time: the importer's
    elif getattr(tzinfo, "key", None):
        zone_name = str(tzinfo.key)  # a zoneinfo zone
    elif value.utcoffset() == dt.timedelta(0) and not tzid:
        zone_name, tzinfo = "UTC", dt.UTC
    else:
        # A VTIMEZONE of the file: Rapport keeps the tz database's zone of that name, if there is one.
        zone_name = _iana(tzid) if tzid else None
        if zone_name is not None:
            tzinfo = convert.zone(zone_name)
    wall = value.replace(tzinfo=None)
    if not du_tz.datetime_exists(wall, tzinfo):
        raise EntryError(_("%(name)s %(time)s does not exist in %(zone)s (the clocks go forward then).") % {
            "name": name, "time": wall.strftime("%Y-%m-%d %H:%M"), "zone": zone_name or tzid})
    return Moment(wall.replace(tzinfo=tzinfo).astimezone(dt.UTC), zone_name)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _instant(prop: Any, *, all_day: bool, floating_zone: str, name: str) -> dt.datetime:
    """An EXDATE or RECURRENCE-ID value as the stored start it names (UTC; a UTC midnight for all-day)."""
    value = prop.dt if hasattr(prop, "dt") else prop
    if all_day:
        return _utc_midnight(value if not isinstance(value, dt.datetime) else value.date())
    if not isinstance(value, dt.datetime):
        return _utc_midnight(value)  # a date beside a timed start: it names no occurrence, and is left out
    return _moment(prop, floating_zone=floating_zone, name=name).utc


def _dates_of(value: Any) -> list[Any]:
    """The single values of a (possibly repeated, possibly multi-valued) EXDATE property."""
    found: list[Any] = []
    for item in value if isinstance(value, list) else [value]:
        for single in getattr(item, "dts", [item]):
            single.params = getattr(single, "params", None) or getattr(item, "params", {})
            found.append(single)
    return found


# --- One event or to-do -----------------------------------------------------------------------------


@dataclass
class Entry:
    """One VEVENT or VTODO of the file, read into what the activity services take."""

    number: int
    line: int
    name: str
    uid: str
    text: str
    recurrence_id: dt.datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    exdates: list[dt.datetime] = field(default_factory=list)
    cancelled: bool = False
    moved: tuple[dt.datetime, dt.datetime | None] | None = None
    skip: str | None = None  # why it is left out, if it is

    @property
    def label(self) -> str:
        noun = _("To-do") if self.name == "VTODO" else _("Event")
        return _("%(noun)s %(number)d (line %(line)d, UID %(uid)s)") % {
            "noun": noun, "number": self.number, "line": self.line, "uid": self.uid[:60]}


def _stored_uid(uid: str) -> str:
    if len(uid) <= UID_MAX:
        return uid
    return "import-" + hashlib.sha256(uid.encode()).hexdigest()[:40]


def _property_errors(component: Any) -> list[str]:
    problems = []
    for sub in component.walk():
        for name, message in sub.errors:
            problems.append(f"{name or _('a line')}: {message}"[:200])
    return problems


def _schedule(component: Any, entry: Entry, *, home_zone: str, undated_due: dt.date | None = None) -> None:
    """The times of a VEVENT or VTODO into entry.data (or entry.moved for a changed occurrence).

    A to-do without a day is due on `undated_due` where one is given, else left out.
    """
    start_prop = component.get("DTSTART")
    if component.name == "VTODO":
        due_prop = component.get("DUE") or start_prop
        if due_prop is not None:
            due = due_prop.dt
            # A due time counts on its own day, in its own zone.
            day = due.date() if isinstance(due, dt.datetime) else due
        elif undated_due is not None:
            day = undated_due
        else:
            entry.skip = _("a to-do without a due date (Rapport's tasks are due on a day)")
            return
        entry.data.update(activity_type=ActivityType.TASK, due_on=day)
        if entry.recurrence_id is not None:
            entry.moved = (_utc_midnight(day), None)
        return
    if start_prop is None:
        raise EntryError(_("an event needs a start (DTSTART)."))
    start, end_prop, duration = start_prop.dt, component.get("DTEND"), component.get("DURATION")
    if not isinstance(start, dt.datetime):  # all day; DTEND is the day after the last
        end_day = start + dt.timedelta(days=1)
        if end_prop is not None:
            end_value = end_prop.dt
            end_day = end_value.date() if isinstance(end_value, dt.datetime) else end_value
        elif duration is not None and isinstance(duration.dt, dt.timedelta):
            end_day = start + dt.timedelta(days=max(1, duration.dt.days))
        starts_at, ends_at = _utc_midnight(start), _utc_midnight(max(end_day, start + dt.timedelta(days=1)))
        entry.data.update(activity_type=ActivityType.EVENT, all_day=True, starts_at=starts_at, ends_at=ends_at)
        if entry.recurrence_id is not None:
            entry.moved = (starts_at, ends_at)
        return
    begin = _moment(start_prop, floating_zone=home_zone, name="DTSTART")
    ends_at = begin.utc
    if end_prop is not None:
        if not isinstance(end_prop.dt, dt.datetime):
            raise EntryError(_("DTEND is a date but DTSTART a date and time."))
        ends_at = _moment(end_prop, floating_zone=begin.zone or home_zone, name="DTEND").utc
    elif duration is not None and isinstance(duration.dt, dt.timedelta):
        ends_at = begin.utc + duration.dt
    if ends_at < begin.utc:
        raise EntryError(_("it ends (DTEND) before it starts (DTSTART)."))
    entry.data.update(activity_type=ActivityType.EVENT, all_day=False, starts_at=begin.utc, ends_at=ends_at,
                      time_zone=begin.zone or home_zone)
    if begin.zone is None and component.get("RRULE") is not None:
        raise EntryError(_("a repeating event in the time zone “%(tzid)s”, which Rapport does not know; "
                           "use a tz database name such as Europe/Berlin.")
                         % {"tzid": str(start_prop.params.get("TZID", ""))[:60]})
    if entry.recurrence_id is not None:
        entry.moved = (begin.utc, ends_at if end_prop is not None or duration is not None else None)


def _read_entry(component: Any, raw: RawComponent, number: int, *, home_zone: str, kinds: convert.Kinds,
                undated_due: dt.date | None,
                notes: list[str]) -> Entry:
    uid = convert.text_value(component, "UID").strip()
    if not uid:  # RFC 5545 requires one; a digest of the text finds the same item on a second import
        uid = "import-" + hashlib.sha256(raw.text.encode()).hexdigest()[:40]
    entry = Entry(number=number, line=raw.line, name=component.name, uid=_stored_uid(uid), text=raw.text)
    problems = _property_errors(component)
    if problems:
        raise EntryError("; ".join(problems[:3]))
    all_day = component.name == "VTODO" or not isinstance(getattr(component.get("DTSTART"), "dt", None),
                                                            dt.datetime)
    recurrence_id = component.get("RECURRENCE-ID")
    if recurrence_id is not None:
        entry.recurrence_id = _instant(recurrence_id, all_day=all_day, floating_zone=home_zone,
                                       name="RECURRENCE-ID")
        entry.cancelled = convert.text_value(component, "STATUS").strip().upper() == "CANCELLED"
    _schedule(component, entry, home_zone=home_zone, undated_due=undated_due)
    if entry.skip or recurrence_id is not None:
        return entry
    fields = convert.fields_from_component(component, kinds)
    visibility = fields.pop("visibility")
    if visibility is not None:
        fields["visibility"] = visibility
    entry.data.update(fields)
    rule = component.get("RRULE")
    if isinstance(rule, list):
        raise EntryError(_("more than one RRULE; Rapport keeps one rule per activity."))
    entry.data["rrule"] = rule.to_ical().decode() if rule is not None else ""
    if component.get("RDATE") is not None or component.get("EXRULE") is not None:
        notes.append(_("%(entry)s: its extra dates (RDATE, EXRULE) were left out; Rapport keeps one rule.")
                     % {"entry": entry.label})
    zone = entry.data.get("time_zone") or home_zone
    exdate = component.get("EXDATE")
    if exdate is not None:
        entry.exdates = [_instant(value, all_day=all_day, floating_zone=zone, name="EXDATE")
                         for value in _dates_of(exdate)]
    return entry


def read_entries(text: str, *, home_zone: str, kinds: convert.Kinds, notes: list[str],
                 undated_due: dt.date | None = None) -> list[Entry]:
    """Every VEVENT and VTODO of the file, or a ValidationError on `file` naming each that is wrong.

    A to-do that gives no day is left out, or due on `undated_due` where one is given.
    """
    raw_components = split_components(text)
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        _refuse(_("The file is not valid iCalendar: %(reason)s") % {"reason": str(exc)[:200]})
    problems = [f"{name or _('a line')}: {message}"[:200] for name, message in calendar.errors]
    if problems:
        _refuse(_("The calendar itself is malformed: %(problems)s") % {"problems": "; ".join(problems[:3])})
    components = list(calendar.subcomponents)
    same_shape = [c.name for c in components] == [r.name for r in raw_components]
    entries: list[Entry] = []
    errors: list[str] = []
    others = 0
    number = 0
    for index, component in enumerate(components):
        if component.name not in ENTRY_NAMES:
            others += component.name != "VTIMEZONE"
            continue
        number += 1
        raw = raw_components[index] if same_shape else RawComponent(component.name, 0, [
            component.to_ical().decode().rstrip("\r\n")])
        try:
            entries.append(_read_entry(component, raw, number, home_zone=home_zone, kinds=kinds, notes=notes,
                                       undated_due=undated_due))
        except EntryError as exc:
            label = Entry(number=number, line=raw.line, name=component.name,
                          uid=convert.text_value(component, "UID").strip() or "?", text="").label
            errors.append(f"{label}: {exc}")
    if errors:
        _refuse(_capped(errors))
    if others:
        notes.append(ngettext("%(n)d item that is neither an event nor a to-do (a journal entry, free/busy) "
                              "was left out.",
                              "%(n)d items that are neither events nor to-dos (journal entries, free/busy) "
                              "were left out.", others) % {"n": others})
    if not entries:
        _refuse(_("The file holds no events or to-dos."))
    return entries


def _capped(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], _("… and %(n)d more.") % {"n": len(errors) - MAX_ERRORS}]


# --- Storing ----------------------------------------------------------------------------------------


@dataclass
class Series:
    """The entries of one UID: the item itself (absent for a file of changed occurrences only) and
    its changed occurrences."""

    uid: str
    master: Entry | None = None
    overrides: list[Entry] = field(default_factory=list)

    @property
    def first(self) -> Entry:
        return self.master or self.overrides[0]

    @property
    def text(self) -> str:
        return "".join(entry.text for entry in ([self.master] if self.master else []) + self.overrides)


def _series(entries: list[Entry]) -> list[Series]:
    by_uid: dict[str, Series] = {}
    errors = []
    for entry in entries:
        series = by_uid.setdefault(entry.uid, Series(uid=entry.uid))
        if entry.recurrence_id is None:
            if series.master is not None:
                errors.append(_("%(entry)s: the same UID as %(other)s.") % {
                    "entry": entry.label, "other": series.master.label})
            series.master = entry
        else:
            if any(o.recurrence_id == entry.recurrence_id for o in series.overrides):
                errors.append(_("%(entry)s: the same occurrence (RECURRENCE-ID) is changed twice.")
                              % {"entry": entry.label})
            series.overrides.append(entry)
    if errors:
        _refuse(_capped(errors))
    for series in by_uid.values():
        if series.master is not None and series.overrides and series.master.name != series.overrides[0].name:
            _refuse(_("%(entry)s: an event and a to-do share this UID.") % {"entry": series.overrides[0].label})
    return list(by_uid.values())


def derived_uid(uid: str, user: User) -> str:
    """The UID an item gets when its own is another user's activity: the same for every re-import."""
    return f"{uid}:{user.public_id}"


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{FIELD_LABELS.get(name, name)}: {' '.join(messages)}"
                         for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


WantedOccurrences = dict[dt.datetime, tuple[dt.datetime, dt.datetime] | None]


def apply_wanted_occurrences(*, actor: User, activity: Activity, wanted: WantedOccurrences,
                             ) -> tuple[Activity, dict[dt.datetime, ActivityException]]:
    """Skip (None) or move (to start, end) the occurrences in `wanted`, by their rule start, through the
    services; return the activity and its other exceptions, which the caller decides about."""
    existing = {exc.original_start: exc for exc in ActivityException.objects.filter(activity=activity)}
    for original, want in wanted.items():
        have = existing.pop(original, None)
        if want is None:
            if have is None or not have.cancelled:
                activity = services.occurrence_skip(actor=actor, activity=activity, original_start=original,
                                                    version=activity.version)
        elif have is None or have.cancelled or (have.starts_at, have.ends_at) != want:
            activity = services.occurrence_move(actor=actor, activity=activity, original_start=original,
                                                starts_at=want[0], ends_at=want[1], version=activity.version)
    return activity, existing


def _apply_occurrences(*, actor: User, activity: Activity, series: Series, notes: list[str]) -> Activity:
    """Make the activity's skipped and moved occurrences those of the file (through the services)."""
    wanted: WantedOccurrences = {}
    duration = activity.ends_at - activity.starts_at
    entries_of_rule = ([series.master] if series.master else []) + series.overrides
    if not activity.rrule:
        if series.overrides or (series.master and series.master.exdates):
            notes.append(_("%(entry)s: changed occurrences of an item that does not repeat were left out.")
                         % {"entry": entries_of_rule[0].label})
        return activity
    for start in series.master.exdates if series.master else []:
        if recurrence.occurs_at(activity, start):  # RFC 5545: an EXDATE the rule does not give is ignored
            wanted[start] = None
    for override in series.overrides:
        assert override.recurrence_id is not None
        if not recurrence.occurs_at(activity, override.recurrence_id):
            notes.append(_("%(entry)s: the series has no occurrence at %(start)s; left out.") % {
                "entry": override.label, "start": override.recurrence_id.isoformat()})
            continue
        if override.cancelled or override.moved is None:
            wanted[override.recurrence_id] = None
        else:
            starts_at, ends_at = override.moved
            wanted[override.recurrence_id] = (starts_at, ends_at or starts_at + duration)
    activity, existing = apply_wanted_occurrences(actor=actor, activity=activity, wanted=wanted)
    if series.master is None:
        return activity  # only some occurrences were in the file: the others stay as they are
    for original, have in existing.items():
        # Changed in Rapport, as the rule gives it in the file: back to the rule's time.
        if have.cancelled or have.starts_at != original or have.ends_at != original + duration:
            activity = services.occurrence_move(actor=actor, activity=activity, original_start=original,
                                                starts_at=original, ends_at=original + duration,
                                                version=activity.version)
    return activity


@dataclass
class _Targets:
    """Activities already in Rapport under the file's UIDs (and their derived UIDs)."""

    by_uid: dict[str, Activity]
    on_my_calendar: set[int]


def _targets(actor: User, series: list[Series]) -> _Targets:
    uids = [s.uid for s in series] + [derived_uid(s.uid, actor) for s in series]
    found: dict[str, Activity] = {}
    for start in range(0, len(uids), 500):  # modest IN lists on every database
        for activity in Activity.objects.filter(uid__in=uids[start:start + 500]).select_related("kind"):
            found[activity.uid] = activity
    others = [a.pk for a in found.values() if a.owner_id != actor.pk]
    mine = set(ActivityAssignee.objects.filter(user_id=actor.pk, activity_id__in=others)
               .values_list("activity_id", flat=True)) if others else set()
    return _Targets(by_uid=found, on_my_calendar=mine)


def _store(*, actor: User, series: Series, targets: _Targets, result: ImportResult) -> None:
    uid = series.uid
    existing = targets.by_uid.get(uid)
    if existing is not None and existing.owner_id != actor.pk:
        if existing.pk in targets.on_my_calendar and existing.deleted_at is None:
            result.notes.append(_("%(entry)s: already on your calendar (%(subject)s); left as it is.")
                                % {"entry": series.first.label, "subject": existing.subject[:60]})
            return
        uid = derived_uid(uid, actor)
        existing = targets.by_uid.get(uid)
        if existing is not None and existing.owner_id != actor.pk:
            existing = None  # cannot happen: a derived UID carries the importer's id
    if existing is not None and existing.deleted_at is not None:
        result.notes.append(_("%(entry)s: you deleted this activity in Rapport; it was not brought back.")
                            % {"entry": series.first.label})
        return
    master = series.master
    if master is None:
        if existing is None or not existing.rrule:
            result.notes.append(_("%(entry)s: a changed occurrence of a series that is neither in the file nor "
                                  "in Rapport; left out.") % {"entry": series.first.label})
            return
        before = existing.version
        activity = _apply_occurrences(actor=actor, activity=existing, series=series, notes=result.notes)
        result.updated += activity.version != before
        result.unchanged += activity.version == before
        return
    if master.skip:
        result.notes.append(_("%(entry)s: %(reason)s; left out.") % {"entry": master.label, "reason": master.skip})
        return
    data = {**master.data, "ical_source": series.text}
    if existing is None:
        activity = services.activity_create(actor=actor, data={**data, "uid": uid})
        _apply_occurrences(actor=actor, activity=activity, series=series, notes=result.notes)
        result.created += 1
        return
    if data.get("all_day") or data.get("activity_type") == ActivityType.TASK:
        data.pop("time_zone", None)  # all-day items keep theirs: it plays no part in their dates
    before = existing.version
    activity = services.activity_update(actor=actor, activity=existing, data=data, version=existing.version)
    activity = _apply_occurrences(actor=actor, activity=activity, series=series, notes=result.notes)
    if activity.version != before:
        result.updated += 1
    else:
        result.unchanged += 1


def _decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        _refuse(_("The file is larger than %(max)s; split it into smaller files.") % {"max": "2 MB"})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(_("This is not an iCalendar (.ics) file: it is not UTF-8 text."))
    if "\x00" in text:
        _refuse(_("This is not an iCalendar (.ics) file: it holds binary data."))
    return text


@transaction.atomic
def ics_import(*, actor: User, content: bytes | BinaryIO | None) -> ImportResult:
    """Import an .ics file (its bytes, or an open file such as an upload) into the actor's activities:
    all of it or, on any error, nothing.

    Raises ValidationError({"file": [...]}) naming each event or to-do that cannot be stored (its
    number, line and UID), PermissionDenied if the actor may not create activities.
    """
    require(actor, Activity.record_type, Action.CREATE)
    if content is not None and not isinstance(content, bytes):
        content = content.read(MAX_BYTES + 1)  # no more than it takes to tell that it is too large
    if not content:
        _refuse(_("Choose an .ics file to import."))
    text = _decode(content)
    result = ImportResult()
    kinds = convert.Kinds.load()
    entries = read_entries(text, home_zone=actor.time_zone or "UTC", kinds=kinds, notes=result.notes)
    all_series = _series(entries)
    targets = _targets(actor, all_series)
    errors: list[str] = []
    for series in all_series:
        try:
            _store(actor=actor, series=series, targets=targets, result=result)
        except ValidationError as exc:
            errors.append(f"{series.first.label}: {_message(exc)}")
        except StaleVersion:
            errors.append(_("%(entry)s: the activity was changed meanwhile; import the file again.")
                          % {"entry": series.first.label})
    if errors:
        _refuse(_capped(errors))  # the transaction is rolled back: nothing of the file is kept
    return result
