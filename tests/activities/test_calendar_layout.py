"""How a calendar period is drawn: its bounds, the month grid, entries on each day, overlapping events side
by side. Pure functions: no database."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from rapport.activities.calendar_layout import MONTH_CELL_LIMIT, lay_out, period_for, weeks

TODAY = dt.date(2027, 3, 10)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def entry(subject: str, starts_at: dt.datetime, ends_at: dt.datetime, *, all_day: bool = False) -> SimpleNamespace:
    """What selectors.calendar returns, as far as the layout reads it."""
    activity = SimpleNamespace(subject=subject, all_day=all_day)
    return SimpleNamespace(activity=activity, occurrence=SimpleNamespace(starts_at=starts_at, ends_at=ends_at))


def period(view: str = "week", day: str = "2027-03-10", zone: str = "UTC"):
    return period_for(view, day, zone_name=zone, today=TODAY)


def day_of(days, date: dt.date):
    return next(d for d in days if d.date == date)


def boxes(day) -> dict[str, tuple[float, float]]:
    """Each timed entry of a day: (left, width) in percent of the column."""
    return {p.entry.activity.subject: (round(p.left, 2), round(p.width, 2)) for p in day.timed}


# --- Periods ------------------------------------------------------------------------------------------------


def test_a_month_is_whole_weeks_from_the_monday_before_the_first_to_the_sunday_after_the_last():
    april = period("month", "2027-04-14")  # Thursday 1 to Friday 30 April
    assert (april.first, april.last) == (dt.date(2027, 3, 29), dt.date(2027, 5, 2))
    assert april.days == 35


def test_a_month_that_starts_on_a_monday_and_ends_on_a_sunday_is_exactly_its_own_days():
    february = period("month", "2027-02-17")
    assert (february.first, february.last, february.days) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28), 28)


def test_a_week_runs_monday_to_sunday_and_a_day_is_that_day():
    assert (period("week").first, period("week").last) == (dt.date(2027, 3, 8), dt.date(2027, 3, 14))
    assert (period("day").first, period("day").last) == (TODAY, TODAY)


@pytest.mark.parametrize(("view", "day", "previous", "following"), [
    ("month", "2027-03-31", dt.date(2027, 2, 1), dt.date(2027, 4, 1)),
    ("month", "2027-01-15", dt.date(2026, 12, 1), dt.date(2027, 2, 1)),
    ("month", "2027-12-15", dt.date(2027, 11, 1), dt.date(2028, 1, 1)),
    ("week", "2027-03-10", dt.date(2027, 3, 3), dt.date(2027, 3, 17)),
    ("day", "2027-03-01", dt.date(2027, 2, 28), dt.date(2027, 3, 2)),
])
def test_previous_and_next_move_by_the_period_across_month_and_year_ends(view, day, previous, following):
    shown = period(view, day)
    assert (shown.shift(-1), shown.shift(1)) == (previous, following)


def test_no_date_means_today():
    assert period_for("day", None, zone_name="UTC", today=TODAY).day == TODAY


def test_the_bounds_are_the_viewers_midnights_also_across_a_clock_change():
    week = period("week", "2027-03-24", zone="Europe/Berlin")  # the clocks go forward on Sunday 28 March
    assert week.start == utc(2027, 3, 21, 23)  # Monday 00:00 CET
    assert week.end == utc(2027, 3, 28, 22)  # the next Monday 00:00 CEST


@pytest.mark.parametrize(("view", "day", "field"), [
    ("year", "2027-03-10", "view"),
    ("week", "2027-02-30", "date"),
    ("week", "10.03.2027", "date"),
    ("day", "0999-01-01", "date"),
])
def test_an_unknown_view_or_a_bad_date_is_refused_naming_it(view, day, field):
    with pytest.raises(ValidationError) as caught:
        period(view, day)
    assert field in caught.value.message_dict


# --- Entries on days ------------------------------------------------------------------------------------------


def test_overlapping_events_share_the_column_and_a_separate_one_gets_it_all():
    days = lay_out(period("day"), [
        entry("first", utc(2027, 3, 10, 10), utc(2027, 3, 10, 11)),
        entry("second", utc(2027, 3, 10, 10, 30), utc(2027, 3, 10, 11, 30)),
        entry("later", utc(2027, 3, 10, 14), utc(2027, 3, 10, 15)),
    ], today=TODAY)
    assert boxes(days[0]) == {"first": (0, 50), "second": (50, 50), "later": (0, 100)}


def test_a_lane_freed_inside_a_cluster_is_used_again():
    days = lay_out(period("day"), [
        entry("long", utc(2027, 3, 10, 10), utc(2027, 3, 10, 12)),
        entry("short", utc(2027, 3, 10, 10, 30), utc(2027, 3, 10, 11)),
        entry("after short", utc(2027, 3, 10, 11, 15), utc(2027, 3, 10, 11, 45)),
    ], today=TODAY)
    assert boxes(days[0]) == {"long": (0, 50), "short": (50, 50), "after short": (50, 50)}


def test_three_events_at_once_get_a_third_each():
    days = lay_out(period("day"), [entry(name, utc(2027, 3, 10, 9), utc(2027, 3, 10, 10)) for name in "abc"],
                   today=TODAY)
    assert sorted(boxes(days[0]).values()) == [(0, 33.33), (33.33, 33.33), (66.67, 33.33)]


def test_back_to_back_events_do_not_overlap():
    days = lay_out(period("day"), [
        entry("nine", utc(2027, 3, 10, 9), utc(2027, 3, 10, 10)),
        entry("ten", utc(2027, 3, 10, 10), utc(2027, 3, 10, 11)),
    ], today=TODAY)
    assert boxes(days[0]) == {"nine": (0, 100), "ten": (0, 100)}


def test_a_timed_event_sits_at_its_local_hour():
    days = lay_out(period("day", zone="Europe/Berlin"), [entry("standup", utc(2027, 3, 10, 8), utc(2027, 3, 10, 9))],
                   today=TODAY)
    placed = days[0].timed[0]
    assert placed.start.hour == 9
    assert (placed.top, round(placed.height, 3)) == (37.5, round(100 / 24, 3))


def test_an_all_day_event_over_three_days_is_on_each_of_them_and_not_after():
    days = lay_out(period("week"), [entry("trade fair", utc(2027, 3, 9), utc(2027, 3, 12), all_day=True)],
                   today=TODAY)
    on = [d.date.day for d in days if any(p.entry.activity.subject == "trade fair" for p in d.all_day)]
    assert on == [9, 10, 11]
    assert not any(d.timed for d in days)


def test_an_all_day_event_keeps_its_dates_in_a_zone_west_of_utc():
    days = lay_out(period("week", zone="America/New_York"),
                   [entry("holiday", utc(2027, 3, 10), utc(2027, 3, 11), all_day=True)], today=TODAY)
    assert [d.date.day for d in days if d.all_day] == [10]


def test_an_event_over_midnight_is_cut_into_a_box_on_each_day():
    days = lay_out(period("week"), [entry("night shift", utc(2027, 3, 10, 22), utc(2027, 3, 11, 2))], today=TODAY)
    evening, morning = day_of(days, dt.date(2027, 3, 10)).timed[0], day_of(days, dt.date(2027, 3, 11)).timed[0]
    assert (round(evening.top, 2), round(evening.top + evening.height, 2)) == (91.67, 100)
    assert (morning.top, round(morning.height, 2)) == (0, 8.33)


def test_an_event_that_started_before_the_period_shows_from_its_first_day():
    days = lay_out(period("week"), [entry("conference", utc(2027, 3, 5), utc(2027, 3, 9), all_day=True)],
                   today=TODAY)
    assert [d.date.day for d in days if d.all_day] == [8]


def test_a_task_on_its_due_date_shows_on_that_day_only():
    days = lay_out(period("week"), [entry("send offer", utc(2027, 3, 12), utc(2027, 3, 12), all_day=True)],
                   today=TODAY)
    assert [d.date.day for d in days if d.all_day] == [12]


def test_a_full_month_cell_shows_a_few_and_counts_the_rest():
    many = [entry(f"call {n}", utc(2027, 3, 10, 8 + n), utc(2027, 3, 10, 9 + n)) for n in range(MONTH_CELL_LIMIT + 2)]
    cell = day_of(lay_out(period("month"), many, today=TODAY), TODAY)
    assert [p.entry.activity.subject for p in cell.shown] == [f"call {n}" for n in range(MONTH_CELL_LIMIT)]
    assert cell.hidden_count == 2


def test_a_month_grid_marks_today_and_the_days_of_other_months():
    days = lay_out(period("month"), [], today=TODAY)
    grid = weeks(days)
    assert len(grid) == 5 and all(len(week) == 7 for week in grid)
    assert [d.date for d in days if d.is_today] == [TODAY]
    assert day_of(days, dt.date(2027, 3, 31)).in_month and not day_of(days, dt.date(2027, 4, 1)).in_month


def test_entries_of_a_day_are_in_time_order_all_day_ones_first():
    days = lay_out(period("day"), [
        entry("late", utc(2027, 3, 10, 15), utc(2027, 3, 10, 16)),
        entry("holiday", utc(2027, 3, 10), utc(2027, 3, 11), all_day=True),
        entry("early", utc(2027, 3, 10, 8), utc(2027, 3, 10, 9)),
    ], today=TODAY)
    assert [p.entry.activity.subject for p in days[0].entries] == ["holiday", "early", "late"]
