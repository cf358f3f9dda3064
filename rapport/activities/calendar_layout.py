"""How a calendar period is drawn: its bounds in the viewer's time zone, the month grid, and
side-by-side columns for overlapping events in the day and week views. Pure functions of the
entries the selectors return; no queries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

VIEWS = ("month", "week", "day")
MONTH_CELL_LIMIT = 4
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Period:
    view: str
    day: dt.date  # the day the user asked for
    first: dt.date  # first day shown
    days: int  # how many days are shown
    zone: zoneinfo.ZoneInfo

    @property
    def last(self) -> dt.date:
        return self.first + dt.timedelta(days=self.days - 1)

    @property
    def start(self) -> dt.datetime:
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        return _midnight(self.first + dt.timedelta(days=self.days), self.zone)

    def shift(self, direction: int) -> dt.date:
        """The day to show for Previous (-1) or Next (+1)."""
        if self.view == "month":
            month = self.day.month - 1 + direction
            return dt.date(self.day.year + month // 12, month % 12 + 1, 1)
        return self.day + dt.timedelta(days=direction * (7 if self.view == "week" else 1))

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(self.days)]


def _midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def period_for(view: str | None, day: str | None, *, zone_name: str, today: dt.date) -> Period:
    """The period a calendar shows: a month grid (whole weeks), a week from Monday, or a day."""
    view = view or "month"
    if view not in VIEWS:
        raise ValidationError({"view": [_("Choose month, week or day.")]})
    try:
        chosen = dt.date.fromisoformat(day) if day else today
    except ValueError:
        raise ValidationError({"date": [_("%(value)s is not a date (YYYY-MM-DD).") % {"value": day[:20]}]}) \
            from None
    if not dt.date(1900, 1, 1) <= chosen <= dt.date(2999, 12, 31):
        raise ValidationError({"date": [_("Choose a date between 1900 and 2999.")]})
    zone = zoneinfo.ZoneInfo(zone_name or "UTC")
    if view == "month":
        first_of_month = chosen.replace(day=1)
        first = first_of_month - dt.timedelta(days=first_of_month.weekday())
        next_month = (first_of_month + dt.timedelta(days=32)).replace(day=1)
        last = next_month - dt.timedelta(days=1)
        last = last + dt.timedelta(days=6 - last.weekday())
        return Period(view, chosen, first, (last - first).days + 1, zone)
    if view == "week":
        return Period(view, chosen, chosen - dt.timedelta(days=chosen.weekday()), 7, zone)
    return Period(view, chosen, chosen, 1, zone)


@dataclass
class Placed:
    """An entry drawn in a day: its local times and, for timed entries in day/week views, its box."""

    entry: Any
    start: dt.datetime  # local
    end: dt.datetime  # local
    all_day: bool
    top: float = 0.0  # percent of the day
    height: float = 0.0
    left: float = 0.0  # percent of the column
    width: float = 100.0


@dataclass
class Day:
    date: dt.date
    in_month: bool
    is_today: bool
    all_day: list[Placed] = field(default_factory=list)
    timed: list[Placed] = field(default_factory=list)

    @property
    def entries(self) -> list[Placed]:
        return [*self.all_day, *self.timed]

    @property
    def shown(self) -> list[Placed]:
        return self.entries[:MONTH_CELL_LIMIT]

    @property
    def hidden_count(self) -> int:
        return max(0, len(self.entries) - MONTH_CELL_LIMIT)


def _days_of(period: Period, entry: Any) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    """The first and last date an entry falls on (all-day items by their own dates, timed ones in the
    viewer's zone), and its start and end in that zone."""
    zone = dt.UTC if entry.activity.all_day else period.zone
    start = entry.occurrence.starts_at.astimezone(zone)
    end = entry.occurrence.ends_at.astimezone(zone)
    last_day = (end - dt.timedelta(microseconds=1)).date() if end > start else start.date()
    return start.date(), last_day, start, end


# A calendar asks the selectors for a day more on each side: an all-day item sits at its date's UTC
# midnight, which for a viewer west or east of UTC is outside the local period's bounds.
QUERY_MARGIN = dt.timedelta(days=1)


def in_period(period: Period, entries: Sequence[Any]) -> list[Any]:
    """The entries that fall on a day of the period."""
    return [entry for entry in entries
            if (days := _days_of(period, entry))[0] <= period.last and days[1] >= period.first]


def lay_out(period: Period, entries: Sequence[Any], *, today: dt.date) -> list[Day]:
    """Each shown day with the entries that fall on it; overlapping timed entries side by side."""
    days = {date: Day(date=date, in_month=period.view != "month" or date.month == period.day.month,
                      is_today=date == today) for date in period.dates()}
    for entry in entries:
        all_day = entry.activity.all_day
        first_day, last_day, start, end = _days_of(period, entry)
        day = max(first_day, period.first)
        while day <= min(last_day, period.last):
            target = days[day]
            if all_day:
                target.all_day.append(Placed(entry, start, end, True))
            else:
                day_start = dt.datetime.combine(day, dt.time(0), tzinfo=period.zone)
                box_start = max(start, day_start)
                box_end = min(end, day_start + dt.timedelta(days=1))
                minutes = (box_start - day_start).total_seconds() / 60
                length = max((box_end - box_start).total_seconds() / 60, 20)
                target.timed.append(Placed(entry, start, end, False, top=100 * minutes / MINUTES_PER_DAY,
                                           height=min(100 * length / MINUTES_PER_DAY, 100 - 100 * minutes
                                                      / MINUTES_PER_DAY)))
            day += dt.timedelta(days=1)
    for day_entry in days.values():
        day_entry.all_day.sort(key=lambda p: (p.start, p.entry.activity.subject))
        day_entry.timed.sort(key=lambda p: (p.start, p.end))
        _side_by_side(day_entry.timed)
    return list(days.values())


def _side_by_side(placed: list[Placed]) -> None:
    """Overlapping boxes share the column width: each cluster of overlaps gets as many lanes as it needs."""
    cluster: list[Placed] = []
    lanes: list[float] = []  # bottom edge of each lane
    cluster_bottom = -1.0

    def close() -> None:
        for box in cluster:
            box.width = 100 / len(lanes)
            box.left = box.left * box.width
    for box in placed:
        if cluster and box.top >= cluster_bottom:
            close()
            cluster, lanes = [], []
        lane = next((i for i, bottom in enumerate(lanes) if bottom <= box.top), None)
        if lane is None:
            lanes.append(0.0)
            lane = len(lanes) - 1
        lanes[lane] = box.top + box.height
        box.left = lane  # the lane number until the cluster closes
        cluster.append(box)
        cluster_bottom = max(cluster_bottom, box.top + box.height) if len(cluster) > 1 else box.top + box.height
    if cluster:
        close()


def weeks(days: list[Day]) -> list[list[Day]]:
    return [days[i:i + 7] for i in range(0, len(days), 7)]
