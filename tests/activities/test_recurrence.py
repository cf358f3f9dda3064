"""Repeat rules: what a recurring activity's calendar shows, in its own time zone, and which rules are refused.

These run on unsaved activities: expand() needs no database.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.activities import recurrence
from rapport.activities.models import Activity, ActivityException

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def at(zone: dt.tzinfo, *args: int) -> dt.datetime:
    """A wall-clock time in a zone, as the UTC moment it is."""
    return dt.datetime(*args, tzinfo=zone).astimezone(UTC)


def event(starts_at: dt.datetime, rule: str, *, minutes: int = 60, zone: str = "UTC",
          all_day: bool = False) -> Activity:
    ends_at = starts_at + (dt.timedelta(days=1) if all_day else dt.timedelta(minutes=minutes))
    return Activity(subject="Stand-up", activity_type="event", starts_at=starts_at, ends_at=ends_at,
                    all_day=all_day, time_zone=zone, rrule=recurrence.normalise_rule(rule))


def starts(activity: Activity, start: dt.datetime, end: dt.datetime, exceptions=()) -> list[dt.datetime]:
    return [occurrence.starts_at for occurrence in recurrence.expand(activity, start, end, exceptions)]


def days(activity: Activity, start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    return [moment.date() for moment in starts(activity, start, end)]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def refusal(rule: str) -> str:
    """The message a rule is refused with, on the rrule field (for a series from 2 June 2025)."""
    with pytest.raises(ValidationError) as caught:
        text = recurrence.normalise_rule(rule)
        recurrence.check_rule(text, starts_at=utc(2025, 6, 2, 9), time_zone="UTC", all_day=False)
    assert list(caught.value.message_dict) == ["rrule"]
    return caught.value.message_dict["rrule"][0]


# --- Frequencies --------------------------------------------------------------------------------------


def test_daily_repeats_every_day_at_the_same_time():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=DAILY")
    assert starts(meeting, utc(2025, 6, 1), utc(2025, 6, 6)) == [utc(2025, 6, d, 9) for d in (2, 3, 4, 5)]


def test_daily_with_an_interval_skips_days():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=DAILY;INTERVAL=3")
    assert days(meeting, utc(2025, 6, 1), utc(2025, 6, 12)) == [dt.date(2025, 6, d) for d in (2, 5, 8, 11)]


def test_weekly_on_chosen_days():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=WEEKLY;BYDAY=MO,WE")  # 2 June 2025 is a Monday
    assert days(meeting, utc(2025, 6, 1), utc(2025, 6, 15)) == [dt.date(2025, 6, d) for d in (2, 4, 9, 11)]


def test_monthly_on_the_31st_skips_the_months_without_one():
    billing = event(utc(2025, 1, 31, 9), "FREQ=MONTHLY;BYMONTHDAY=31")
    found = days(billing, utc(2025, 1, 1), utc(2026, 1, 1))
    assert [day.month for day in found] == [1, 3, 5, 7, 8, 10, 12]
    assert {day.day for day in found} == {31}


def test_monthly_on_the_first_monday():
    review = event(utc(2025, 1, 6, 9), "FREQ=MONTHLY;BYDAY=1MO")
    assert days(review, utc(2025, 1, 1), utc(2025, 5, 1)) == [
        dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3), dt.date(2025, 4, 7)]


def test_monthly_on_the_last_friday():
    drinks = event(utc(2025, 1, 31, 17), "FREQ=MONTHLY;BYDAY=-1FR")
    assert days(drinks, utc(2025, 1, 1), utc(2025, 5, 1)) == [
        dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 28), dt.date(2025, 4, 25)]


def test_yearly_on_the_same_date():
    renewal = event(utc(2025, 3, 15, 9), "FREQ=YEARLY")
    assert days(renewal, utc(2025, 1, 1), utc(2028, 1, 1)) == [dt.date(y, 3, 15) for y in (2025, 2026, 2027)]


# --- Ends ------------------------------------------------------------------------------------------------


def test_until_a_date_includes_that_day():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=DAILY;UNTIL=20250605")
    assert days(meeting, utc(2025, 6, 1), utc(2025, 7, 1)) == [dt.date(2025, 6, d) for d in (2, 3, 4, 5)]
    assert recurrence.recurrence_end(meeting.rrule, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                     time_zone="UTC", all_day=False) == utc(2025, 6, 5, 10)


def test_until_a_utc_time_is_read_in_utc_whatever_the_zone():
    # 07:00 UTC is 09:00 in Berlin in June: the last occurrence is the one at exactly UNTIL.
    meeting = event(at(BERLIN, 2025, 6, 2, 9), "FREQ=DAILY;UNTIL=20250604T070000Z", zone="Europe/Berlin")
    assert starts(meeting, utc(2025, 6, 1), utc(2025, 7, 1)) == [utc(2025, 6, d, 7) for d in (2, 3, 4)]


def test_count_gives_exactly_that_many_and_the_end_of_the_last():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=WEEKLY;COUNT=3")
    assert days(meeting, utc(2025, 1, 1), utc(2026, 1, 1)) == [dt.date(2025, 6, d) for d in (2, 9, 16)]
    assert recurrence.recurrence_end(meeting.rrule, starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                     time_zone="UTC", all_day=False) == utc(2025, 6, 16, 10)


def test_a_rule_without_end_has_no_recurrence_end():
    assert recurrence.recurrence_end("FREQ=WEEKLY", starts_at=utc(2025, 6, 2, 9), ends_at=utc(2025, 6, 2, 10),
                                     time_zone="UTC", all_day=False) is None


def test_an_until_centuries_away_counts_as_endless_without_walking_every_day():
    # A daily rule until 9999 has millions of occurrences: it is not walked to its end.
    assert recurrence.recurrence_end("FREQ=DAILY;UNTIL=99991231", starts_at=utc(2025, 6, 2, 9),
                                     ends_at=utc(2025, 6, 2, 10), time_zone="UTC", all_day=False) is None


def test_occurrences_before_the_start_of_the_series_do_not_exist():
    meeting = event(utc(2025, 6, 4, 9), "FREQ=DAILY")
    assert starts(meeting, utc(2025, 6, 1), utc(2025, 6, 5)) == [utc(2025, 6, 4, 9)]


# --- Moved and skipped occurrences -----------------------------------------------------------------------


def test_a_moved_occurrence_shows_at_its_new_time_and_a_skipped_one_not_at_all():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=DAILY;COUNT=5")
    moved = ActivityException(original_start=utc(2025, 6, 3, 9), starts_at=utc(2025, 6, 3, 14),
                              ends_at=utc(2025, 6, 3, 15))
    skipped = ActivityException(original_start=utc(2025, 6, 5, 9), cancelled=True)
    found = recurrence.expand(meeting, utc(2025, 6, 1), utc(2025, 7, 1), [moved, skipped])
    assert [o.starts_at for o in found] == [utc(2025, 6, 2, 9), utc(2025, 6, 3, 14), utc(2025, 6, 4, 9),
                                            utc(2025, 6, 6, 9)]
    assert [o.moved for o in found] == [False, True, False, False]
    assert found[1].original_start == utc(2025, 6, 3, 9) and found[1].ends_at == utc(2025, 6, 3, 15)


def test_an_occurrence_moved_into_the_range_from_outside_shows_and_its_old_slot_stays_empty():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=WEEKLY")
    moved = ActivityException(original_start=utc(2025, 6, 16, 9), starts_at=utc(2025, 6, 11, 9),
                              ends_at=utc(2025, 6, 11, 10))
    assert starts(meeting, utc(2025, 6, 10), utc(2025, 6, 12), [moved]) == [utc(2025, 6, 11, 9)]
    assert starts(meeting, utc(2025, 6, 15), utc(2025, 6, 17), [moved]) == []


def test_a_moved_task_occurrence_on_the_first_day_of_the_range_shows():
    # Tasks have no duration: at midnight on the range's first day they are in it, moved or not.
    task = Activity(subject="Report", activity_type="task", starts_at=utc(2025, 6, 2), ends_at=utc(2025, 6, 2),
                    all_day=True, rrule="FREQ=WEEKLY")
    moved = ActivityException(original_start=utc(2025, 6, 9), starts_at=utc(2025, 6, 10), ends_at=utc(2025, 6, 10))
    assert starts(task, utc(2025, 6, 2), utc(2025, 6, 3)) == [utc(2025, 6, 2)]
    assert starts(task, utc(2025, 6, 10), utc(2025, 6, 11), [moved]) == [utc(2025, 6, 10)]


def test_occurrence_keys_name_the_original_start():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=DAILY")
    (occurrence,) = recurrence.expand(meeting, utc(2025, 6, 3), utc(2025, 6, 4))
    assert occurrence.key == f"{meeting.public_id}@20250603T090000Z"


# --- Time zones and daylight saving ----------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "name", "first", "changes"), [
    # Europe/Berlin: summer time from 30 March to 26 October 2025.
    (BERLIN, "Europe/Berlin", dt.date(2025, 3, 24), (dt.date(2025, 3, 30), dt.date(2025, 10, 26))),
    # America/New_York: from 9 March to 2 November 2025.
    (NEW_YORK, "America/New_York", dt.date(2025, 3, 3), (dt.date(2025, 3, 9), dt.date(2025, 11, 2))),
])
def test_a_weekly_0900_meeting_stays_at_0900_local_across_both_changes(zone, name, first, changes):
    meeting = event(at(zone, first.year, first.month, first.day, 9), "FREQ=WEEKLY", zone=name)
    found = starts(meeting, meeting.starts_at, utc(2025, 12, 1))
    local = [moment.astimezone(zone) for moment in found]
    assert {moment.time() for moment in local} == {dt.time(9)}
    winter, summer = zone.utcoffset(dt.datetime(2025, 1, 15)), zone.utcoffset(dt.datetime(2025, 7, 15))
    assert winter != summer
    for moment in local:
        in_summer = changes[0] <= moment.date() < changes[1]
        assert moment.utcoffset() == (summer if in_summer else winter), moment
    # And so the UTC time moves by an hour at each change.
    assert len({moment.time() for moment in found}) == 2


def test_an_all_day_recurring_event_keeps_its_date_across_daylight_saving():
    birthday_week = event(utc(2025, 3, 28), "FREQ=WEEKLY;COUNT=3", zone="Europe/Berlin", all_day=True)
    found = recurrence.expand(birthday_week, utc(2025, 3, 1), utc(2025, 5, 1))
    assert [o.starts_at for o in found] == [utc(2025, 3, 28), utc(2025, 4, 4), utc(2025, 4, 11)]
    assert all(o.ends_at - o.starts_at == dt.timedelta(days=1) for o in found)


def test_a_time_in_the_spring_gap_is_refused_naming_the_start():
    with pytest.raises(ValidationError) as caught:
        recurrence.local_datetime(dt.date(2025, 3, 30), dt.time(2, 30), "Europe/Berlin")
    assert list(caught.value.message_dict) == ["starts_at"]
    assert "02:30" in caught.value.message_dict["starts_at"][0]
    with pytest.raises(ValidationError):
        recurrence.local_datetime(dt.date(2025, 3, 9), dt.time(2, 30), "America/New_York")


def test_a_time_that_exists_is_converted_to_utc():
    assert recurrence.local_datetime(dt.date(2025, 7, 1), dt.time(9), "Europe/Berlin") == utc(2025, 7, 1, 7)


def test_an_ambiguous_fall_back_time_is_the_first_of_the_two():
    # 02:30 happens twice in Berlin on 26 October 2025: first in summer time (00:30 UTC), then in winter time.
    assert recurrence.local_datetime(dt.date(2025, 10, 26), dt.time(2, 30), "Europe/Berlin") == utc(2025, 10, 26, 0, 30)
    meeting = event(at(BERLIN, 2025, 10, 19, 2, 30), "FREQ=WEEKLY;COUNT=3", zone="Europe/Berlin")
    assert starts(meeting, utc(2025, 10, 25), utc(2025, 10, 27)) == [utc(2025, 10, 26, 0, 30)]


def test_an_occurrence_falling_in_the_spring_gap_moves_forward_and_can_still_be_skipped():
    # Sundays at 02:30 in Berlin: on 30 March 2025 02:30 does not exist, the occurrence is at 03:30.
    meeting = event(at(BERLIN, 2025, 3, 23, 2, 30), "FREQ=WEEKLY;COUNT=3", zone="Europe/Berlin")
    (in_gap,) = recurrence.expand(meeting, utc(2025, 3, 29), utc(2025, 3, 31))
    assert in_gap.starts_at.astimezone(BERLIN).time() == dt.time(3, 30)
    assert recurrence.occurs_at(meeting, in_gap.original_start)
    skipped = ActivityException(original_start=in_gap.original_start, cancelled=True)
    assert starts(meeting, utc(2025, 3, 29), utc(2025, 3, 31), [skipped]) == []


def test_occurs_at_answers_only_for_starts_the_rule_gives():
    meeting = event(utc(2025, 6, 2, 9), "FREQ=WEEKLY;COUNT=3")
    assert recurrence.occurs_at(meeting, utc(2025, 6, 9, 9))
    assert not recurrence.occurs_at(meeting, utc(2025, 6, 9, 10))
    assert not recurrence.occurs_at(meeting, utc(2025, 6, 23, 9))  # after COUNT


# --- Rules that are refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "says"), [
    ("FREQ=SOMETIMES", "FREQ must be one of"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number"),
    ("FREQ=DAILY;COUNT=ten", "COUNT must be a whole number"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20251231", "not both"),
    ("every tuesday", "is not NAME=VALUE"),
    ("FREQ=DAILY;COLOUR=BLUE", "Unknown rule part COLOUR"),
    ("FREQ=DAILY;FREQ=WEEKLY", "given twice"),
    ("INTERVAL=2", "FREQ must be one of"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be"),
    ("FREQ=WEEKLY;BYDAY=XX", "BYDAY takes days"),
    ("FREQ=MONTHLY;BYDAY=9MO", "BYDAY takes days"),
    ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY takes whole numbers from -31 to 31"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH takes whole numbers from 1 to 12"),
    ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY takes days"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
    ("FREQ=DAILY;BYSETPOS=3", "BYSETPOS cannot be used with FREQ=DAILY"),
    ("FREQ=MONTHLY;BYSETPOS=2", "BYSETPOS needs another BY part"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=40", "BYSETPOS takes whole numbers from -31 to 31"),
    ("FREQ=MONTHLY;BYYEARDAY=100", "BYYEARDAY cannot be used with FREQ=MONTHLY"),
    ("FREQ=DAILY;BYWEEKNO=20", "BYWEEKNO cannot be used with FREQ=DAILY"),
    ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL must be a date"),
    ("FREQ=DAILY;UNTIL=20250101", "gives no occurrence"),
])
def test_bad_rules_are_refused_with_a_message_on_the_rule(rule, says):
    assert says in refusal(rule)


@pytest.mark.parametrize("rule", [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=YEARLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30",
])
def test_a_day_no_month_has_is_refused_at_once(rule):
    # dateutil would search such a rule for an occurrence until the year 9999, for seconds.
    assert "gives no occurrence" in refusal(rule)


@pytest.mark.parametrize(("rule", "first_days"), [
    # The last working day of the month, as Outlook writes it.
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", [dt.date(2025, 6, 30), dt.date(2025, 7, 31),
                                                      dt.date(2025, 8, 29)]),
    # Thanksgiving: the fourth Thursday of November.
    ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", [dt.date(2025, 11, 27), dt.date(2026, 11, 26), dt.date(2027, 11, 25)]),
    ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", [dt.date(2026, 5, 11), dt.date(2027, 5, 17), dt.date(2028, 5, 15)]),
    ("FREQ=YEARLY;BYYEARDAY=-1", [dt.date(2025, 12, 31), dt.date(2026, 12, 31), dt.date(2027, 12, 31)]),
])
def test_rules_calendar_programs_write_are_accepted(rule, first_days):
    recurrence.check_rule(recurrence.normalise_rule(rule), starts_at=utc(2025, 6, 2, 9), time_zone="UTC",
                          all_day=False)
    assert days(event(utc(2025, 6, 2, 9), rule), utc(2025, 6, 1), utc(2028, 12, 31))[:3] == first_days


def test_the_30th_in_months_that_have_one_is_accepted():
    recurrence.check_rule(recurrence.normalise_rule("FREQ=YEARLY;BYMONTH=2,3;BYMONTHDAY=30"),
                          starts_at=utc(2025, 1, 1, 9), time_zone="UTC", all_day=False)


def test_a_rule_is_normalised_to_upper_case_without_prefix():
    assert recurrence.normalise_rule("RRULE:freq=weekly;byday=mo,we") == "FREQ=WEEKLY;BYDAY=MO,WE"
    assert recurrence.normalise_rule("  ") == ""


# --- A range split in two gives the same occurrences -----------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
BASE = utc(2025, 1, 1)


@st.composite
def weekly_rules(draw) -> Activity:
    start = BASE + dt.timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 365)))
    rule = "FREQ=WEEKLY"
    by_day = draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=3))
    if by_day:
        rule += ";BYDAY=" + ",".join(by_day)
    interval = draw(st.integers(1, 3))
    if interval > 1:
        rule += f";INTERVAL={interval}"
    count = draw(st.none() | st.integers(1, 30))
    if count:
        rule += f";COUNT={count}"
    return event(start, rule, minutes=draw(st.sampled_from([0, 30, 90, 60 * 26])), zone=draw(st.sampled_from(ZONES)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(activity=weekly_rules(), offsets=st.lists(st.integers(0, 24 * 200), min_size=3, max_size=3, unique=True))
def test_a_range_split_in_two_gives_the_same_occurrences_once(activity, offsets):
    a, b, c = (BASE + dt.timedelta(hours=hours) for hours in sorted(offsets))
    whole = recurrence.expand(activity, a, c)
    keys = [o.key for o in whole]
    assert len(keys) == len(set(keys))
    first, second = recurrence.expand(activity, a, b), recurrence.expand(activity, b, c)
    assert {o.key for o in first} | {o.key for o in second} == set(keys)
    # Only an occurrence running over the split point is in both halves.
    both = {o.key for o in first} & {o.key for o in second}
    assert both == {o.key for o in whole if o.starts_at < b < o.ends_at}
    assert all(o.starts_at < c and (o.ends_at > a or o.starts_at >= a) for o in whole)
