"""Calendar items of CalDAV sync (rapport/sync/calendar_items.py): an activity as the text a calendar
client stores, and a client's text back into an activity.

Each test is something a person with a phone or Outlook would notice: an event that comes back
changed, an alarm or a custom property lost, an ETag that moves although nothing changed (the
client downloads everything again), a bad item that half-saves.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from rapport.activities import services
from rapport.activities.ical import convert, importer
from rapport.activities.models import Activity, ActivityAssignee, ActivityException, ActivityKind
from rapport.sync.calendar_items import calendar_put, calendar_texts, stored_uids
from rapport.sync.errors import DavRefusal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEXT_YEAR = timezone.now().year + 1


def first_monday(year: int, month: int = 1) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


MONDAY = first_monday(NEXT_YEAR, 2)


def berlin(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN).astimezone(dt.UTC)


def local(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute)).strftime("%Y%m%dT%H%M%S")


def week(n: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=n)


@pytest.fixture
def anna():
    return UserFactory(username="anna", first_name="Anna", time_zone="Europe/Berlin")


@pytest.fixture
def ben():
    return UserFactory(username="ben", first_name="Ben", time_zone="America/New_York")


def calendar(*components: str, prodid: str = "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN") -> str:
    body = "".join(components)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{prodid}\r\n{body}END:VCALENDAR\r\n"


def lines(*items: str) -> str:
    return "".join(f"{item}\r\n" for item in items)


ALARM = lines("BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM")


def client_series(uid: str = "weekly-42@example.com", *, second_override: bool = True) -> str:
    """A weekly series as Thunderbird writes it: 09:00 Berlin, week 2 cancelled (EXDATE), week 1 moved
    to 11:00 and week 3 moved to Tuesday (RECURRENCE-ID), an alarm, an attendee, X- properties."""
    master = lines(
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z", "SUMMARY:Team sync",
        f"DTSTART;TZID=Europe/Berlin:{local(week(0), 9)}", f"DTEND;TZID=Europe/Berlin:{local(week(0), 9, 30)}",
        "RRULE:FREQ=WEEKLY;COUNT=10", f"EXDATE;TZID=Europe/Berlin:{local(week(2), 9)}",
        'ATTENDEE;CN="Ben Baker";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:ben@example.com',
        "X-MOZ-GENERATION:3",
    ) + ALARM + lines("END:VEVENT")
    moved = lines(
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z", "SUMMARY:Team sync (later)",
        f"RECURRENCE-ID;TZID=Europe/Berlin:{local(week(1), 9)}",
        f"DTSTART;TZID=Europe/Berlin:{local(week(1), 11)}", f"DTEND;TZID=Europe/Berlin:{local(week(1), 11, 30)}",
        "X-MOZ-OVERRIDE:kept", "END:VEVENT")
    tuesday = lines(
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z", "SUMMARY:Team sync",
        f"RECURRENCE-ID;TZID=Europe/Berlin:{local(week(3), 9)}",
        f"DTSTART;TZID=Europe/Berlin:{local(week(3) + dt.timedelta(days=1), 9)}",
        f"DTEND;TZID=Europe/Berlin:{local(week(3) + dt.timedelta(days=1), 9, 30)}", "END:VEVENT")
    return calendar(master, moved, *([tuesday] if second_override else []))


def single_event(uid: str, *extra: str, start: str | None = None) -> str:
    start = start or f"DTSTART;TZID=Europe/Berlin:{local(week(0), 14)}"
    return calendar(lines("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z", "SUMMARY:Call Jo",
                          start, *extra, "END:VEVENT"))


def todo(uid: str, *extra: str) -> str:
    return calendar(lines("BEGIN:VTODO", f"UID:{uid}", "DTSTAMP:20250101T120000Z", "SUMMARY:Send the offer",
                          *extra, "END:VTODO"))


def put(user, text: str, component: str = "VEVENT", activity: Activity | None = None,
        href: str | None = None) -> Activity:
    return calendar_put(actor=user, text=text, component=component, activity=activity,
                        href=href or "item.ics")


def fresh(activity: Activity) -> Activity:
    return Activity.objects.select_related("kind").get(pk=activity.pk)


def text_of(activity: Activity) -> str:
    activity = fresh(activity)
    return calendar_texts([activity])[activity.pk]


def entries_of(text: str, user) -> list[importer.Entry]:
    return importer.read_entries(text, home_zone=user.time_zone, kinds=convert.Kinds.load(), notes=[])


def exceptions_of(activity: Activity) -> dict[dt.datetime, tuple | None]:
    return {exc.original_start: None if exc.cancelled else (exc.starts_at, exc.ends_at)
            for exc in ActivityException.objects.filter(activity=activity)}


# --- Rapport's own activities, as a client reads them ------------------------------------------------


def test_a_rapport_event_reads_back_as_the_same_event(anna):
    activity = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": ActivityKind.objects.get(key="call"), "subject": "Review, Q1; draft",
        "description": "Line one\nLine two", "location": "Room 4", "priority": "high", "reminder_minutes": 30,
        "starts_at": berlin(week(0), 14, 30), "ends_at": berlin(week(0), 16), "rrule": "FREQ=WEEKLY;COUNT=6"})
    activity = services.occurrence_skip(actor=anna, activity=activity, original_start=berlin(week(1), 14, 30),
                                        version=activity.version)
    activity = services.occurrence_move(actor=anna, activity=activity, original_start=berlin(week(2), 14, 30),
                                        starts_at=berlin(week(2), 17), ends_at=berlin(week(2), 18),
                                        version=activity.version)
    text = text_of(activity)

    parsed = Calendar.from_ical(text)
    assert "METHOD" not in parsed and str(parsed["VERSION"]) == "2.0"
    assert [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")] == ["Europe/Berlin"]
    master, moved = entries_of(text, anna)
    assert master.uid == moved.uid == activity.uid
    for name in ("activity_type", "subject", "description", "location", "priority", "reminder_minutes",
                 "starts_at", "ends_at", "time_zone", "status"):
        assert master.data[name] == getattr(activity, name), name
    assert master.data["kind"].key == "call"
    assert master.data["rrule"].split(";") == ["FREQ=WEEKLY", "COUNT=6"]
    assert master.exdates == [berlin(week(1), 14, 30)]
    assert moved.recurrence_id == berlin(week(2), 14, 30)
    assert moved.moved == (berlin(week(2), 17), berlin(week(2), 18))

    # A client that sends the text it read straight back changes nothing: same version, no source kept.
    same = put(anna, text, activity=fresh(activity), href=f"{activity.uid}.ics")
    assert same.version == activity.version
    assert fresh(activity).ical_source == ""


def test_the_same_version_always_gives_the_same_bytes(anna):
    activity = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"), "subject": "Planning",
        "starts_at": berlin(week(0), 9), "ends_at": berlin(week(0), 10), "rrule": "FREQ=DAILY;COUNT=3"})
    first = text_of(activity)
    assert text_of(activity) == first
    assert f"DTSTAMP:{activity.updated_at.astimezone(dt.UTC):%Y%m%dT%H%M%S}Z" in first  # never now()

    services.activity_update(actor=anna, activity=fresh(activity), data={"subject": "Planning 2"},
                             version=activity.version)
    assert text_of(activity) != first


def test_an_all_day_event_and_a_task_are_written_as_dates(anna):
    day_off = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"), "subject": "Fair",
        "all_day": True, "starts_at": services.utc_midnight(week(0)),
        "ends_at": services.utc_midnight(week(0) + dt.timedelta(days=1))})
    task = services.activity_create(actor=anna, data={
        "activity_type": "task", "kind": ActivityKind.objects.get(key="todo"), "subject": "Offer",
        "due_on": week(1)})
    texts = calendar_texts([fresh(day_off), fresh(task)])
    assert f"DTSTART;VALUE=DATE:{week(0):%Y%m%d}" in texts[day_off.pk]
    assert f"DTEND;VALUE=DATE:{week(0) + dt.timedelta(days=1):%Y%m%d}" in texts[day_off.pk]
    assert "BEGIN:VTODO" in texts[task.pk] and f"DUE;VALUE=DATE:{week(1):%Y%m%d}" in texts[task.pk]
    assert "VTIMEZONE" not in texts[day_off.pk] + texts[task.pk]


# --- A client's recurring series -------------------------------------------------------------------


def test_a_clients_series_with_overrides_and_exdate_round_trips(anna):
    activity = put(anna, client_series(), href="weekly-42@example.com.ics")

    activity = fresh(activity)
    assert activity.uid == "weekly-42@example.com" and activity.dav_name == ""
    assert activity.rrule == "FREQ=WEEKLY;COUNT=10" and activity.time_zone == "Europe/Berlin"
    assert activity.starts_at == berlin(week(0), 9) and activity.reminder_minutes == 15
    assert list(ActivityAssignee.objects.filter(activity=activity).values_list("user_id", flat=True)) == [anna.pk]
    assert exceptions_of(activity) == {
        berlin(week(1), 9): (berlin(week(1), 11), berlin(week(1), 11, 30)),
        berlin(week(2), 9): None,
        berlin(week(3), 9): (berlin(week(3) + dt.timedelta(days=1), 9),
                             berlin(week(3) + dt.timedelta(days=1), 9, 30)),
    }

    text = text_of(activity)
    assert "X-MOZ-GENERATION:3\r\n" in text and "X-MOZ-OVERRIDE:kept\r\n" in text
    assert ALARM in text  # the alarm as the client wrote it
    assert f"EXDATE;TZID=Europe/Berlin:{local(week(2), 9)}\r\n" in text
    assert text.count("RECURRENCE-ID") == 2 and "SUMMARY:Team sync (later)" in text
    events = Calendar.from_ical(text).walk("VEVENT")
    assert {str(event["UID"]) for event in events} == {"weekly-42@example.com"}
    attendee = events[0]["ATTENDEE"]
    assert attendee.params["CN"] == "Ben Baker" and attendee.params["PARTSTAT"] == "ACCEPTED"

    # The same text again (a client that syncs twice) changes nothing: the ETag stays.
    again = put(anna, client_series(), activity=activity, href="weekly-42@example.com.ics")
    assert again.version == activity.version
    assert text_of(activity) == text
    # So does the text the client last read, sent back as it came; the client's own text stays the source.
    assert put(anna, text, activity=fresh(activity)).version == activity.version
    assert fresh(activity).ical_source == activity.ical_source


def test_an_occurrence_the_client_no_longer_changes_goes_back_to_the_rule(anna):
    activity = put(anna, client_series())
    activity = put(anna, client_series(second_override=False), activity=fresh(activity))
    assert set(exceptions_of(activity)) == {berlin(week(1), 9), berlin(week(2), 9)}
    assert fresh(activity).version == activity.version
    assert text_of(activity).count("RECURRENCE-ID") == 1


def test_a_cancelled_override_is_a_skipped_occurrence(anna):
    cancelled = client_series(second_override=False).replace(
        "SUMMARY:Team sync (later)\r\n", "SUMMARY:Team sync (later)\r\nSTATUS:CANCELLED\r\n")
    activity = put(anna, cancelled)
    assert exceptions_of(activity) == {berlin(week(1), 9): None, berlin(week(2), 9): None}
    assert "RECURRENCE-ID" not in text_of(activity)


def test_an_edit_in_rapport_is_patched_into_the_clients_text(anna):
    activity = put(anna, client_series())
    before = fresh(activity)
    version = before.version
    services.activity_update(actor=anna, activity=before, data={"subject": "Weekly team sync"}, version=version)
    text = text_of(activity)
    assert "SUMMARY:Weekly team sync\r\n" in text
    assert "X-MOZ-GENERATION:3\r\n" in text and ALARM in text
    assert fresh(activity).version == version + 1


def test_a_client_edit_changes_the_activity_and_its_history(anna):
    activity = put(anna, single_event("edit-1@example.com"))
    changed = single_event("edit-1@example.com", "LOCATION:Room 7", "PRIORITY:1",
                           start=f"DTSTART;TZID=Europe/Berlin:{local(week(0), 15)}")
    updated = put(anna, changed, activity=fresh(activity))
    updated = fresh(updated)
    assert updated.version == activity.version + 1
    assert updated.location == "Room 7" and updated.priority == "high"
    assert updated.starts_at == berlin(week(0), 15)
    assert updated.ical_source.startswith("BEGIN:VEVENT") and "LOCATION:Room 7" in updated.ical_source


def test_a_client_that_drops_rapports_category_keeps_the_kind(anna):
    call = services.activity_create(actor=anna, data={
        "activity_type": "event", "kind": ActivityKind.objects.get(key="call"), "subject": "Call Jo",
        "starts_at": berlin(week(0), 9), "ends_at": berlin(week(0), 10)})
    text = "".join(line + "\r\n" for line in text_of(call).split("\r\n")
                   if line and not line.startswith(("X-RAPPORT-KIND", "CATEGORIES")))
    edited = put(anna, text.replace("SUMMARY:Call Jo", "SUMMARY:Call Jo back"), activity=fresh(call))
    assert fresh(edited).subject == "Call Jo back" and fresh(edited).kind.key == "call"


# --- Times as clients write them ---------------------------------------------------------------------


WINDOWS_ZONE = lines(
    "BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE")


def test_outlook_zone_names_floating_times_and_all_day_events(anna, ben):
    outlook = calendar(WINDOWS_ZONE, lines(
        "BEGIN:VEVENT", "UID:outlook-1", "DTSTAMP:20250101T120000Z", "SUMMARY:Board",
        f"DTSTART;TZID=W. Europe Standard Time:{local(week(0), 9)}",
        f"DTEND;TZID=W. Europe Standard Time:{local(week(0), 10)}", "RRULE:FREQ=WEEKLY;COUNT=4", "END:VEVENT"),
        prodid="-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
    board = fresh(put(anna, outlook))
    assert board.time_zone == "Europe/Berlin" and board.starts_at == berlin(week(0), 9)
    assert "DTSTART;TZID=Europe/Berlin:" in text_of(board)

    floating = fresh(put(ben, single_event("float-1", start=f"DTSTART:{local(week(0), 9)}")))
    assert floating.time_zone == "America/New_York"
    assert floating.starts_at == dt.datetime.combine(week(0), dt.time(9), tzinfo=zoneinfo.ZoneInfo(
        "America/New_York")).astimezone(dt.UTC)

    holiday = fresh(put(anna, single_event("allday-1", f"DTEND;VALUE=DATE:{week(0) + dt.timedelta(days=2):%Y%m%d}",
                                           start=f"DTSTART;VALUE=DATE:{week(0):%Y%m%d}")))
    assert holiday.all_day and holiday.first_day == week(0) and holiday.last_day == week(0) + dt.timedelta(days=1)


# --- Tasks -------------------------------------------------------------------------------------------


def test_a_task_is_created_completed_and_repeats_from_the_client(anna):
    task = put(anna, todo("task-1@example.com", f"DUE;VALUE=DATE:{week(1):%Y%m%d}",
                          "RRULE:FREQ=MONTHLY;COUNT=3", "X-APPLE-SORT-ORDER:42"), component="VTODO")
    task = fresh(task)
    assert task.is_task and task.due_on == week(1) and task.status == "open"
    assert task.rrule == "FREQ=MONTHLY;COUNT=3"

    done = put(anna, todo("task-1@example.com", f"DUE;VALUE=DATE:{week(1):%Y%m%d}", "RRULE:FREQ=MONTHLY;COUNT=3",
                          "X-APPLE-SORT-ORDER:42", "STATUS:COMPLETED", "COMPLETED:20250102T100000Z"),
               component="VTODO", activity=task)
    done = fresh(done)
    assert done.status == "completed" and done.completed_at is not None
    assert not ActivityAssignee.objects.get(activity=done).open_task
    text = text_of(done)
    assert "STATUS:COMPLETED" in text and "RRULE:FREQ=MONTHLY;COUNT=3" in text and "X-APPLE-SORT-ORDER:42" in text

    # A client that marks completion by percentage alone, and a due time that counts on its own day.
    other = put(anna, todo("task-2", f"DUE;TZID=Europe/Berlin:{local(week(2), 17)}", "PERCENT-COMPLETE:100"),
                component="VTODO")
    assert fresh(other).status == "completed" and fresh(other).due_on == week(2)


def test_an_assignee_may_complete_a_task_they_do_not_own_but_not_rename_it(anna, ben):
    task = services.activity_create(actor=anna, assignees=[anna, ben], data={
        "activity_type": "task", "kind": ActivityKind.objects.get(key="todo"), "subject": "Offer",
        "due_on": week(1)})
    text = text_of(task)
    done = put(ben, text.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED"), component="VTODO",
               activity=fresh(task))
    assert fresh(done).status == "completed" and fresh(done).version == task.version + 1

    with pytest.raises(DavRefusal) as refused:
        put(ben, text_of(done).replace("SUMMARY:Offer", "SUMMARY:Mine now"), component="VTODO",
            activity=fresh(task))
    assert refused.value.status == 403
    assert fresh(task).subject == "Offer"


# --- Refusals ----------------------------------------------------------------------------------------


def test_the_wrong_component_is_refused(anna):
    with pytest.raises(DavRefusal) as refused:
        put(anna, todo("t-1", f"DUE;VALUE=DATE:{week(1):%Y%m%d}"), component="VEVENT")
    assert refused.value.status == 403 and "VTODO" in refused.value.message
    with pytest.raises(DavRefusal) as refused:
        put(anna, single_event("e-1"), component="VTODO")
    assert refused.value.status == 403 and "VEVENT" in refused.value.message
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("text", "named"), [
    ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n", "BEGIN:VEVENT"),
    (calendar(lines("BEGIN:VEVENT", "SUMMARY:No uid", "DTSTART:20300101T100000Z", "END:VEVENT")), "UID"),
    (calendar(lines("BEGIN:VEVENT", "UID:no-start", "SUMMARY:No start", "END:VEVENT")), "DTSTART"),
    (calendar(lines("BEGIN:VEVENT", "UID:a", "DTSTART:20300101T100000Z", "END:VEVENT"),
              lines("BEGIN:VEVENT", "UID:b", "DTSTART:20300101T100000Z", "END:VEVENT")), "UID"),
    (calendar(lines("BEGIN:VEVENT", "UID:a", "DTSTART:20300101T100000Z", "RRULE:FREQ=SOMETIMES", "END:VEVENT")),
     "RRULE"),
    (calendar(lines("BEGIN:VEVENT", "UID:a", "DTSTART:20300107T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "END:VEVENT"),
              lines("BEGIN:VEVENT", "UID:a", "RECURRENCE-ID:20300108T100000Z", "DTSTART:20300108T120000Z",
                    "END:VEVENT")), "RECURRENCE-ID"),
    ("this is not a calendar", "BEGIN:VCALENDAR"),
])
def test_malformed_text_is_refused_and_nothing_is_stored(anna, text, named):
    with pytest.raises(DavRefusal) as refused:
        put(anna, text)
    assert refused.value.status == 400
    assert named in refused.value.message
    assert not Activity.objects.exists() and not ActivityException.objects.exists()


def test_a_refused_replacement_leaves_the_item_as_it_was(anna):
    activity = fresh(put(anna, client_series()))
    before = (activity.version, activity.ical_source, exceptions_of(activity))
    broken = client_series().replace("RRULE:FREQ=WEEKLY;COUNT=10", "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=XX")
    with pytest.raises(DavRefusal) as refused:
        put(anna, broken, activity=activity)
    assert refused.value.status == 400 and "RRULE" in refused.value.message
    activity = fresh(activity)
    assert (activity.version, activity.ical_source, exceptions_of(activity)) == before

    with pytest.raises(DavRefusal) as refused:
        put(anna, single_event("another-uid"), activity=activity)
    assert refused.value.status == 409


def test_a_reader_may_not_create_an_event(db):
    viewer = UserFactory(username="viewer", role_slugs="read-only")
    with pytest.raises(DavRefusal) as refused:
        put(viewer, single_event("v-1"))
    assert refused.value.status == 403
    assert not Activity.objects.exists()


# --- One invitation on two people's calendars ----------------------------------------------------------


def test_the_same_client_uid_from_another_user_gets_a_derived_uid(anna, ben):
    annas = put(anna, client_series("invite-7@example.com"), href="invite-7@example.com.ics")
    bens = put(ben, client_series("invite-7@example.com"), href="invite-7@example.com.ics")

    assert annas.uid == "invite-7@example.com"
    assert bens.uid != annas.uid and bens.uid in stored_uids("invite-7@example.com", ben)
    assert bens.owner_id == ben.pk and "UID:invite-7@example.com\r\n" in bens.ical_source
    assert fresh(bens).dav_name == "invite-7@example.com.ics"  # the name ben's client gave it
    texts = calendar_texts([fresh(annas), fresh(bens)])
    for text in texts.values():
        assert {str(event["UID"]) for event in Calendar.from_ical(text).walk("VEVENT")} == {"invite-7@example.com"}
    assert stored_uids("invite-7@example.com", anna)[0] == annas.uid

    # Ben's client sends its copy again under the UID it knows: a replacement, not a clash.
    again = put(ben, client_series("invite-7@example.com"), activity=fresh(bens))
    assert again.pk == bens.pk and again.version == bens.version


def test_a_client_uid_already_in_the_users_other_collection_is_a_conflict(anna):
    put(anna, todo("shared-uid", f"DUE;VALUE=DATE:{week(1):%Y%m%d}"), component="VTODO")
    with pytest.raises(DavRefusal) as refused:
        put(anna, single_event("shared-uid"))
    assert refused.value.status == 409
    assert Activity.objects.count() == 1


# --- Reading many ------------------------------------------------------------------------------------


def test_two_hundred_items_are_written_in_a_fixed_number_of_queries(anna, django_assert_max_num_queries):
    meeting = ActivityKind.objects.get(key="meeting")
    for number in range(200):
        if number % 10 == 0:
            put(anna, client_series(f"series-{number}@example.com"))
            continue
        activity = services.activity_create(actor=anna, data={
            "activity_type": "event", "kind": meeting, "subject": f"Meeting {number}",
            "starts_at": berlin(week(number % 8), 9), "ends_at": berlin(week(number % 8), 10),
            "rrule": "FREQ=DAILY;COUNT=5" if number % 3 == 0 else ""})
        if number % 3 == 0:
            services.occurrence_skip(actor=anna, activity=activity, original_start=berlin(week(number % 8) + (
                dt.timedelta(days=1)), 9), version=activity.version)
    activities = list(Activity.objects.select_related("kind").order_by("pk"))
    assert len(activities) == 200
    with django_assert_max_num_queries(2):  # the exceptions, and the kinds (for patching client items)
        texts = calendar_texts(activities)
    assert len(texts) == 200
    assert sum(text.count("EXDATE") for text in texts.values()) == 20 + 60

