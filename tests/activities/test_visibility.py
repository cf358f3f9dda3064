"""Who sees which activities and notes, on lists, calendars and record pages (personas of tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from rapport.activities import selectors, services
from rapport.activities.models import Activity, Note
from rapport.core.records import record_create
from tests.factories import AccountFactory, ActivityFactory, NoteFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "teammate", "outsider", "manager", "viewer", "admin", "marketer")
DAY = (dt.datetime(2025, 6, 2, tzinfo=dt.UTC), dt.datetime(2025, 6, 3, tzinfo=dt.UTC))


def at(hour: int) -> dt.datetime:
    return DAY[0].replace(hour=hour)


def who_sees_activity(personas, activity: Activity) -> set[str]:
    seen = set()
    for name in PERSONAS:
        user = getattr(personas, name)
        listed = Activity.objects.visible_to(user).filter(pk=activity.pk).exists()
        try:
            selectors.activity_get(user=user, public_id=activity.public_id)
            opened = True
        except Http404:
            opened = False
        assert listed == opened, name  # the list and the page agree
        if listed:
            seen.add(name)
    return seen


def who_sees_note(personas, note: Note) -> set[str]:
    return {name for name in PERSONAS if Note.objects.visible_to(getattr(personas, name)).filter(pk=note.pk).exists()}


# --- Activities ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("visibility", "expected"), [
    ("private", {"owner", "manager", "admin"}),
    ("team", {"owner", "teammate", "manager", "viewer", "admin", "marketer"}),
    ("everyone", set(PERSONAS)),
])
def test_an_activity_is_seen_by_whom_its_visibility_says(personas, visibility, expected):
    activity = ActivityFactory(owner=personas.owner, visibility=visibility)
    assert who_sees_activity(personas, activity) == expected


def test_an_activity_assigned_to_someone_is_theirs_to_see_even_if_private(personas):
    activity = ActivityFactory(owner=personas.owner, visibility="private",
                               assignees=[personas.owner, personas.outsider])
    assert who_sees_activity(personas, activity) == {"owner", "outsider", "manager", "admin"}


def test_a_deleted_activity_is_seen_by_nobody(personas):
    activity = ActivityFactory(owner=personas.owner)
    services.activity_delete(actor=personas.owner, activity=activity)
    assert who_sees_activity(personas, activity) == set()


def test_a_colleagues_private_activity_shows_on_their_calendar_as_busy_only(personas):
    ActivityFactory(owner=personas.owner, visibility="private", subject="Interview at Rival Inc",
                    description="Do not tell anyone", location="Rival HQ", starts_at=at(9), ends_at=at(10))
    ActivityFactory(owner=personas.owner, visibility="team", subject="Team lunch", starts_at=at(12), ends_at=at(13))
    entries = selectors.calendar(user=personas.teammate, people=[personas.owner], start=DAY[0], end=DAY[1])
    assert [(e.occurrence.starts_at, e.occurrence.ends_at, e.busy) for e in entries] == [
        (at(9), at(10), True), (at(12), at(13), False)]
    busy, lunch = entries
    assert busy.person_ids == {personas.owner.pk}
    shown = " ".join(str(value) for value in vars(busy.activity).values())
    for secret in ("Rival", "Do not tell"):
        assert secret not in shown
    assert lunch.activity.subject == "Team lunch"


@pytest.mark.parametrize("with_own_calendar", [True, False])
def test_a_private_activity_the_viewer_is_assigned_to_is_not_busy_on_a_colleagues_calendar(personas,
                                                                                          with_own_calendar):
    ActivityFactory(owner=personas.owner, visibility="private", subject="Pitch", starts_at=at(9), ends_at=at(10),
                    assignees=[personas.owner, personas.teammate])
    ActivityFactory(owner=personas.owner, visibility="private", subject="Dentist", starts_at=at(11), ends_at=at(12))
    people = [personas.owner, personas.teammate] if with_own_calendar else [personas.owner]
    entries = selectors.calendar(user=personas.teammate, people=people, start=DAY[0], end=DAY[1])
    assert [(e.activity.subject, e.busy) for e in entries] == [("Pitch", False), ("Busy", True)]


def test_ones_own_and_shared_calendars_show_everything_visible(personas):
    ActivityFactory(owner=personas.owner, visibility="private", subject="Dentist", starts_at=at(9), ends_at=at(10))
    mine = selectors.calendar(user=personas.owner, people=[personas.owner], start=DAY[0], end=DAY[1])
    assert [(e.activity.subject, e.busy) for e in mine] == [("Dentist", False)]
    managed = selectors.calendar(user=personas.manager, people=[personas.owner], start=DAY[0], end=DAY[1])
    assert [(e.activity.subject, e.busy) for e in managed] == [("Dentist", False)]


def test_an_activity_on_two_calendars_is_one_entry_naming_both(personas):
    ActivityFactory(owner=personas.owner, assignees=[personas.owner, personas.teammate], starts_at=at(9),
                    ends_at=at(10))
    entries = selectors.calendar(user=personas.owner, people=[personas.owner, personas.teammate], start=DAY[0],
                                 end=DAY[1])
    assert [e.person_ids for e in entries] == [{personas.owner.pk, personas.teammate.pk}]


def test_current_tasks_are_the_users_assigned_open_tasks_earliest_due_first(personas):
    later = ActivityFactory(task=True, owner=personas.owner, due_on=dt.date(2025, 6, 9))
    overdue = ActivityFactory(task=True, owner=personas.owner, due_on=dt.date(2025, 5, 1))
    ActivityFactory(task=True, owner=personas.teammate, due_on=dt.date(2025, 5, 2))
    ActivityFactory(owner=personas.owner)  # an event is not a task
    assert selectors.current_tasks(user=personas.owner) == [overdue, later]


# --- Notes -----------------------------------------------------------------------------------------------


def test_a_note_is_seen_by_its_authors_team_their_manager_and_admins_only(personas):
    note = NoteFactory(owner=personas.owner)
    assert who_sees_note(personas, note) == {"owner", "teammate", "viewer", "marketer", "manager", "admin"}


@pytest.mark.parametrize("visibility", ["private", "everyone"])
def test_a_note_is_never_seen_outside_the_team_whatever_visibility_was_asked(personas, visibility):
    account = AccountFactory(owner=personas.owner)
    note = record_create(Note, actor=personas.owner, data={
        "body": "Margins are thin", "about_type": "account", "about_id": account.pk, "visibility": visibility})
    assert "outsider" not in who_sees_note(personas, note)
    assert "teammate" in who_sees_note(personas, note)


def test_notes_on_a_record_the_reader_may_not_see_are_hidden(personas):
    secret = AccountFactory(owner=personas.owner, visibility="private")
    note = NoteFactory(owner=personas.owner, about=secret, body="Acquisition target")
    # The teammate could see the note (it is the team's), but not the account it is about.
    assert [n.body for n in selectors.notes_about(user=personas.owner, record=secret)] == ["Acquisition target"]
    assert selectors.notes_about(user=personas.teammate, record=secret) == []
    with pytest.raises(Http404):
        selectors.note_get(user=personas.teammate, public_id=note.public_id)
    assert selectors.note_get(user=personas.manager, public_id=note.public_id) == note


def test_notes_about_a_record_are_newest_first_and_only_the_readers(personas):
    account = AccountFactory(owner=personas.owner)
    first = NoteFactory(owner=personas.owner, about=account)
    second = NoteFactory(owner=personas.teammate, about=account)
    NoteFactory(owner=personas.outsider, about=account)  # team B's note
    NoteFactory(owner=personas.owner)  # about another account
    assert selectors.notes_about(user=personas.owner, record=account) == [second, first]
    assert len(selectors.notes_about(user=personas.outsider, record=account)) == 1


def test_a_note_on_an_activity_assigned_to_an_outsider_stays_with_the_authors_team(personas):
    activity = ActivityFactory(owner=personas.owner, visibility="private", assignees=[personas.outsider])
    NoteFactory(owner=personas.owner, about=activity, body="Internal: push for a discount")
    assert [n.body for n in selectors.notes_about(user=personas.manager, record=activity)] == [
        "Internal: push for a discount"]
    assert selectors.notes_about(user=personas.outsider, record=activity) == []


# --- Activities on a record's page -----------------------------------------------------------------------


def test_activities_about_a_record_show_open_ones_first_then_newest(personas):
    account = AccountFactory(owner=personas.owner)

    def about(subject: str, day: int, status: str = "open") -> Activity:
        activity = ActivityFactory(owner=personas.owner, subject=subject, regarding=[account],
                                   starts_at=dt.datetime(2025, 6, day, 9, tzinfo=dt.UTC),
                                   ends_at=dt.datetime(2025, 6, day, 10, tzinfo=dt.UTC))
        if status != "open":
            services.activity_update(actor=personas.owner, activity=activity, version=1, data={"status": status})
        return activity

    about("done long ago", 1, "completed")
    about("open old", 2)
    about("done recently", 9, "completed")
    about("open new", 5)
    about("cancelled", 7, "cancelled")
    ActivityFactory(owner=personas.owner, subject="about something else")
    found = selectors.activities_about(user=personas.owner, record=account)
    assert [a.subject for a in found] == ["open new", "open old", "done recently", "cancelled", "done long ago"]


def test_activities_about_a_record_are_only_those_the_reader_may_see(personas):
    account = AccountFactory(owner=personas.owner)
    ActivityFactory(owner=personas.owner, subject="shared", regarding=[account])
    ActivityFactory(owner=personas.owner, subject="private", visibility="private", regarding=[account])
    assert [a.subject for a in selectors.activities_about(user=personas.teammate, record=account)] == ["shared"]
    assert {a.subject for a in selectors.activities_about(user=personas.owner, record=account)} == {
        "shared", "private"}


def test_an_activity_page_shows_only_the_linked_records_the_reader_may_see(personas):
    shared = AccountFactory(owner=personas.owner, name="Shared Ltd")
    secret = AccountFactory(owner=personas.owner, name="Secret Ltd", visibility="private")
    activity = ActivityFactory(owner=personas.owner, regarding=[shared, secret])
    detail = selectors.activity_detail(user=personas.teammate, public_id=activity.public_id)
    assert [record.name for record in detail["regarding"]] == ["Shared Ltd"]
    detail = selectors.activity_detail(user=personas.owner, public_id=activity.public_id)
    assert {record.name for record in detail["regarding"]} == {"Shared Ltd", "Secret Ltd"}
