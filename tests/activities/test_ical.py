"""The calendar feed and the .ics import (rapport/activities/ical/, feed_views.py).

The feed is read back with the icalendar library and checked property by
property; the import is checked through what it stores, and that a refused
file stores nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from dateutil import rrule as du_rrule
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from rapport.activities import recurrence, services
from rapport.activities.ical import feed, importer
from rapport.activities.models import Activity, ActivityException, ActivityKind
from rapport.core.models import HistoryEntry
from tests.conftest import ApiClient, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEXT_YEAR = timezone.now().year + 1


def first_monday(year: int, month: int = 1) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def berlin(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN).astimezone(dt.UTC)


def kind(key: str) -> ActivityKind:
    return ActivityKind.objects.get(key=key)


def make_event(user, subject: str = "Planning", *, start: dt.datetime, hours: int = 1, **data) -> Activity:
    return services.activity_create(actor=user, data={
        "activity_type": "event", "kind": kind("meeting"), "subject": subject, "starts_at": start,
        "ends_at": start + dt.timedelta(hours=hours), **data})


def make_task(user, subject: str = "Send offer", *, due_on: dt.date, **data) -> Activity:
    return services.activity_create(actor=user, data={
        "activity_type": "task", "kind": kind("todo"), "subject": subject, "due_on": due_on, **data})


@pytest.fixture
def anna():
    return UserFactory(username="anna", first_name="Anna", time_zone="Europe/Berlin")


@pytest.fixture
def ben():
    return UserFactory(username="ben", first_name="Ben", time_zone="America/New_York")


def feed_url(user) -> str:
    return reverse("calendar_feed", args=[services.feed_token(user=user)])


def fetch(url: str):
    """The feed as a calendar app gets it: no session."""
    response = Client().get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def feed_of(user) -> Calendar:
    response, body = fetch(feed_url(user))
    assert response.status_code == 200
    return Calendar.from_ical(body)


def by_uid(calendar: Calendar, uid: str, name: str = "VEVENT") -> list:
    return [c for c in calendar.walk(name) if str(c["UID"]) == uid]


# --- The feed -------------------------------------------------------------------------------------


def test_feed_answers_as_a_calendar(anna):
    make_event(anna, start=berlin(first_monday(NEXT_YEAR), 9))
    response, body = fetch(feed_url(anna))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Rapport//")
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_an_event_field_by_field(anna):
    start = berlin(first_monday(NEXT_YEAR, 2), 14, 30)
    activity = make_event(anna, "Review, Q1; draft", start=start, hours=2, description="Line one\nLine two",
                          location="Room 4", priority="high", status="pending", visibility="private")
    activity = services.activity_update(actor=anna, activity=activity, data={"location": "Room 5"},
                                        version=activity.version)
    [event] = by_uid(feed_of(anna), activity.uid)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTSTART"].dt == start.astimezone(BERLIN)
    assert event["DTSTART"].dt.hour == 14 and event["DTSTART"].dt.minute == 30
    assert event["DTEND"].dt == (start + dt.timedelta(hours=2)).astimezone(BERLIN)
    assert str(event["SUMMARY"]) == "Review, Q1; draft"
    assert str(event["DESCRIPTION"]) == "Line one\nLine two"
    assert str(event["LOCATION"]) == "Room 5"
    assert str(event["STATUS"]) == "TENTATIVE"
    assert int(event["PRIORITY"]) == 1
    assert str(event["CLASS"]) == "PRIVATE"
    assert int(event["SEQUENCE"]) == activity.version - 1 == 1
    assert event["LAST-MODIFIED"].dt == activity.updated_at.replace(microsecond=0)
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Meeting"]
    assert str(event["X-RAPPORT-KIND"]) == "meeting"
    assert str(event["URL"]).endswith(f"/activities/{activity.public_id}/")
    assert "RRULE" not in event


def test_a_recurring_meeting_is_one_series_with_its_skipped_and_moved_occurrences(anna):
    monday = first_monday(NEXT_YEAR)
    activity = make_event(anna, "Weekly", start=berlin(monday, 9), rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=20")
    second, third = berlin(monday + dt.timedelta(weeks=1), 9), berlin(monday + dt.timedelta(weeks=2), 9)
    activity = services.occurrence_skip(actor=anna, activity=activity, original_start=second,
                                        version=activity.version)
    activity = services.occurrence_move(actor=anna, activity=activity, original_start=third,
                                        starts_at=third + dt.timedelta(hours=2), ends_at=None,
                                        version=activity.version)
    components = by_uid(feed_of(anna), activity.uid)
    assert len(components) == 2, "the series and one override, never the expanded occurrences"
    master = next(c for c in components if "RECURRENCE-ID" not in c)
    override = next(c for c in components if "RECURRENCE-ID" in c)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=20;BYDAY=MO"
    assert master["DTSTART"].params["TZID"] == "Europe/Berlin"
    [exdate] = master["EXDATE"].dts
    assert exdate.dt == second.astimezone(BERLIN) and master["EXDATE"].params["TZID"] == "Europe/Berlin"
    assert override["RECURRENCE-ID"].dt == third.astimezone(BERLIN)
    assert override["DTSTART"].dt == (third + dt.timedelta(hours=2)).astimezone(BERLIN)
    assert override["DTEND"].dt == (third + dt.timedelta(hours=3)).astimezone(BERLIN)
    assert str(override["SUMMARY"]) == "Weekly"
    assert int(override["SEQUENCE"]) == int(master["SEQUENCE"])


def _occurrences_in_feed(master, overrides) -> list[dt.datetime]:
    """What a calendar app makes of the series: the rule from DTSTART, less EXDATEs, overrides applied."""
    start = master["DTSTART"].dt
    rule = du_rrule.rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    skipped = {d.dt for d in master.get("EXDATE").dts} if "EXDATE" in master else set()
    moved = {o["RECURRENCE-ID"].dt: o["DTSTART"].dt for o in overrides}
    return sorted(moved.get(moment, moment).astimezone(dt.UTC) for moment in rule if moment not in skipped)


def test_a_weekly_nine_oclock_meeting_stays_at_nine_in_berlin_across_daylight_saving(anna):
    monday = first_monday(NEXT_YEAR)
    activity = make_event(anna, "Standup", start=berlin(monday, 9), rrule="FREQ=WEEKLY;COUNT=30")
    [master] = by_uid(feed_of(anna), activity.uid)
    occurrences = _occurrences_in_feed(master, [])
    assert len(occurrences) == 30
    assert {moment.astimezone(BERLIN).time() for moment in occurrences} == {dt.time(9, 0)}
    winter = [m for m in occurrences if m.month == 1]
    summer = [m for m in occurrences if m.month == 6]
    assert {m.hour for m in winter} == {8} and {m.hour for m in summer} == {7}  # UTC+1, then UTC+2
    # The same occurrences Rapport's own calendar shows.
    expanded = recurrence.expand(activity, occurrences[0], occurrences[-1] + dt.timedelta(hours=1))
    assert [o.starts_at for o in expanded] == occurrences


def test_feed_series_give_the_same_occurrences_as_rapport(anna):
    monday = first_monday(NEXT_YEAR, 3)
    activity = make_event(anna, start=berlin(monday, 9), rrule="FREQ=DAILY;COUNT=40;BYDAY=MO,TU,WE,TH,FR")
    for week, hours in ((1, None), (2, 3), (5, -2)):
        original = berlin(monday + dt.timedelta(weeks=week), 9)
        if hours is None:
            activity = services.occurrence_skip(actor=anna, activity=activity, original_start=original,
                                                version=activity.version)
        else:
            activity = services.occurrence_move(actor=anna, activity=activity, original_start=original,
                                                starts_at=original + dt.timedelta(hours=hours), ends_at=None,
                                                version=activity.version)
    components = by_uid(feed_of(anna), activity.uid)
    master = next(c for c in components if "RECURRENCE-ID" not in c)
    overrides = [c for c in components if "RECURRENCE-ID" in c]
    exceptions = ActivityException.objects.filter(activity=activity)
    expanded = recurrence.expand(activity, activity.starts_at, activity.recurrence_ends_at + dt.timedelta(days=30),
                                 exceptions)
    assert _occurrences_in_feed(master, overrides) == sorted(o.starts_at for o in expanded)


def test_tasks_are_todos_due_on_their_day_and_all_day_events_are_dates(anna):
    due = first_monday(NEXT_YEAR, 4)
    task = make_task(anna, due_on=due, priority="low")
    done = make_task(anna, "Done already", due_on=due)
    done = services.activity_update(actor=anna, activity=done, data={"status": "completed"}, version=done.version)
    trip = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": kind("meeting"), "subject": "Trade fair", "all_day": True,
        "starts_at": dt.datetime.combine(due, dt.time(0), tzinfo=dt.UTC),
        "ends_at": dt.datetime.combine(due + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)})
    calendar = feed_of(anna)
    [todo] = by_uid(calendar, task.uid, "VTODO")
    assert todo["DUE"].dt == due and todo["DUE"].params["VALUE"] == "DATE"
    assert "DTSTART" not in todo
    assert str(todo["STATUS"]) == "NEEDS-ACTION" and int(todo["PRIORITY"]) == 9
    [completed] = by_uid(calendar, done.uid, "VTODO")
    assert str(completed["STATUS"]) == "COMPLETED" and "COMPLETED" in completed
    [event] = by_uid(calendar, trip.uid)
    assert event["DTSTART"].dt == due and event["DTSTART"].params["VALUE"] == "DATE"
    assert event["DTEND"].dt == due + dt.timedelta(days=2)  # exclusive: a two-day fair
    assert not by_uid(calendar, task.uid)  # a task is no event


def test_a_utc_event_is_written_in_utc(anna):
    activity = make_event(anna, start=dt.datetime(NEXT_YEAR, 5, 4, 12, tzinfo=dt.UTC), time_zone="UTC")
    [event] = by_uid(feed_of(anna), activity.uid)
    assert event["DTSTART"].dt == dt.datetime(NEXT_YEAR, 5, 4, 12, tzinfo=dt.UTC)
    assert "TZID" not in event["DTSTART"].params
    assert event.to_ical().count(b"Z\r\n") >= 2


def test_feed_holds_what_is_assigned_to_the_user_and_recent(anna, ben):
    now = timezone.now()
    mine = make_event(anna, "Mine", start=now + dt.timedelta(days=3))
    recent = make_event(anna, "Recent", start=now - dt.timedelta(days=60))
    old = make_event(anna, "Old", start=now - dt.timedelta(days=120))
    overdue = make_task(anna, "Overdue", due_on=(now - dt.timedelta(days=200)).date())
    old_done = make_task(anna, "Old and done", due_on=(now - dt.timedelta(days=200)).date())
    services.activity_update(actor=anna, activity=old_done, data={"status": "completed"}, version=old_done.version)
    running = make_event(anna, "Running since long", start=now - dt.timedelta(days=400), rrule="FREQ=MONTHLY")
    deleted = make_event(anna, "Deleted", start=now + dt.timedelta(days=4))
    services.activity_delete(actor=anna, activity=deleted)
    bens_for_anna = services.activity_create(actor=ben, assignees=[anna], data={
        "activity_type": "event", "kind": kind("call"), "subject": "Ben's call for Anna", "visibility": "private",
        "starts_at": now + dt.timedelta(days=5)})
    bens_own = make_event(ben, "Ben's own", start=now + dt.timedelta(days=5))
    uids = {str(c["UID"]) for c in feed_of(anna).walk() if "UID" in c}
    assert {mine.uid, recent.uid, overdue.uid, running.uid, bens_for_anna.uid} <= uids
    assert not {old.uid, old_done.uid, deleted.uid, bens_own.uid} & uids
    assert bens_for_anna.uid not in {str(c["UID"]) for c in feed_of(ben).walk() if "UID" in c}


def test_feed_is_read_in_a_constant_number_of_queries(anna):
    def queries() -> int:
        url = feed_url(anna)
        with CaptureQueriesContext(connection) as captured:
            response, _body = fetch(url)
        assert response.status_code == 200
        return len(captured.captured_queries)

    monday = first_monday(NEXT_YEAR)
    make_event(anna, start=berlin(monday, 9), rrule="FREQ=WEEKLY;COUNT=5")
    few = queries()
    for week in range(12):
        activity = make_event(anna, start=berlin(monday + dt.timedelta(weeks=week), 11), rrule="FREQ=DAILY;COUNT=9")
        services.occurrence_skip(actor=anna, activity=activity, version=activity.version,
                                 original_start=activity.starts_at + dt.timedelta(days=1))
        make_task(anna, due_on=monday + dt.timedelta(weeks=week))
    imported = importer.ics_import(actor=anna, content=ics(vevent("q-1", "DTSTART:20300101T100000Z")))
    assert imported.created == 1
    assert queries() == few + 1  # the activity kinds, read once when an imported item is in the feed


def test_feed_stops_at_its_cap(anna, monkeypatch):
    monkeypatch.setattr(feed, "MAX_ITEMS", 3)
    for day in range(5):
        make_task(anna, due_on=first_monday(NEXT_YEAR) + dt.timedelta(days=day))
    loaded = feed.feed_load(user=anna)
    assert len(loaded.activities) == 3 and loaded.truncated
    assert len(feed_of(anna).walk("VTODO")) == 3


# --- The feed's address -----------------------------------------------------------------------------


def test_a_wrong_revoked_or_replaced_address_is_a_bare_404(anna, ben):
    good = feed_url(anna)
    assert fetch(good)[0].status_code == 200
    token = services.feed_token(user=anna)
    made_up = [token[:16] + "0" * 32, token[:-1] + ("0" if token[-1] != "0" else "1"), token[:16],
               services.feed_token(user=ben)[:16] + token[16:], "x" * 48]
    for wrong in made_up:
        response, body = fetch(reverse("calendar_feed", args=[wrong]))
        assert response.status_code == 404, wrong
        assert response["Content-Type"].startswith("text/plain")
        assert b"anna" not in body and b"revoked" not in body.lower() and len(body) < 20

    services.feed_revoke(user=anna)
    assert fetch(good)[0].status_code == 404
    assert services.feed_token(user=anna) is None

    renewed = reverse("calendar_feed", args=[services.feed_regenerate(user=anna)])
    assert renewed != good
    assert fetch(good)[0].status_code == 404
    assert fetch(renewed)[0].status_code == 200
    again = reverse("calendar_feed", args=[services.feed_regenerate(user=anna)])
    assert fetch(renewed)[0].status_code == 404 and fetch(again)[0].status_code == 200


def test_the_address_of_a_deactivated_user_is_a_404(anna):
    url = feed_url(anna)
    anna.is_active = False
    anna.save()
    assert fetch(url)[0].status_code == 404


def test_the_feed_answers_only_get(anna):
    url = feed_url(anna)
    assert Client().post(url).status_code == 405
    assert Client().head(url).status_code == 200


# --- Import -----------------------------------------------------------------------------------------


def ics(*components: str, extra: str = "") -> bytes:
    body = "".join(components)
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n{extra}{body}END:VCALENDAR\r\n").encode()


def vevent(uid: str, *lines: str, summary: str = "Imported") -> str:
    inner = "".join(f"{line}\r\n" for line in lines)
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n{inner}END:VEVENT\r\n"


def rule_parts(rule: str) -> set[str]:
    """A rule's parts, in any order."""
    return set(recurrence.normalise_rule(rule).split(";")) if rule else set()


def snapshot(user) -> list[tuple]:
    """What a user's imported activities are, to compare an import with the next."""
    rows = Activity.objects.filter(owner=user).order_by("uid")
    return [(a.uid, a.version, a.subject, a.starts_at, a.ends_at, a.rrule, a.time_zone, a.all_day, a.ical_source,
             sorted((e.original_start, e.cancelled, e.starts_at, e.ends_at) for e in a.exceptions.all()))
            for a in rows]


def test_export_then_import_into_another_users_calendar_keeps_times_rules_and_exceptions(anna, ben):
    monday = first_monday(NEXT_YEAR)
    weekly = make_event(anna, "Weekly", start=berlin(monday, 9), rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=30",
                        description="Agenda", location="Room 1", priority="high", reminder_minutes=10)
    weekly = services.occurrence_skip(actor=anna, activity=weekly, version=weekly.version,
                                      original_start=berlin(monday + dt.timedelta(weeks=1), 9))
    weekly = services.occurrence_move(actor=anna, activity=weekly,
                                      original_start=berlin(monday + dt.timedelta(weeks=12), 9),
                                      starts_at=berlin(monday + dt.timedelta(weeks=12, days=1), 15), ends_at=None,
                                      version=weekly.version)
    until = make_event(anna, "Until", start=berlin(monday, 17), rrule="FREQ=DAILY;UNTIL=20991231")
    task = make_task(anna, "Call back", due_on=monday + dt.timedelta(days=2))
    call = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": kind("call"), "subject": "Call", "starts_at": berlin(monday, 12),
        "ends_at": berlin(monday, 12, 30), "status": "completed"})
    fair = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": kind("meeting"), "subject": "Fair", "all_day": True,
        "starts_at": dt.datetime.combine(monday, dt.time(0), tzinfo=dt.UTC),
        "ends_at": dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(0), tzinfo=dt.UTC),
        "rrule": "FREQ=YEARLY;COUNT=3"})
    _response, exported = fetch(feed_url(anna))

    result = importer.ics_import(actor=ben, content=exported)
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    for original in (weekly, until, task, call, fair):
        copy = Activity.objects.get(owner=ben, subject=original.subject)
        assert copy.uid == f"{original.uid}:{ben.public_id}", "the UID is the colleague's: one of its own"
        for name in ("activity_type", "starts_at", "ends_at", "all_day", "status", "priority", "description",
                     "location", "kind_id", "reminder_minutes", "recurrence_ends_at"):
            assert getattr(copy, name) == getattr(original, name), (original.subject, name)
        if not original.all_day and not original.is_task:
            assert copy.time_zone == original.time_zone == "Europe/Berlin"
        assert rule_parts(copy.rrule) == rule_parts(original.rrule.replace("UNTIL=20991231",
                                                                           "UNTIL=20991231T225959Z"))
        mine = sorted((e.original_start, e.cancelled, e.starts_at, e.ends_at) for e in original.exceptions.all())
        theirs = sorted((e.original_start, e.cancelled, e.starts_at, e.ends_at) for e in copy.exceptions.all())
        assert theirs == mine, original.subject
        assert copy.ical_source.startswith("BEGIN:V") and copy.uid not in copy.ical_source
    assert list(Activity.objects.get(pk=weekly.pk).assignments.values_list("user_id", flat=True)) == [anna.pk]

    # The colleague's own feed: the same occurrences as the original's.
    ben_feed = feed_of(ben)
    copy = Activity.objects.get(owner=ben, subject="Weekly")
    components = by_uid(ben_feed, copy.uid)
    master = next(c for c in components if "RECURRENCE-ID" not in c)
    assert _occurrences_in_feed(master, [c for c in components if "RECURRENCE-ID" in c]) == [
        o.starts_at for o in recurrence.expand(weekly, weekly.starts_at, weekly.recurrence_ends_at,
                                               weekly.exceptions.all())]

    # A second import of the same file changes nothing: no version, no history.
    before, history = snapshot(ben), HistoryEntry.objects.count()
    again = importer.ics_import(actor=ben, content=exported)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert snapshot(ben) == before and HistoryEntry.objects.count() == history


def test_importing_ones_own_export_back_changes_nothing_it_holds(anna):
    activity = make_event(anna, start=berlin(first_monday(NEXT_YEAR), 9), rrule="FREQ=WEEKLY;COUNT=4")
    _response, exported = fetch(feed_url(anna))
    result = importer.ics_import(actor=anna, content=exported)
    assert (result.created, result.updated) == (0, 1)  # the same item, now with its text kept
    activity.refresh_from_db()
    assert (activity.starts_at, activity.rrule, Activity.objects.filter(owner=anna).count()) == (
        berlin(first_monday(NEXT_YEAR), 9), "FREQ=WEEKLY;COUNT=4", 1)


def test_reimport_updates_by_uid_instead_of_adding(anna):
    first = ics(vevent("offer-1@example.com", "DTSTART;TZID=Europe/Berlin:20300107T100000",
                       "DTEND;TZID=Europe/Berlin:20300107T110000", summary="Offer talk"))
    assert importer.ics_import(actor=anna, content=first).created == 1
    activity = Activity.objects.get(uid="offer-1@example.com")
    assert activity.owner == anna and activity.kind.key == "meeting"
    assert activity.starts_at == dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC) and activity.time_zone == "Europe/Berlin"
    assert list(activity.assignments.values_list("user_id", flat=True)) == [anna.pk]

    second = ics(vevent("offer-1@example.com", "DTSTART;TZID=Europe/Berlin:20300108T100000",
                        "DTEND;TZID=Europe/Berlin:20300108T120000", "LOCATION:Their office", summary="Offer talk 2"))
    result = importer.ics_import(actor=anna, content=second)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert Activity.objects.filter(owner=anna).count() == 1
    activity.refresh_from_db()
    assert (activity.subject, activity.location, activity.version) == ("Offer talk 2", "Their office", 2)
    assert activity.ends_at - activity.starts_at == dt.timedelta(hours=2)
    assert "Offer talk 2" in activity.ical_source

    versions, history = activity.version, HistoryEntry.objects.count()
    assert importer.ics_import(actor=anna, content=second).unchanged == 1
    activity.refresh_from_db()
    assert activity.version == versions and HistoryEntry.objects.count() == history


def test_reimport_brings_occurrences_in_line_with_the_file(anna):
    series = ("DTSTART;TZID=Europe/Berlin:20300107T090000", "DTEND;TZID=Europe/Berlin:20300107T100000",
              "RRULE:FREQ=WEEKLY;COUNT=10")
    moved = ("RECURRENCE-ID;TZID=Europe/Berlin:20300121T090000", "DTSTART;TZID=Europe/Berlin:20300122T150000",
             "DTEND;TZID=Europe/Berlin:20300122T160000")
    cancelled = ("RECURRENCE-ID;TZID=Europe/Berlin:20300128T090000", "DTSTART;TZID=Europe/Berlin:20300128T090000",
                 "STATUS:CANCELLED")
    first = ics(vevent("series@example.com", *series, "EXDATE;TZID=Europe/Berlin:20300114T090000"),
                vevent("series@example.com", *moved), vevent("series@example.com", *cancelled))
    assert importer.ics_import(actor=anna, content=first).created == 1
    activity = Activity.objects.get(uid="series@example.com")
    assert sorted((e.original_start, e.cancelled, e.starts_at) for e in activity.exceptions.all()) == [
        (dt.datetime(2030, 1, 14, 8, tzinfo=dt.UTC), True, None),
        (dt.datetime(2030, 1, 21, 8, tzinfo=dt.UTC), False, dt.datetime(2030, 1, 22, 14, tzinfo=dt.UTC)),
        (dt.datetime(2030, 1, 28, 8, tzinfo=dt.UTC), True, None),
    ]
    # The next version of the file: the 14th is back, the 21st is not moved but skipped.
    second = ics(vevent("series@example.com", *series, "EXDATE;TZID=Europe/Berlin:20300121T090000"),
                 vevent("series@example.com", *cancelled))
    assert importer.ics_import(actor=anna, content=second).updated == 1
    occurrences = recurrence.expand(activity, dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                                    dt.datetime(2030, 2, 10, tzinfo=dt.UTC), activity.exceptions.all())
    assert [o.starts_at.day for o in occurrences] == [7, 14, 4]
    assert importer.ics_import(actor=anna, content=second).unchanged == 1


def test_unmodelled_properties_survive_in_the_source_and_the_feed(anna):
    block = ("BEGIN:VEVENT\r\n"
             "UID:alarm@example.com\r\n"
             "DTSTAMP:20260101T000000Z\r\n"
             "DTSTART;TZID=Europe/Berlin:20300107T100000\r\n"
             "DURATION:PT45M\r\n"
             "SUMMARY:With alarm\r\n"
             "X-MS-OLK-SENDER;X-CUSTOM=yes:mailto:boss@example.com\r\n"
             "ATTENDEE;CN=\"Pat Buyer\";ROLE=REQ-PARTICIPANT:mailto:pat@example.com\r\n"
             "DESCRIPTION:A long description that is folded over two lines because it is longer than seve\r\n"
             " nty-five octets.\r\n"
             "BEGIN:VALARM\r\n"
             "ACTION:DISPLAY\r\n"
             "DESCRIPTION:Reminder\r\n"
             "TRIGGER:-PT15M\r\n"
             "END:VALARM\r\n"
             "END:VEVENT\r\n")
    content = ics(block)
    importer.ics_import(actor=anna, content=content)
    activity = Activity.objects.get(uid="alarm@example.com")
    assert activity.ical_source == block  # byte for byte
    assert activity.reminder_minutes == 15
    assert activity.ends_at - activity.starts_at == dt.timedelta(minutes=45)
    assert activity.description.endswith("longer than seventy-five octets.")

    [event] = by_uid(feed_of(anna), activity.uid)
    assert str(event["X-MS-OLK-SENDER"]) == "mailto:boss@example.com"
    assert event["X-MS-OLK-SENDER"].params["X-CUSTOM"] == "yes"
    assert event["ATTENDEE"].params["CN"] == "Pat Buyer"
    [alarm] = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Reminder" and alarm["TRIGGER"].dt == dt.timedelta(minutes=-15)

    # An edit in Rapport rewrites its own properties and keeps the rest.
    services.activity_update(actor=anna, activity=activity, data={"subject": "Renamed", "reminder_minutes": 30},
                             version=activity.version)
    [event] = by_uid(feed_of(anna), activity.uid)
    assert str(event["SUMMARY"]) == "Renamed"
    assert str(event["X-MS-OLK-SENDER"]) == "mailto:boss@example.com" and "ATTENDEE" in event
    [alarm] = event.walk("VALARM")
    assert alarm["TRIGGER"].dt == dt.timedelta(minutes=-30)
    assert int(event["SEQUENCE"]) == 1


def test_import_maps_todos_kinds_and_statuses(anna):
    content = ics(
        "BEGIN:VTODO\r\nUID:todo-1\r\nSUMMARY:Quote\r\nDUE;VALUE=DATE:20300301\r\nPRIORITY:2\r\n"
        "STATUS:IN-PROCESS\r\nEND:VTODO\r\n",
        "BEGIN:VTODO\r\nUID:todo-2\r\nSUMMARY:Due at a time\r\nDUE;TZID=America/New_York:20300301T223000\r\n"
        "STATUS:COMPLETED\r\nEND:VTODO\r\n",
        "BEGIN:VTODO\r\nUID:todo-3\r\nSUMMARY:Someday\r\nEND:VTODO\r\n",
        vevent("call-1", "DTSTART:20300301T090000Z", "CATEGORIES:Work,Call", "CLASS:PRIVATE", "PRIORITY:9"),
        vevent("floating-1", "DTSTART:20300301T090000", "X-RAPPORT-KIND:email"),
        "BEGIN:VJOURNAL\r\nUID:j-1\r\nSUMMARY:Diary\r\nEND:VJOURNAL\r\n",
    )
    result = importer.ics_import(actor=anna, content=content)
    assert result.created == 4
    assert any("due date" in note for note in result.notes) and any("journal" in note for note in result.notes)
    quote = Activity.objects.get(uid="todo-1")
    assert (quote.activity_type, quote.kind.key, quote.due_on, quote.priority, quote.status) == (
        "task", "todo", dt.date(2030, 3, 1), "high", "pending")
    late = Activity.objects.get(uid="todo-2")
    assert late.due_on == dt.date(2030, 3, 1) and late.status == "completed"
    call = Activity.objects.get(uid="call-1")
    assert (call.kind.key, call.visibility, call.priority, call.time_zone) == ("call", "private", "low", "UTC")
    floating = Activity.objects.get(uid="floating-1")
    assert floating.kind.key == "email" and floating.time_zone == "Europe/Berlin"
    assert floating.starts_at == dt.datetime(2030, 3, 1, 8, tzinfo=dt.UTC)  # 09:00 where Anna is


def test_outlook_time_zone_names_and_all_day_events(anna):
    content = ics(
        vevent("outlook-1", "DTSTART;TZID=W. Europe Standard Time:20300701T090000",
               "DTEND;TZID=W. Europe Standard Time:20300701T100000", "RRULE:FREQ=WEEKLY;COUNT=3"),
        vevent("allday-1", "DTSTART;VALUE=DATE:20300701", "DTEND;VALUE=DATE:20300704"),
        extra=("BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
               "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
               "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
               "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"))
    importer.ics_import(actor=anna, content=content)
    outlook = Activity.objects.get(uid="outlook-1")
    assert outlook.time_zone == "Europe/Berlin" and outlook.starts_at == dt.datetime(2030, 7, 1, 7, tzinfo=dt.UTC)
    allday = Activity.objects.get(uid="allday-1")
    assert allday.all_day and (allday.first_day, allday.last_day) == (dt.date(2030, 7, 1), dt.date(2030, 7, 3))



def test_items_of_colleagues_on_my_calendar_and_items_i_deleted_are_left_alone(anna, ben):
    shared = services.activity_create(actor=ben, assignees=[anna, ben], data={
        "activity_type": "event", "kind": kind("meeting"), "subject": "Ben's meeting",
        "starts_at": dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)})
    importer.ics_import(actor=anna, content=ics(vevent("gone@example.com", "DTSTART:20300108T090000Z")))
    gone = Activity.objects.get(uid="gone@example.com")
    services.activity_delete(actor=anna, activity=gone)
    content = ics(vevent(shared.uid, "DTSTART:20300107T090000Z", summary="Changed by Anna"),
                  vevent("gone@example.com", "DTSTART:20300108T090000Z"))
    result = importer.ics_import(actor=anna, content=content)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert any("already on your calendar" in note for note in result.notes)
    assert any("deleted" in note for note in result.notes)
    shared.refresh_from_db()
    assert shared.subject == "Ben's meeting" and shared.version == 1
    assert Activity.objects.filter(owner=anna, deleted_at__isnull=True).count() == 0


def test_a_file_of_changed_occurrences_applies_to_the_series_already_imported(anna):
    series = vevent("weekly@example.com", "DTSTART;TZID=Europe/Berlin:20300107T090000", "RRULE:FREQ=WEEKLY;COUNT=5")
    importer.ics_import(actor=anna, content=ics(series))
    moved = vevent("weekly@example.com", "RECURRENCE-ID;TZID=Europe/Berlin:20300114T090000",
                   "DTSTART;TZID=Europe/Berlin:20300114T130000", "DTEND;TZID=Europe/Berlin:20300114T140000")
    result = importer.ics_import(actor=anna, content=ics(moved))
    assert result.updated == 1
    [exception] = Activity.objects.get(uid="weekly@example.com").exceptions.all()
    assert (exception.original_start, exception.starts_at) == (dt.datetime(2030, 1, 14, 8, tzinfo=dt.UTC),
                                                               dt.datetime(2030, 1, 14, 12, tzinfo=dt.UTC))
    orphan = vevent("unknown@example.com", "RECURRENCE-ID:20300114T090000Z", "DTSTART:20300114T100000Z")
    result = importer.ics_import(actor=anna, content=ics(orphan))
    assert result.created == 0 and any("neither in the file nor in Rapport" in note for note in result.notes)


CUSTOM_ZONE = ("BEGIN:VTIMEZONE\r\nTZID:Company Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
               "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")


def test_a_zone_defined_only_in_the_file_is_used_once_and_refused_for_a_series(anna):
    single = vevent("custom-1", "DTSTART;TZID=Company Time:20300107T090000")
    importer.ics_import(actor=anna, content=ics(single, extra=CUSTOM_ZONE))
    assert Activity.objects.get(uid="custom-1").starts_at == dt.datetime(2030, 1, 7, 6, tzinfo=dt.UTC)
    series = vevent("custom-2", "DTSTART;TZID=Company Time:20300107T090000", "RRULE:FREQ=DAILY;COUNT=2")
    assert "Company Time" in refused(anna, ics(series, extra=CUSTOM_ZONE))

# --- Refused files store nothing --------------------------------------------------------------------


def refused(user, content) -> str:
    count, history = Activity.objects.count(), HistoryEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        importer.ics_import(actor=user, content=content)
    assert Activity.objects.count() == count and HistoryEntry.objects.count() == history
    assert ActivityException.objects.count() == 0
    assert set(caught.value.message_dict) == {"file"}
    return " ".join(caught.value.message_dict["file"])


GOOD = vevent("good-1", "DTSTART:20300101T100000Z")


@pytest.mark.parametrize(("content", "says"), [
    (b"", "Choose an .ics file"),
    (b"Hello, this is a letter.\r\n", "not an iCalendar"),
    (b"\xff\xfe\x00B\x00E", "not UTF-8"),
    (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Pat\r\nEND:VCARD\r\n", "vCard"),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20300101T100000Z\r\n", "cut off"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "Line 4: END:VTODO"),
    (ics() + ics(GOOD), "more than one calendar"),
    (ics(), "no events or to-dos"),
])
def test_a_file_that_is_not_a_calendar_is_refused(anna, content, says):
    assert says in refused(anna, content)


def test_a_file_over_two_megabytes_is_refused(anna):
    padding = "DESCRIPTION:" + "x" * 70 + "\r\n"
    big = ics(vevent("big", "DTSTART:20300101T100000Z", *[padding.strip()] * 30000))
    assert len(big) > importer.MAX_BYTES
    assert "2 MB" in refused(anna, big)


def test_a_file_with_too_many_items_is_refused(anna):
    many = ics(*[vevent(f"e{i}", "DTSTART:20300101T100000Z") for i in range(importer.MAX_ENTRIES + 1)])
    assert "2,000" in refused(anna, many)


@pytest.mark.parametrize(("bad", "says"), [
    ("DTSTART:20270230T100000Z", "DTSTART"),  # February 30th
    ("DTSTART;VALUE=DATE:20270230", "DTSTART"),
    ("DTSTART:20300101T100000Z\r\nRRULE:FREQ=SOMETIMES", "RRULE"),
    ("DTSTART:20300101T100000Z\r\nRRULE:FREQ=WEEKLY;BYHOUR=9", "RRULE: Unknown rule part BYHOUR"),
    ("DTSTART:20300101T100000Z\r\nRRULE:FREQ=DAILY;UNTIL=20200101", "RRULE"),
    ("DTSTART;TZID=Europe/Berlin:20300331T023000", "2030-03-31 02:30 does not exist in Europe/Berlin"),
    ("DTSTART;TZID=Mars/Olympus_Mons:20300101T100000", "Mars/Olympus_Mons"),
    ("DTSTART:20300101T100000Z\r\nDTEND:20300101T090000Z", "ends (DTEND) before it starts"),
    ("SUMMARY:No start", "needs a start"),
])
def test_one_bad_event_refuses_the_whole_file_and_names_it(anna, bad, says):
    message = refused(anna, ics(GOOD, vevent("bad-2@example.com", *bad.split("\r\n"))))
    assert says in message, message
    assert "Event 2 (line 10, UID bad-2@example.com)" in message, message
    assert "good-1" not in message


def test_every_bad_event_is_listed(anna):
    message = refused(anna, ics(vevent("a", "DTSTART:20270230T100000Z"), GOOD, vevent("c", "SUMMARY:x")))
    assert "Event 1" in message and "Event 3" in message and "Event 2" not in message


def test_the_same_uid_twice_is_refused(anna):
    assert "the same UID as Event 1 (line 4" in refused(anna, ics(GOOD, GOOD))


def test_a_reader_may_not_import(db):
    viewer = UserFactory(username="reader", role_slugs="read-only")
    with pytest.raises(PermissionDenied):
        importer.ics_import(actor=viewer, content=ics(GOOD))
    assert not Activity.objects.exists()


# --- The Calendar settings page, the import form, the API --------------------------------------------


def test_settings_page_shows_the_absolute_feed_address(anna):
    client = client_for(anna)
    page = client.get(reverse("settings_calendar"))
    assert page.status_code == 200
    text = page.content.decode()
    address = f"http://testserver{feed_url(anna)}"
    assert f'value="{address}"' in text and "readonly" in text
    for app in ("Outlook", "Google Calendar", "Apple Calendar", "Thunderbird"):
        assert app in text
    assert "Make a new address" in text and "Turn the feed off" in text
    assert 'aria-current="page">Calendar<' in text
    assert 'enctype="multipart/form-data"' in text


def test_settings_page_makes_a_new_address_and_turns_the_feed_off(anna):
    client = client_for(anna)
    old = feed_url(anna)
    response = client.post(reverse("settings_calendar"), {"action": "regenerate"})
    assert response.status_code == 302 and response["Location"] == reverse("settings_calendar")
    new = feed_url(anna)
    assert new != old and fetch(old)[0].status_code == 404 and fetch(new)[0].status_code == 200
    assert new in client.get(reverse("settings_calendar")).content.decode()

    assert client.post(reverse("settings_calendar"), {"action": "revoke"}).status_code == 302
    assert fetch(new)[0].status_code == 404
    text = client.get(reverse("settings_calendar")).content.decode()
    assert "/calendar/feed/" not in text and "Turn the feed off" not in text and "Make a new address" in text
    assert client.post(reverse("settings_calendar"), {"action": "bogus"}).status_code == 400


def test_settings_posts_need_the_csrf_token(anna):
    client = Client(enforce_csrf_checks=True)
    client.force_login(anna)
    url = feed_url(anna)
    assert client.post(reverse("settings_calendar"), {"action": "revoke"}).status_code == 403
    upload = SimpleUploadedFile("a.ics", ics(GOOD), content_type="text/calendar")
    assert client.post(reverse("calendar_import"), {"file": upload}).status_code == 403
    assert fetch(url)[0].status_code == 200 and not Activity.objects.exists()
    client.get(reverse("settings_calendar"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post(reverse("settings_calendar"), {"action": "revoke", "csrfmiddlewaretoken": token}
                       ).status_code == 302
    assert fetch(url)[0].status_code == 404


def test_import_form_reports_counts_then_errors(anna):
    client = client_for(anna)
    upload = SimpleUploadedFile("cal.ics", ics(GOOD, vevent("good-2", "DTSTART:20300102T100000Z")),
                                content_type="text/calendar")
    response = client.post(reverse("calendar_import"), {"file": upload}, follow=True)
    assert response.redirect_chain == [(reverse("settings_calendar"), 302)]
    assert "2 created, 0 updated, 0 unchanged." in response.content.decode()

    upload = SimpleUploadedFile("cal.ics", ics(GOOD, vevent("bad", "DTSTART:20270230T100000Z")))
    response = client.post(reverse("calendar_import"), {"file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported" in text and "Event 2 (line 10, UID bad)" in text
    assert Activity.objects.count() == 2

    response = client.post(reverse("calendar_import"), {})
    assert response.status_code == 400 and "Choose an .ics file" in response.content.decode()
    assert client.get(reverse("calendar_import")).status_code == 405


def test_import_form_refuses_a_large_upload_before_reading_it(anna):
    client = client_for(anna)
    upload = SimpleUploadedFile("big.ics", b"BEGIN:VCALENDAR\r\n" + b"X" * importer.MAX_BYTES)
    response = client.post(reverse("calendar_import"), {"file": upload})
    assert response.status_code == 400 and "larger than 2 MB" in response.content.decode()


def test_readers_get_no_import_form(db):
    viewer = UserFactory(username="reader", role_slugs="read-only")
    client = client_for(viewer)
    text = client.get(reverse("settings_calendar")).content.decode()
    assert "/calendar/feed/" in text and "Import an .ics file" not in text
    upload = SimpleUploadedFile("cal.ics", ics(GOOD))
    assert client.post(reverse("calendar_import"), {"file": upload}).status_code == 403


def test_me_has_the_calendar_feed_url(anna):
    api = ApiClient(anna)
    body = api.get("me").json()
    assert body["calendar_feed_url"] == f"http://testserver{feed_url(anna)}"
    services.feed_revoke(user=anna)
    assert api.get("me").json()["calendar_feed_url"] is None
    schema = Client().get("/api/v1/openapi.json").json()
    assert "calendar_feed_url" in schema["components"]["schemas"]["MeOut"]["properties"]
