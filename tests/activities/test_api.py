"""The activities and notes API: CRUD, occurrences in a range, time zones, filters, validation,
concurrency, visibility, paging."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.activities.models import Activity, ActivityException, ActivityKind, Note
from rapport.core.models import HistoryEntry, Visibility
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, NoteFactory

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


@pytest.fixture
def account(personas):
    return AccountFactory(name="Acme Tools", owner=personas.owner)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stored() -> dict:
    """What a refused write must leave as it was."""
    return {"activities": list(Activity.objects.order_by("pk").values()),
            "exceptions": list(ActivityException.objects.order_by("pk").values()),
            "notes": list(Note.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


def in_range(api, start: str, end: str, **params) -> list[dict]:
    response = api.get("activities", start=start, end=end, **params)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["next"] is None
    return body["items"]


# --- CRUD ------------------------------------------------------------------------------------


def test_task_create_read_update_delete_restore(api, personas, account):
    created = api.post("activities", {"type": "task", "kind": "call", "subject": "Call Anna", "due_on": "2027-01-15",
                                      "priority": "high", "regarding": [f"account:{account.public_id}"],
                                      "reminder_minutes": 30})
    assert created.status_code == 201, created.json()
    body = created.json()
    activity_id = body["id"]
    assert not activity_id.isdigit() and body["uid"]
    assert (body["type"], body["kind"], body["subject"], body["priority"], body["status"]) == (
        "task", "call", "Call Anna", "high", "open")
    assert (body["due_on"], body["starts_at"], body["all_day"]) == ("2027-01-15", "2027-01-15T00:00:00Z", True)
    assert body["owner"] == {"id": personas.owner.public_id, "name": personas.owner.display_name}
    assert body["assignees"] == [body["owner"]]
    assert body["regarding"] == [{"type": "account", "id": account.public_id, "name": "Acme Tools"}]
    assert body["version"] == 1 and body["reminder_minutes"] == 30 and body["completed_at"] is None
    assert body["created_at"].endswith("Z")

    assert api.get(f"activities/{activity_id}").json() == body

    changed = api.patch(f"activities/{activity_id}", {"version": 1, "subject": "Call Anna Berg", "due_on": "2027-01-18",
                                                      "reminder_minutes": None})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["version"], changed.json()["subject"], changed.json()["due_on"]) == (
        2, "Call Anna Berg", "2027-01-18")
    assert changed.json()["reminder_minutes"] is None

    assert api.delete(f"activities/{activity_id}").status_code == 204
    assert api.get(f"activities/{activity_id}").status_code == 404
    assert Activity.objects.get(public_id=activity_id).deleted_at is not None  # soft

    restored = api.post(f"activities/{activity_id}/restore")
    assert restored.status_code == 200
    assert restored.json()["subject"] == "Call Anna Berg" and restored.json()["version"] == 4


def test_event_with_people_and_times_in_utc(api, personas, account):
    contact = ContactFactory(last_name="Berg", owner=personas.owner)
    created = api.post("activities", {
        "type": "event", "subject": "Demo", "location": "Oslo office",
        "starts_at": "2027-01-15T10:00:00+01:00", "ends_at": "2027-01-15T11:30:00+01:00",
        "assignees": [personas.owner.public_id, personas.teammate.public_id],
        "attendees": [contact.public_id], "regarding": [f"contact:{contact.public_id}"], "visibility": "team"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["kind"], body["starts_at"], body["ends_at"], body["due_on"], body["all_day"]) == (
        "meeting", "2027-01-15T09:00:00Z", "2027-01-15T10:30:00Z", None, False)
    assert {a["id"] for a in body["assignees"]} == {personas.owner.public_id, personas.teammate.public_id}
    assert body["attendees"] == [{"id": contact.public_id, "name": str(contact)}]
    assert body["regarding"] == [{"type": "contact", "id": contact.public_id, "name": str(contact)}]
    assert body["visibility"] == "team"


def test_local_times_are_read_in_the_time_zone(api):
    body = api.post("activities", {"type": "event", "subject": "Lunch", "starts_at": "2027-07-01T12:00",
                                   "time_zone": "Europe/Oslo"}).json()
    assert (body["starts_at"], body["ends_at"], body["time_zone"]) == (
        "2027-07-01T10:00:00Z", "2027-07-01T11:00:00Z", "Europe/Oslo")


def test_all_day_events_keep_their_dates_whatever_the_zone(api):
    """The end of an all-day event is the midnight after its last day, as iCalendar's DTEND."""
    fair = api.post("activities", {"type": "event", "subject": "Fair", "all_day": True, "starts_at": "2027-05-03",
                                   "ends_at": "2027-05-06", "time_zone": "America/New_York"}).json()
    assert (fair["starts_at"], fair["ends_at"], fair["all_day"]) == (
        "2027-05-03T00:00:00Z", "2027-05-06T00:00:00Z", True)
    one_day = api.post("activities", {"type": "event", "subject": "Holiday", "all_day": True,
                                      "starts_at": "2027-05-03T00:00:00+09:00", "time_zone": "Asia/Tokyo"}).json()
    assert (one_day["starts_at"], one_day["ends_at"]) == ("2027-05-03T00:00:00Z", "2027-05-04T00:00:00Z")


def test_complete_by_the_owner(api, personas):
    activity = ActivityFactory(task=True, owner=personas.owner)
    response = api.post(f"activities/{activity.public_id}/complete", {"version": activity.version})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed" and response.json()["completed_at"]
    assert response.json()["version"] == activity.version + 1
    stale = api.post(f"activities/{activity.public_id}/complete", {"version": activity.version})
    assert stale.status_code == 409


def test_an_assignee_may_complete_but_not_change(personas, api_for):
    activity = ActivityFactory(task=True, owner=personas.owner, visibility=Visibility.PRIVATE,
                               assignees=[personas.teammate])
    teammate = api_for(personas.teammate)
    assert teammate.get(f"activities/{activity.public_id}").status_code == 200  # assigned: visible although private
    refused = teammate.patch(f"activities/{activity.public_id}", {"version": 1, "subject": "Mine now"})
    assert refused.status_code == 403
    done = teammate.post(f"activities/{activity.public_id}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert api_for(personas.outsider).post(f"activities/{activity.public_id}/complete").status_code == 404


# --- Occurrences in a range ------------------------------------------------------------------


def test_range_expands_an_open_ended_recurrence_with_a_skipped_and_a_moved_occurrence(api, personas):
    weekly = api.post("activities", {"type": "event", "subject": "Stand-up", "starts_at": "2027-01-04T09:00:00Z",
                                     "ends_at": "2027-01-04T09:15:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO"}).json()
    assert weekly["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    single = ActivityFactory(owner=personas.owner, subject="Review", starts_at=utc(2027, 1, 20, 15),
                             ends_at=utc(2027, 1, 20, 16))
    task = ActivityFactory(task=True, owner=personas.owner, subject="Send offer", due_on=dt.date(2027, 1, 22))
    ActivityFactory(owner=personas.owner, subject="Later", starts_at=utc(2027, 3, 1, 9), ends_at=utc(2027, 3, 1, 10))

    skipped = api.post(f"activities/{weekly['id']}/skip", {"original_start": "2027-01-11T09:00:00Z", "version": 1})
    assert skipped.status_code == 200, skipped.json()
    moved = api.post(f"activities/{weekly['id']}/move", {"original_start": "2027-01-18T09:00:00+00:00", "version": 2,
                                                         "starts_at": "2027-01-19T15:00:00+01:00"})
    assert moved.status_code == 200, moved.json()
    assert moved.json()["version"] == 3

    items = in_range(api, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z")
    shown = [(item["subject"], item["occurrence_start"], item["original_start"], item["moved"]) for item in items]
    assert shown == [
        ("Stand-up", "2027-01-04T09:00:00Z", "2027-01-04T09:00:00Z", False),
        ("Stand-up", "2027-01-19T14:00:00Z", "2027-01-18T09:00:00Z", True),
        ("Review", "2027-01-20T15:00:00Z", None, False),
        ("Send offer", "2027-01-22T00:00:00Z", None, False),
        ("Stand-up", "2027-01-25T09:00:00Z", "2027-01-25T09:00:00Z", False),
    ]
    assert items[1]["occurrence_end"] == "2027-01-19T14:15:00Z"
    assert items[0]["id"] == weekly["id"] and items[0]["starts_at"] == "2027-01-04T09:00:00Z"
    assert items[3]["id"] == task.public_id and items[2]["id"] == single.public_id

    # Years later, the open-ended rule still answers, bounded by the range; filters apply to ranges too.
    later = in_range(api, "2031-06-01T00:00:00+02:00", "2031-06-15T00:00:00+02:00", type="event")
    assert [item["occurrence_start"] for item in later] == ["2031-06-02T09:00:00Z", "2031-06-09T09:00:00Z"]


def test_an_unencoded_plus_in_the_offset_is_understood(api, personas):
    ActivityFactory(owner=personas.owner, starts_at=utc(2027, 1, 20, 15), ends_at=utc(2027, 1, 20, 16))
    response = api.client.get("/api/v1/activities?start=2027-01-20T00:00:00+01:00&end=2027-01-21T00:00:00+01:00",
                              headers=api.headers)
    assert response.status_code == 200, response.json()
    assert len(response.json()["items"]) == 1


def test_weekly_09_00_in_new_york_stays_09_00_across_daylight_saving(api):
    created = api.post("activities", {"type": "event", "subject": "Planning", "starts_at": "2027-03-01T09:00",
                                      "time_zone": "America/New_York", "rrule": "FREQ=WEEKLY"})
    assert created.status_code == 201, created.json()
    assert created.json()["starts_at"] == "2027-03-01T14:00:00Z"

    march = in_range(api, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z")
    assert [item["occurrence_start"] for item in march] == [
        "2027-03-01T14:00:00Z", "2027-03-08T14:00:00Z",  # EST, UTC-5
        "2027-03-15T13:00:00Z", "2027-03-22T13:00:00Z", "2027-03-29T13:00:00Z",  # EDT, UTC-4 from 14 March
    ]
    november = in_range(api, "2027-11-01T00:00:00Z", "2027-11-16T00:00:00Z")
    assert [item["occurrence_start"] for item in november] == [
        "2027-11-01T13:00:00Z",  # EDT
        "2027-11-08T14:00:00Z", "2027-11-15T14:00:00Z",  # EST again from 7 November
    ]
    for item in march + november:
        local = dt.datetime.fromisoformat(item["occurrence_start"]).astimezone(NEW_YORK)
        assert (local.hour, local.minute) == (9, 0)


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "2027-01-01T00:00:00Z"}, "end"),
    ({"end": "2027-01-01T00:00:00Z"}, "start"),
    ({"start": "2027-01-01T00:00:00Z", "end": "2028-03-01T00:00:00Z"}, "end"),  # over 400 days
    ({"start": "2027-01-02T00:00:00Z", "end": "2027-01-01T00:00:00Z"}, "end"),
    ({"start": "2027-01-01T00:00:00", "end": "2027-01-08T00:00:00Z"}, "start"),  # no offset
    ({"start": "2027-02-30T00:00:00Z", "end": "2027-03-08T00:00:00Z"}, "start"),
    ({"start": "yesterday", "end": "2027-03-08T00:00:00Z"}, "start"),
    ({"start": "2027-01-01T00:00:00Z", "end": "2027-01-08T00:00:00Z", "limit": "10"}, "limit"),
    ({"start": "2027-01-01T00:00:00Z", "end": "2027-01-08T00:00:00Z", "ordering": "starts_at"}, "ordering"),
])
def test_bad_ranges_answer_400_naming_the_parameter(api, params, field):
    response = api.get("activities", **params)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]


# --- Occurrence actions ------------------------------------------------------------------------


@pytest.fixture
def weekly(personas):
    return ActivityFactory(owner=personas.owner, subject="Weekly", starts_at=utc(2027, 1, 4, 9),
                           ends_at=utc(2027, 1, 4, 10), rrule="FREQ=WEEKLY;COUNT=4")


@pytest.mark.parametrize(("verb", "body", "field"), [
    ("skip", {"original_start": "2027-01-05T09:00:00Z"}, "occurrence"),  # no occurrence then
    ("skip", {"original_start": "2027-01-11T09:00:00"}, "original_start"),  # no offset
    ("skip", {}, "original_start"),
    ("move", {"original_start": "2027-01-11T09:00:00Z", "starts_at": "2027-01-12T10:00:00Z",
              "ends_at": "2027-01-12T09:00:00Z"}, "ends_at"),
    ("move", {"original_start": "2027-01-11T09:00:00Z"}, "starts_at"),
])
def test_bad_occurrence_changes_are_refused(api, weekly, verb, body, field):
    before = stored()
    response = api.post(f"activities/{weekly.public_id}/{verb}", {"version": weekly.version, **body})
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]
    assert stored() == before


def test_occurrences_of_a_single_activity_cannot_be_skipped(api, personas):
    single = ActivityFactory(owner=personas.owner)
    response = api.post(f"activities/{single.public_id}/skip", {"original_start": iso(single.starts_at),
                                                                "version": single.version})
    assert response.status_code == 422 and "occurrence" in response.json()["errors"]


def test_occurrence_changes_need_the_right_to_change_the_activity(personas, api_for, weekly):
    teammate = api_for(personas.teammate)
    body = {"original_start": "2027-01-11T09:00:00Z", "version": weekly.version}
    assert teammate.post(f"activities/{weekly.public_id}/skip", body).status_code == 403
    assert api_for(personas.manager).post(f"activities/{weekly.public_id}/skip", body).status_code == 200


def test_a_stale_occurrence_change_is_a_conflict(api, weekly):
    response = api.post(f"activities/{weekly.public_id}/skip", {"original_start": "2027-01-11T09:00:00Z",
                                                                "version": weekly.version - 1 or 99})
    assert response.status_code == 409
    assert not ActivityException.objects.exists()


# --- Filters and pages ---------------------------------------------------------------------------


@pytest.fixture
def filterable(personas, account):
    mine = ActivityFactory(task=True, owner=personas.owner, subject="Mine open", regarding=[account])
    ActivityFactory(task=True, owner=personas.owner, subject="Mine done", status="completed")
    ActivityFactory(owner=personas.owner, subject="Mine pending", status="pending", assignees=[personas.teammate])
    ActivityFactory(owner=personas.teammate, subject="For me", assignees=[personas.owner],
                    kind=ActivityKind.objects.get(key="call"))
    ActivityFactory(owner=personas.teammate, subject="Theirs", status="cancelled")
    return mine


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"Mine open", "Mine done", "Mine pending", "For me", "Theirs"}),
    ({"assigned_to": "me"}, {"Mine open", "Mine done", "For me"}),
    ({"owner": "me"}, {"Mine open", "Mine done", "Mine pending"}),
    ({"status": "open"}, {"Mine open", "Mine pending", "For me"}),
    ({"status": "completed,cancelled"}, {"Mine done", "Theirs"}),
    ({"type": "task"}, {"Mine open", "Mine done"}),
    ({"kind": "meeting"}, {"Mine pending", "Theirs"}),
    ({"kind": "call"}, {"For me"}),
    ({"assigned_to": "me", "status": "open"}, {"Mine open", "For me"}),
])
def test_filters(api, filterable, params, expected):
    response = api.get("activities", **params)
    assert response.status_code == 200, response.json()
    assert {item["subject"] for item in response.json()["items"]} == expected


def test_my_open_tasks_follow_completion_and_reassignment(api, personas):
    """A task list (assigned_to=me, status=open, type=task) reads the open-task index: it must follow
    every change that moves a task in or out of someone's open tasks."""
    ActivityFactory(task=True, owner=personas.owner, subject="Call back")
    ActivityFactory(task=True, owner=personas.teammate, subject="Pending for me", status="pending",
                    assignees=[personas.owner])
    done_later = ActivityFactory(task=True, owner=personas.owner, subject="Done later")
    given_away = ActivityFactory(task=True, owner=personas.owner, subject="Given away")
    deleted = ActivityFactory(task=True, owner=personas.owner, subject="Deleted")
    ActivityFactory(task=True, owner=personas.owner, subject="Done", status="completed")
    ActivityFactory(owner=personas.owner, subject="An open event")
    ActivityFactory(task=True, owner=personas.teammate, subject="Theirs")

    def my_open_tasks() -> set[str]:
        response = api.get("activities", assigned_to="me", status="open", type="task")
        assert response.status_code == 200, response.json()
        return {item["subject"] for item in response.json()["items"]}

    assert my_open_tasks() == {"Call back", "Pending for me", "Done later", "Given away", "Deleted"}
    assert api.post(f"activities/{done_later.public_id}/complete", {}).status_code == 200
    response = api.patch(f"activities/{given_away.public_id}", {"assignees": [personas.teammate.public_id],
                                                                 "version": given_away.version})
    assert response.status_code == 200, response.json()
    assert api.delete(f"activities/{deleted.public_id}").status_code == 204
    assert my_open_tasks() == {"Call back", "Pending for me"}


def test_my_occurrences_in_a_range_include_what_began_before_it_and_follow_reassignment(api, personas):
    """With assigned_to, a range reads the assignment rows in that range (a calendar's path): series
    and long events that began before the range, and short ones running into it, must still be found."""
    owner, teammate = personas.owner, personas.teammate
    ActivityFactory(owner=owner, subject="In range", starts_at=utc(2027, 3, 10, 9), ends_at=utc(2027, 3, 10, 10))
    ActivityFactory(owner=owner, subject="Weekly since January", starts_at=utc(2027, 1, 4, 9),
                    ends_at=utc(2027, 1, 4, 10), rrule="FREQ=WEEKLY")
    ActivityFactory(owner=owner, subject="Trade fair", starts_at=utc(2027, 2, 25, 8), ends_at=utc(2027, 3, 5, 18))
    ActivityFactory(owner=owner, subject="Overnight", starts_at=utc(2027, 2, 28, 22), ends_at=utc(2027, 3, 1, 2))
    ActivityFactory(owner=owner, subject="Over before", starts_at=utc(2027, 2, 27, 9), ends_at=utc(2027, 2, 27, 10))
    ActivityFactory(owner=owner, subject="After", starts_at=utc(2027, 4, 2, 9), ends_at=utc(2027, 4, 2, 10))
    ActivityFactory(owner=owner, subject="Teammate's", starts_at=utc(2027, 3, 11, 9), ends_at=utc(2027, 3, 11, 10),
                    assignees=[teammate])
    given = ActivityFactory(owner=owner, subject="Given away", starts_at=utc(2027, 3, 12, 9),
                            ends_at=utc(2027, 3, 12, 10))

    def mine() -> set[str]:
        return {item["subject"] for item in in_range(api, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z",
                                                       assigned_to="me")}

    assert mine() == {"In range", "Weekly since January", "Trade fair", "Overnight", "Given away"}
    response = api.patch(f"activities/{given.public_id}", {"assignees": [teammate.public_id],
                                                            "version": given.version})
    assert response.status_code == 200, response.json()
    assert mine() == {"In range", "Weekly since January", "Trade fair", "Overnight"}


def test_filter_by_the_record_it_regards(api, filterable, account):
    items = api.get("activities", regarding=f"account:{account.public_id}").json()["items"]
    assert [item["subject"] for item in items] == ["Mine open"]


@pytest.mark.parametrize(("params", "field"), [
    ({"colour": "red"}, "colour"),
    ({"status": "finished"}, "status"),
    ({"type": "call"}, "type"),
    ({"owner": "nobody"}, "owner"),
    ({"regarding": "account:nothere"}, "regarding"),
    ({"regarding": "planet:earth"}, "regarding"),
    ({"ordering": "subject"}, "ordering"),
    ({"cursor": "garbage"}, "cursor"),
])
def test_bad_filters_answer_400(api, filterable, params, field):
    response = api.get("activities", **params)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]


def test_pages_of_activities(api, personas):
    for day in range(1, 8):
        ActivityFactory(owner=personas.owner, subject=f"Day {day}", starts_at=utc(2027, 2, day, 9),
                        ends_at=utc(2027, 2, day, 10))
    seen, cursor = [], None
    while True:
        body = api.get("activities", limit=3, ordering="-starts_at", **({"cursor": cursor} if cursor else {})).json()
        assert set(body) == {"items", "next"} and len(body["items"]) <= 3
        seen += [item["subject"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == [f"Day {day}" for day in range(7, 0, -1)]


# --- Validation and conflicts ---------------------------------------------------------------------


def bad_bodies(personas, hidden_account):
    event = {"type": "event", "subject": "Meeting", "starts_at": "2027-01-15T10:00:00Z"}
    task = {"type": "task", "subject": "To do", "due_on": "2027-01-15"}
    return [
        ({**event, "ends_at": "2027-01-15T09:00:00Z"}, "ends_at"),
        ({**event, "rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({**event, "rrule": "every monday"}, "rrule"),
        ({**event, "rrule": "FREQ=WEEKLY;UNTIL=20200101"}, "rrule"),
        ({**task, "due_on": "2027-02-30"}, "due_on"),
        ({**event, "starts_at": "2027-02-30T10:00:00Z"}, "starts_at"),
        ({**event, "starts_at": "2027-03-14T02:30", "time_zone": "America/New_York"}, "starts_at"),
        ({**event, "starts_at": "2027-03-14T01:30", "ends_at": "2027-03-14T02:15", "time_zone": "America/New_York"},
         "ends_at"),
        ({**event, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**event, "assignees": ["nobody"]}, "assignees"),
        ({**event, "attendees": ["nobody"]}, "attendees"),
        ({**event, "regarding": ["account:nobody"]}, "regarding"),
        ({**event, "regarding": [f"account:{hidden_account.public_id}"]}, "regarding"),
        ({**event, "regarding": ["acme"]}, "regarding"),
        ({**event, "kind": "party"}, "kind"),
        ({**event, "owner": "nobody"}, "owner"),
        ({**event, "status": "done"}, "status"),
        ({**event, "subject": ""}, "subject"),
        ({**event, "subject": None}, "subject"),
        ({**event, "reminder_minutes": -5}, "reminder_minutes"),
        ({**event, "due_on": "2027-01-15"}, "due_on"),
        ({**task, "starts_at": "2027-01-15T10:00:00Z"}, "starts_at"),
        ({"type": "event", "subject": "No start"}, "starts_at"),
        ({"type": "task", "subject": "No date"}, "due_on"),
        ({**event, "assignees": ["a\x00b"]}, "assignees"),
        ({**event, "colour": "red"}, "colour"),
    ]


def test_bad_input_is_refused_naming_the_field_and_stores_nothing(api, personas):
    hidden_account = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    for body, field in bad_bodies(personas, hidden_account):
        before = stored()
        response = api.post("activities", body)
        assert response.status_code == 422, (body, response.status_code, response.json())
        assert field in response.json()["errors"], (body, response.json())
        assert response.json()["detail"]
        assert stored() == before, body


def test_bad_changes_are_refused_and_change_nothing(api, personas, weekly):
    Activity.objects.filter(pk=weekly.pk).update(time_zone="America/New_York")  # local times are read there
    version = {"version": weekly.version}
    for body, field in [({**version, "ends_at": "2027-01-04T08:00:00Z"}, "ends_at"),
                        ({**version, "rrule": "FREQ=NEVER"}, "rrule"), ({**version, "due_on": "2027-01-05"}, "due_on"),
                        ({**version, "starts_at": "2027-03-14T02:00", "ends_at": "2027-03-14T04:00"}, "starts_at"),
                        ({**version, "kind": "party"}, "kind"), ({**version, "assignees": ["nobody"]}, "assignees"),
                        ({**version, "visibility": None}, "visibility"), ({"subject": "No version"}, "version")]:
        before = stored()
        response = api.patch(f"activities/{weekly.public_id}", body)
        assert response.status_code == 422, (body, response.json())
        assert field in response.json()["errors"], (body, response.json())
        assert stored() == before, body


def test_a_stale_version_is_a_conflict(api, personas):
    activity = ActivityFactory(owner=personas.owner, subject="Before")
    assert api.patch(f"activities/{activity.public_id}", {"version": 1, "subject": "First"}).status_code == 200
    before = stored()
    response = api.patch(f"activities/{activity.public_id}", {"version": 1, "subject": "Second"})
    assert response.status_code == 409
    assert response.json()["current_version"] == 2 and "version" in response.json()["errors"]
    assert stored() == before
    assert api.delete(f"activities/{activity.public_id}?version=1").status_code == 409
    assert Activity.objects.get(pk=activity.pk).deleted_at is None


# --- Visibility ------------------------------------------------------------------------------------


def test_a_private_activity_of_someone_else_is_not_found(personas, api_for):
    private = ActivityFactory(owner=personas.teammate, subject="Secret meeting", visibility=Visibility.PRIVATE,
                              starts_at=utc(2027, 1, 20, 9), ends_at=utc(2027, 1, 20, 10))
    owner = api_for(personas.owner)
    for response in (owner.get(f"activities/{private.public_id}"),
                     owner.patch(f"activities/{private.public_id}", {"version": 1, "subject": "x"}),
                     owner.delete(f"activities/{private.public_id}"),
                     owner.post(f"activities/{private.public_id}/complete")):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert "Secret meeting" not in owner.get("activities").content.decode()
    assert in_range(owner, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z") == []
    assert api_for(personas.manager).get(f"activities/{private.public_id}").status_code == 200


def test_links_the_reader_may_not_see_are_left_out(personas, api_for):
    secret_account = AccountFactory(name="Secret Parent Ltd", owner=personas.outsider, visibility=Visibility.PRIVATE)
    secret_contact = ContactFactory(last_name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    shown_account = AccountFactory(name="Open Co", owner=personas.owner)
    activity = ActivityFactory(owner=personas.outsider, starts_at=utc(2027, 1, 20, 9), ends_at=utc(2027, 1, 20, 10),
                               regarding=[secret_account, shown_account], attendees=[secret_contact])
    owner = api_for(personas.owner)
    detail = owner.get(f"activities/{activity.public_id}").json()
    assert detail["regarding"] == [{"type": "account", "id": shown_account.public_id, "name": "Open Co"}]
    assert detail["attendees"] == []
    for text in (owner.get("activities").content.decode(),
                 owner.get("activities", start="2027-01-01T00:00:00Z", end="2027-02-01T00:00:00Z").content.decode(),
                 owner.get(f"activities/{activity.public_id}").content.decode()):
        assert activity.public_id in text
        for secret in ("Secret Parent Ltd", secret_account.public_id, "Hidden", secret_contact.public_id):
            assert secret not in text
    outsider = api_for(personas.outsider).get(f"activities/{activity.public_id}").json()
    assert len(outsider["regarding"]) == 2 and len(outsider["attendees"]) == 1


def test_regarding_lists_records_by_type_whatever_the_order_they_were_linked_in(api, personas):
    zeta = AccountFactory(name="Zeta", owner=personas.owner)
    abe = ContactFactory(first_name="Abe", last_name="Able", owner=personas.owner)
    alpha = AccountFactory(name="Alpha", owner=personas.owner)
    activity = ActivityFactory(owner=personas.owner, regarding=[abe, zeta, alpha])
    for item in (api.get(f"activities/{activity.public_id}").json(),
                 api.get("activities", regarding=f"account:{alpha.public_id}").json()["items"][0]):
        assert [record["name"] for record in item["regarding"]] == ["Zeta", "Alpha", "Abe Able"]


def test_a_write_out_of_the_writers_sight_still_answers_with_the_record(personas, api_for):
    manager = api_for(personas.manager)
    created = manager.post("activities", {"type": "task", "subject": "For the outsider", "due_on": "2027-01-15",
                                          "owner": personas.outsider.public_id, "visibility": "private"})
    assert created.status_code == 201, created.json()
    assert created.json()["owner"]["id"] == personas.outsider.public_id
    assert manager.get(f"activities/{created.json()['id']}").status_code == 404


# --- Notes ---------------------------------------------------------------------------------------


def test_note_create_list_read_change_delete(api, personas, account):
    created = api.post("notes", {"about": f"account:{account.public_id}", "body": "  Called; call back Monday.  "})
    assert created.status_code == 201, created.json()
    note = created.json()
    assert note["body"] == "Called; call back Monday." and note["version"] == 1
    assert note["about"] == {"type": "account", "id": account.public_id, "name": "Acme Tools"}
    assert note["owner"]["id"] == personas.owner.public_id and note["created_at"].endswith("Z")

    assert api.get(f"notes/{note['id']}").json() == note
    listed = api.get("notes", about=f"account:{account.public_id}").json()
    assert listed == {"items": [note], "next": None}

    changed = api.patch(f"notes/{note['id']}", {"version": 1, "body": "Called twice."})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert api.patch(f"notes/{note['id']}", {"version": 1, "body": "Stale"}).status_code == 409
    assert api.delete(f"notes/{note['id']}?version=2").status_code == 204
    assert api.get(f"notes/{note['id']}").status_code == 404
    assert api.get("notes", about=f"account:{account.public_id}").json()["items"] == []


def test_notes_are_listed_newest_first_in_pages(api, personas, account):
    for i in range(5):
        NoteFactory(owner=personas.owner, about=account, body=f"Note {i}")
    seen, cursor = [], None
    while True:
        body = api.get("notes", about=f"account:{account.public_id}", limit=2,
                       **({"cursor": cursor} if cursor else {})).json()
        seen += [item["body"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == [f"Note {i}" for i in range(4, -1, -1)]


def test_only_the_author_changes_or_deletes_a_note(personas, api_for, account):
    note = NoteFactory(owner=personas.owner, about=account, body="Mine")
    for persona in ("teammate", "manager", "viewer"):
        client = api_for(getattr(personas, persona))
        assert client.get(f"notes/{note.public_id}").status_code == 200, persona
        assert client.patch(f"notes/{note.public_id}", {"version": 1, "body": "Theirs"}).status_code == 403, persona
        assert client.delete(f"notes/{note.public_id}").status_code == 403, persona
    assert api_for(personas.outsider).get(f"notes/{note.public_id}").status_code == 404  # another team
    assert Note.objects.get(pk=note.pk).body == "Mine" and Note.objects.get(pk=note.pk).deleted_at is None
    assert api_for(personas.admin).patch(f"notes/{note.public_id}", {"version": 1, "body": "Fixed"}).status_code == 200


def test_a_note_on_a_record_the_reader_may_not_see_is_not_found(personas, api_for):
    hidden = AccountFactory(owner=personas.teammate, visibility=Visibility.PRIVATE)
    note = NoteFactory(owner=personas.teammate, about=hidden, body="About a secret")
    owner = api_for(personas.owner)
    assert owner.get(f"notes/{note.public_id}").status_code == 404
    assert owner.get("notes", about=f"account:{hidden.public_id}").status_code == 400
    assert owner.post("notes", {"about": f"account:{hidden.public_id}", "body": "x"}).status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({"body": "x"}, "about"),
    ({"about": "account:nobody", "body": "x"}, "about"),
    ({"about": "nonsense", "body": "x"}, "about"),
    ({"about": "ACCOUNT", "body": "   "}, "body"),
    ({"about": "ACCOUNT", "body": ""}, "body"),
    ({"about": "ACCOUNT"}, "body"),
    ({"about": "ACCOUNT", "body": "x", "visibility": "private"}, "visibility"),
])
def test_bad_notes_are_refused(api, account, body, field):
    body = {name: (f"account:{account.public_id}" if value == "ACCOUNT" else value) for name, value in body.items()}
    before = stored()
    response = api.post("notes", body)
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]
    assert stored() == before


def test_the_note_list_without_a_record_has_every_note_the_user_may_see_on_records_they_see(personas, api, account):
    mine = NoteFactory(owner=personas.owner, about=account, body="On a shared account")
    hidden = AccountFactory(owner=personas.teammate, visibility=Visibility.PRIVATE)
    NoteFactory(owner=personas.teammate, about=hidden, body="About a secret")
    NoteFactory(owner=personas.outsider, about=account, body="The other team's")
    body = api.get("notes").json()
    assert [item["id"] for item in body["items"]] == [mine.public_id]
    assert body["items"][0]["about"]["id"] == account.public_id


@pytest.mark.parametrize(("params", "field"), [({"about": "account:nobody"}, "about"),
                                               ({"about": "ACCOUNT", "q": "x"}, "q")])
def test_the_note_list_refuses_a_record_it_cannot_name(api, account, params, field):
    params = {name: (f"account:{account.public_id}" if value == "ACCOUNT" else value) for name, value in params.items()}
    response = api.get("notes", **params)
    assert response.status_code == 400 and field in response.json()["errors"]



# --- Query counts ----------------------------------------------------------------------------------


def _populate(personas, n: int) -> None:
    """n more activities, each weekly, with an assignee, an attendee and two regarded records, one hidden."""
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    for i in range(n):
        account = AccountFactory(owner=personas.owner)
        contact = ContactFactory(owner=personas.teammate)
        ActivityFactory(owner=personas.owner, actor=personas.admin, starts_at=utc(2027, 1, 4, 9 + i % 8),
                        ends_at=utc(2027, 1, 4, 10 + i % 8), rrule="FREQ=WEEKLY",
                        assignees=[personas.owner, personas.teammate], attendees=[contact],
                        regarding=[account, hidden, contact])


# Token (1), rights (1), then the rows, their assignments and assigned users, attendees and links (5), the
# linked accounts and contacts the reader may see (one query per type: 2). A range reads its moved and
# skipped occurrences too (1); one activity reads as a page of one.
QUERIES = {
    "list": ("activities", {}, 9),
    "range": ("activities", {"start": "2027-01-01T00:00:00Z", "end": "2027-02-01T00:00:00Z"}, 10),
    "detail": ("activities/{first}", {}, 10),  # + the activity's moved and skipped occurrences (prefetched)
}


@pytest.mark.parametrize("name", QUERIES)
def test_lists_cost_the_same_for_few_and_many(api, personas, name):
    path, params, expected = QUERIES[name]
    api.get("me")  # the token's first use of the day is noted once
    counts = []
    for n in (2, 10):
        _populate(personas, n)
        first = Activity.objects.order_by("pk").first()
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path.format(first=first.public_id), **params)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts == [expected, expected], [q["sql"][:100] for q in queries.captured_queries]
