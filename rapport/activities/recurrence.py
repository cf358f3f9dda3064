"""Recurrence rules (RFC 5545 RRULE): checking them, and expanding occurrences in a range.

A rule is expanded in the activity's own time zone on wall-clock times and
each occurrence then converted to UTC, so a weekly 09:00 meeting in Berlin is
at 09:00 Berlin time in winter and summer alike. A wall-clock time that does
not exist on a day (inside a daylight-saving gap) moves forward by the gap, as
RFC 5545 says.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dateutil import rrule as du_rrule
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
KNOWN_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS",
                         "WKST", "BYYEARDAY", "BYWEEKNO"})
MAX_COUNT = 5000
# Occurrences of one activity in one range at the most: a daily rule over ten years stops here.
MAX_OCCURRENCES = 1500
# Numbered rule parts: (lowest, highest, whether negative values count from the end).
NUMBER_PARTS = {"BYMONTH": (1, 12, False), "BYMONTHDAY": (1, 31, True), "BYYEARDAY": (1, 366, True),
                "BYWEEKNO": (1, 53, True), "BYSETPOS": (1, 366, True)}
WEEKDAY = re.compile(r"(?:[+-]?(\d{1,2}))?(MO|TU|WE|TH|FR|SA|SU)")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February as in a leap year


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an activity in a range: its start and end (UTC) and, for a recurrence,
    the start the rule gave it (the RECURRENCE-ID that identifies it)."""

    activity: Any
    starts_at: dt.datetime
    ends_at: dt.datetime
    original_start: dt.datetime | None = None
    moved: bool = False

    @property
    def utc_day(self) -> dt.date:
        """The date of an all-day occurrence (stored as a UTC midnight)."""
        return self.starts_at.astimezone(dt.UTC).date()

    @property
    def key(self) -> str:
        """An id for this occurrence in URLs: the activity's id and, if recurring, its original start."""
        suffix = f"@{self.original_start.strftime('%Y%m%dT%H%M%SZ')}" if self.original_start else ""
        return f"{self.activity.public_id}{suffix}"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name or "UTC")


def _local_naive(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _to_utc(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def _parts(text: str) -> list[tuple[str, str]]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts = []
    for chunk in body.split(";"):
        if not chunk.strip():
            continue
        name, sep, value = chunk.partition("=")
        if not sep or not value.strip():
            raise ValidationError({"rrule": [_("“%(part)s” is not NAME=VALUE.") % {"part": chunk.strip()[:40]}]})
        parts.append((name.strip().upper(), value.strip().upper()))
    return parts


def _parse_until(value: str, zone: zoneinfo.ZoneInfo, all_day: bool) -> dt.datetime:
    """UNTIL as a naive local time: a UTC time converted, a date taken as the end of that day."""
    try:
        if "T" not in value:
            day = dt.datetime.strptime(value, "%Y%m%d")
            return day.replace(hour=23, minute=59, second=59)
        if value.endswith("Z"):
            moment = dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            return _local_naive(moment, zone)
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError:
        raise ValidationError({"rrule": [_("UNTIL must be a date (20271231) or a UTC time (20271231T235959Z).")]}) \
            from None


def normalise_rule(text: str) -> str:
    """The rule in a canonical form (upper case, no "RRULE:" prefix), or a ValidationError naming what is wrong."""
    parts = _parts(text)
    names = [name for name, _value in parts]
    if not parts:
        return ""
    unknown = sorted(set(names) - KNOWN_PARTS)
    if unknown:
        raise ValidationError({"rrule": [_("Unknown rule part %(part)s.") % {"part": unknown[0][:20]}]})
    if len(set(names)) != len(names):
        raise ValidationError({"rrule": [_("A rule part is given twice.")]})
    values = dict(parts)
    if values.get("FREQ") not in FREQUENCIES:
        raise ValidationError({"rrule": [_("FREQ must be one of %(names)s.") % {"names": ", ".join(FREQUENCIES)}]})
    if "COUNT" in values and "UNTIL" in values:
        raise ValidationError({"rrule": [_("Give COUNT or UNTIL, not both.")]})
    if "COUNT" in values and (not values["COUNT"].isdigit() or not 1 <= int(values["COUNT"]) <= MAX_COUNT):
        raise ValidationError({"rrule": [_("COUNT must be a whole number from 1 to %(max)d.") % {"max": MAX_COUNT}]})
    if "INTERVAL" in values and (not values["INTERVAL"].isdigit() or not 1 <= int(values["INTERVAL"]) <= 1000):
        raise ValidationError({"rrule": [_("INTERVAL must be a whole number from 1 to 1000.")]})
    _check_by_parts(values)
    return ";".join(f"{name}={value}" for name, value in parts)


def _numbers(name: str, value: str) -> list[int]:
    low, high, signed = NUMBER_PARTS[name]
    numbers = []
    for item in value.split(","):
        digits = item[1:] if signed and item[:1] in ("+", "-") else item
        if not digits.isdigit() or not low <= int(digits) <= high:
            raise ValidationError({"rrule": [_("%(name)s takes whole numbers from %(low)d to %(high)d.")
                                             % {"name": name, "low": -high if signed else low, "high": high}]})
        numbers.append(-int(digits) if item.startswith("-") else int(digits))
    return numbers


# Rule parts RFC 5545 allows only with some frequencies (BYSETPOS: we allow it where calendar
# programs write it). Elsewhere dateutil accepts them, and a rule they make impossible (the 3rd of
# a one-day set) is searched for an occurrence until the year 9999: many seconds of one request.
ONLY_WITH = {"BYWEEKNO": ("YEARLY",), "BYYEARDAY": ("YEARLY",), "BYSETPOS": ("MONTHLY", "YEARLY"),
             "BYMONTHDAY": ("DAILY", "MONTHLY", "YEARLY")}


def _check_by_parts(values: dict[str, str]) -> None:
    """Refuse BY parts out of range or with a frequency they do not go with, and days that no month
    listed has (the 30th of February): see ONLY_WITH."""
    freq = values["FREQ"]
    for name, frequencies in ONLY_WITH.items():
        if name in values and freq not in frequencies:
            raise ValidationError({"rrule": [_("%(part)s cannot be used with FREQ=%(freq)s.")
                                             % {"part": name, "freq": freq}]})
    numbers = {name: _numbers(name, values[name]) for name in NUMBER_PARTS if name in values}
    if "BYSETPOS" in values:
        if not set(values) & {"BYDAY", "BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO"}:
            raise ValidationError({"rrule": [_("BYSETPOS needs another BY part (such as BYDAY) to choose from.")]})
        if freq == "MONTHLY" and max(abs(n) for n in numbers["BYSETPOS"]) > 31:
            raise ValidationError({"rrule": [_("BYSETPOS takes whole numbers from -31 to 31 with FREQ=MONTHLY.")]})
    if "BYDAY" in values:
        # A numbered weekday (1MO, -1FR) counts within the month, or the year when no month is given.
        in_month = freq == "MONTHLY" or "BYMONTH" in values
        allowed = freq in ("MONTHLY", "YEARLY") and "BYWEEKNO" not in values
        for item in values["BYDAY"].split(","):
            match = WEEKDAY.fullmatch(item)
            number = match.group(1) if match else None
            if match is None or (number is not None and (not allowed or not 1 <= int(number) <= (
                    5 if in_month else 53))):
                raise ValidationError({"rrule": [_("BYDAY takes days such as MO,WE or, monthly, 1MO or -1FR.")]})
    if "BYMONTH" in numbers and "BYMONTHDAY" in numbers:
        longest = max(DAYS_IN_MONTH[month - 1] for month in numbers["BYMONTH"])
        if min(abs(day) for day in numbers["BYMONTHDAY"]) > longest:
            raise ValidationError({"rrule": [
                _("This repeat rule gives no occurrence: those months have no such day.")]})


def _rule(rule_text: str, start_local: dt.datetime, zone: zoneinfo.ZoneInfo, all_day: bool) -> du_rrule.rrule:
    parts = []
    for name, value in _parts(rule_text):
        if name == "UNTIL":
            value = _parse_until(value, zone, all_day).strftime("%Y%m%dT%H%M%S")
        parts.append(f"{name}={value}")
    try:
        return du_rrule.rrulestr(";".join(parts), dtstart=start_local)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValidationError({"rrule": [_("This repeat rule cannot be read: %(reason)s") % {"reason": exc}]}) \
            from None


def check_rule(rule_text: str, *, starts_at: dt.datetime, time_zone: str, all_day: bool) -> None:
    """Raise a ValidationError on the rrule field unless the rule reads and yields an occurrence."""
    zone = dt.UTC if all_day else _zone(time_zone)
    rule = _rule(rule_text, _local_naive(starts_at, zone), zone, all_day)  # type: ignore[arg-type]
    try:
        first = next(iter(rule), None)
    except (ValueError, OverflowError) as exc:
        raise ValidationError({"rrule": [_("This repeat rule cannot be read: %(reason)s") % {"reason": exc}]}) \
            from None
    if first is None:
        raise ValidationError({"rrule": [_("This repeat rule gives no occurrence (UNTIL is before the start?).")]})


def recurrence_end(rule_text: str, *, starts_at: dt.datetime, ends_at: dt.datetime, time_zone: str,
                   all_day: bool) -> dt.datetime | None:
    """When the last occurrence ends (UTC), or None for a rule without COUNT or UNTIL.

    Also None for an UNTIL so far away that the rule gives more than MAX_COUNT occurrences (a daily
    rule until 9999): for range queries it never ends, and it is not walked to its end.
    """
    values = dict(_parts(rule_text))
    if "COUNT" not in values and "UNTIL" not in values:
        return None
    zone: Any = dt.UTC if all_day else _zone(time_zone)
    rule = _rule(rule_text, _local_naive(starts_at, zone), zone, all_day)
    last = None
    for number, last in enumerate(rule, 1):  # noqa: B007 - bounded by COUNT (<= MAX_COUNT) or UNTIL
        if number > MAX_COUNT:
            return None
    if last is None:
        return starts_at
    return _to_utc(last, zone) + (ends_at - starts_at)


def expand(activity: Any, start: dt.datetime, end: dt.datetime, exceptions: Iterable[Any] = ()) -> list[Occurrence]:
    """The occurrences of an activity that overlap [start, end), with moved and skipped ones applied."""
    duration = activity.ends_at - activity.starts_at
    if not activity.rrule:
        if _overlaps(activity.starts_at, activity.ends_at, start, end):
            return [Occurrence(activity, activity.starts_at, activity.ends_at)]
        return []
    exceptions = list(exceptions)
    zone: Any = dt.UTC if activity.all_day else _zone(activity.time_zone)
    by_original = {exc.original_start: exc for exc in exceptions}
    rule = _rule(activity.rrule, _local_naive(activity.starts_at, zone), zone, activity.all_day)
    # Local bounds widened by a day and the duration, then checked exactly in UTC.
    window_start = _local_naive(start - duration, zone) - dt.timedelta(days=1)
    window_end = _local_naive(end, zone) + dt.timedelta(days=1)
    found: list[Occurrence] = []
    for local in rule.xafter(window_start, count=MAX_OCCURRENCES, inc=True):
        if local > window_end:
            break
        original = _to_utc(local, zone)
        exception = by_original.pop(original, None)
        if exception is not None:
            continue  # moved or skipped: handled below
        if _overlaps(original, original + duration, start, end):
            found.append(Occurrence(activity, original, original + duration, original_start=original))
    for exception in exceptions:
        if exception.cancelled or exception.starts_at is None:
            continue
        exc_end = exception.ends_at or exception.starts_at + duration
        if _overlaps(exception.starts_at, exc_end, start, end):
            found.append(Occurrence(activity, exception.starts_at, exc_end, original_start=exception.original_start,
                                    moved=True))
    found.sort(key=lambda occurrence: occurrence.starts_at)
    return found


def _overlaps(starts_at: dt.datetime, ends_at: dt.datetime, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [starts_at, ends_at) meets [start, end); an item without duration (a task) meets
    it when it starts inside."""
    if ends_at == starts_at:
        return start <= starts_at < end
    return starts_at < end and ends_at > start


def occurs_at(activity: Any, original_start: dt.datetime) -> bool:
    """Whether the rule gives an occurrence starting at original_start (UTC)."""
    if not activity.rrule:
        return original_start == activity.starts_at
    zone: Any = dt.UTC if activity.all_day else _zone(activity.time_zone)
    rule = _rule(activity.rrule, _local_naive(activity.starts_at, zone), zone, activity.all_day)
    local = _local_naive(original_start, zone)
    # The rule's wall-clock time is at or before the local time of the occurrence: later by the
    # gap when it fell in a daylight-saving gap (see the module docstring). A day covers any gap.
    candidates = rule.between(local - dt.timedelta(days=1), local, inc=True)
    return any(_to_utc(candidate, zone) == original_start for candidate in candidates)


def local_datetime(day: dt.date, time: dt.time, time_zone: str) -> dt.datetime:
    """A wall-clock time in a zone, as UTC; a ValidationError for a time that does not exist there
    (inside a daylight-saving gap), naming the field `starts_at`."""
    zone = _zone(time_zone)
    local = dt.datetime.combine(day, time)
    aware = local.replace(tzinfo=zone)
    round_trip = aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != local:
        raise ValidationError({"starts_at": [
            _("%(time)s does not exist on %(day)s in %(zone)s (the clocks go forward). Choose another time.")
            % {"time": time.strftime("%H:%M"), "day": day.isoformat(), "zone": time_zone}]})
    return aware.astimezone(dt.UTC)
