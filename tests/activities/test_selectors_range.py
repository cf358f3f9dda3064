"""What a calendar month shows: short and long events, recurrences old and finished, tasks; and which ranges
are refused. selectors.calendar reads assignment rows, activity_occurrences the activities: both must agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.activities import selectors
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


JUNE = (utc(2025, 6, 1), utc(2025, 7, 1))


def on_calendar(user, start: dt.datetime = JUNE[0], end: dt.datetime = JUNE[1]) -> list[tuple[str, dt.datetime]]:
    return [(e.activity.subject, e.occurrence.starts_at)
            for e in selectors.calendar(user=user, people=[user], start=start, end=end)]


def in_list(user, start: dt.datetime = JUNE[0], end: dt.datetime = JUNE[1], **params) -> list[tuple[str, dt.datetime]]:
    return [(o.activity.subject, o.starts_at)
            for o in selectors.activity_occurrences(user=user, params=params, start=start, end=end)]


def shown(user) -> list[tuple[str, dt.datetime]]:
    """What June shows; the calendar and the activity list agree on it."""
    found = on_calendar(user)
    assert found == in_list(user)
    return found


def event(owner, subject: str, starts_at: dt.datetime, ends_at: dt.datetime, **fields):
    return ActivityFactory(owner=owner, subject=subject, starts_at=starts_at, ends_at=ends_at, **fields)


def test_short_events_in_the_month_show_in_order_and_those_outside_do_not(personas):
    owner = personas.owner
    event(owner, "late", utc(2025, 6, 20, 9), utc(2025, 6, 20, 10))
    event(owner, "early", utc(2025, 6, 2, 9), utc(2025, 6, 2, 10))
    event(owner, "may", utc(2025, 5, 30, 9), utc(2025, 5, 30, 10))
    event(owner, "ends as june starts", utc(2025, 5, 31, 23), utc(2025, 6, 1))
    event(owner, "overnight into june", utc(2025, 5, 31, 23), utc(2025, 6, 1, 1))
    event(owner, "july", utc(2025, 7, 1), utc(2025, 7, 1, 1))
    assert shown(owner) == [("overnight into june", utc(2025, 5, 31, 23)), ("early", utc(2025, 6, 2, 9)),
                            ("late", utc(2025, 6, 20, 9))]


def test_a_week_long_event_that_started_six_days_before_the_month_shows(personas):
    event(personas.owner, "trade fair", utc(2025, 5, 26), utc(2025, 6, 2))  # exactly seven days: the short path
    assert shown(personas.owner) == [("trade fair", utc(2025, 5, 26))]


def test_an_event_of_more_than_a_week_that_started_before_the_month_shows(personas):
    event(personas.owner, "secondment", utc(2025, 5, 1), utc(2025, 6, 10))
    event(personas.owner, "finished secondment", utc(2025, 4, 1), utc(2025, 5, 20))
    assert shown(personas.owner) == [("secondment", utc(2025, 5, 1))]


def test_an_all_day_event_over_the_whole_month_shows(personas):
    ActivityFactory(owner=personas.owner, subject="summer", all_day=True, starts_at=utc(2025, 5, 15),
                    ends_at=utc(2025, 7, 15))
    assert shown(personas.owner) == [("summer", utc(2025, 5, 15))]


def test_a_recurrence_without_end_that_started_a_year_ago_shows_its_occurrences_this_month(personas):
    event(personas.owner, "weekly sync", utc(2024, 6, 3, 9), utc(2024, 6, 3, 10), rrule="FREQ=WEEKLY;BYDAY=MO")
    assert shown(personas.owner) == [("weekly sync", utc(2025, 6, day, 9)) for day in (2, 9, 16, 23, 30)]


def test_a_recurrence_that_ended_before_the_month_is_not_there(personas):
    event(personas.owner, "spring course", utc(2025, 3, 3, 9), utc(2025, 3, 3, 10), rrule="FREQ=WEEKLY;COUNT=3")
    event(personas.owner, "until may", utc(2025, 5, 1, 9), utc(2025, 5, 1, 10), rrule="FREQ=DAILY;UNTIL=20250531")
    assert shown(personas.owner) == []


def test_a_recurrence_that_ends_during_the_month_shows_until_its_end(personas):
    event(personas.owner, "onboarding", utc(2025, 5, 26, 9), utc(2025, 5, 26, 10), rrule="FREQ=WEEKLY;COUNT=3")
    assert shown(personas.owner) == [("onboarding", utc(2025, 6, 2, 9)), ("onboarding", utc(2025, 6, 9, 9))]


def test_tasks_show_on_their_due_day(personas):
    ActivityFactory(task=True, owner=personas.owner, subject="first", due_on=dt.date(2025, 6, 1))
    ActivityFactory(task=True, owner=personas.owner, subject="last", due_on=dt.date(2025, 6, 30))
    ActivityFactory(task=True, owner=personas.owner, subject="july", due_on=dt.date(2025, 7, 1))
    ActivityFactory(task=True, owner=personas.owner, subject="may", due_on=dt.date(2025, 5, 31))
    assert shown(personas.owner) == [("first", utc(2025, 6, 1)), ("last", utc(2025, 6, 30))]


def test_a_calendar_shows_what_is_assigned_to_the_person_not_what_they_own(personas):
    event(personas.owner, "delegated", utc(2025, 6, 2, 9), utc(2025, 6, 2, 10), assignees=[personas.teammate])
    assert on_calendar(personas.owner) == []
    assert on_calendar(personas.teammate) == [("delegated", utc(2025, 6, 2, 9))]
    assert in_list(personas.owner, assigned_to="me") == []
    assert in_list(personas.teammate, assigned_to="me") == [("delegated", utc(2025, 6, 2, 9))]


def test_the_activity_list_by_range_filters_by_type(personas):
    event(personas.owner, "meeting", utc(2025, 6, 2, 9), utc(2025, 6, 2, 10))
    ActivityFactory(task=True, owner=personas.owner, subject="task", due_on=dt.date(2025, 6, 3))
    assert in_list(personas.owner, type="task") == [("task", utc(2025, 6, 3))]
    with pytest.raises(ValidationError):
        in_list(personas.owner, type="party")


def test_a_month_of_calendar_costs_the_same_queries_for_few_and_many_activities(personas):
    owner = personas.owner

    def queries() -> int:
        owner.__dict__.pop("_rapport_access", None)
        with CaptureQueriesContext(connection) as captured:
            selectors.calendar(user=owner, people=[owner, personas.teammate], start=JUNE[0], end=JUNE[1])
        return len(captured)

    event(owner, "single", utc(2025, 6, 2, 9), utc(2025, 6, 2, 10))
    event(owner, "series", utc(2025, 6, 3, 9), utc(2025, 6, 3, 10), rrule="FREQ=WEEKLY")
    few = queries()
    for day in range(4, 12):
        event(owner, f"single {day}", utc(2025, 6, day, 9), utc(2025, 6, day, 10), assignees=[owner, personas.teammate])
        event(personas.teammate, f"series {day}", utc(2025, 6, day, 11), utc(2025, 6, day, 12), rrule="FREQ=DAILY",
              visibility="private")
    assert queries() == few == 4  # rights, assignments, activities, moved and skipped occurrences


@pytest.mark.parametrize(("start", "end", "field", "says"), [
    (utc(2025, 6, 1), utc(2026, 7, 7), "end", "at most 400 days"),
    (utc(2025, 6, 1), utc(2025, 5, 1), "end", "before the start"),
    (utc(2025, 6, 1), utc(2025, 6, 1), "end", "before the start"),
    (None, utc(2025, 6, 1), "start", "both"),
    (utc(2025, 6, 1), None, "end", "both"),
])
def test_ranges_that_are_too_long_or_backwards_are_refused(personas, start, end, field, says):
    for read in (lambda: on_calendar(personas.owner, start, end), lambda: in_list(personas.owner, start, end)):
        with pytest.raises(ValidationError) as caught:
            read()
        assert list(caught.value.message_dict) == [field]
        assert says in caught.value.message_dict[field][0]


def test_a_range_of_400_days_is_accepted(personas):
    event(personas.owner, "kick-off", utc(2025, 6, 2, 9), utc(2025, 6, 2, 10))
    start = utc(2025, 1, 1)
    assert on_calendar(personas.owner, start, start + dt.timedelta(days=400)) == [("kick-off", utc(2025, 6, 2, 9))]
