"""Writing activities, occurrences, notes and calendar feeds: one test per rule a user would notice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.activities import selectors, services
from rapport.activities.models import Activity, ActivityAssignee, ActivityException, ActivityKind, Note
from rapport.core.errors import StaleVersion
from rapport.core.history import history_for
from rapport.core.models import HistoryEntry
from rapport.core.records import record_create
from tests.factories import AccountFactory, ActivityFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def meeting_kind() -> ActivityKind:
    return ActivityKind.objects.get(key="meeting")


def event_data(**changes) -> dict:
    data = {"activity_type": "event", "kind": meeting_kind(), "subject": "Kick-off",
            "starts_at": utc(2025, 6, 2, 9), "ends_at": utc(2025, 6, 2, 10)}
    return {**data, **changes}


def assignments(activity: Activity) -> dict[str, dict]:
    """username -> the assignment row's copy of the activity's place on calendars."""
    return {row.user.username: {"starts_at": row.starts_at, "last_ends_at": row.last_ends_at,
                                "is_long": row.is_long, "open_task": row.open_task}
            for row in ActivityAssignee.objects.filter(activity=activity).select_related("user")}


def names(*users) -> str:
    return ", ".join(sorted(str(user) for user in users))


def kinds(record) -> list[str]:
    return [entry.kind for entry in reversed(history_for(record, user=record.owner))]


def fresh(activity: Activity) -> Activity:
    return Activity.objects.get(pk=activity.pk)


def calendar_subjects(user, start: dt.datetime, end: dt.datetime) -> list[str]:
    return [entry.activity.subject for entry in selectors.calendar(user=user, people=[user], start=start, end=end)]


# --- Creating --------------------------------------------------------------------------------------------


def test_a_task_is_due_on_a_day_and_lands_on_its_owners_task_list(personas):
    task = services.activity_create(actor=personas.owner, data={
        "activity_type": "task", "kind": ActivityKind.objects.get(key="todo"), "subject": "Send quote",
        "due_on": dt.date(2025, 6, 3)})
    task = fresh(task)
    assert task.is_task and task.due_on == dt.date(2025, 6, 3) and task.all_day
    assert task.starts_at == task.ends_at == utc(2025, 6, 3)
    assert assignments(task) == {"owner": {"starts_at": utc(2025, 6, 3), "last_ends_at": utc(2025, 6, 3),
                                           "is_long": False, "open_task": True}}
    assert selectors.current_tasks(user=personas.owner) == [task]


def test_a_task_needs_a_due_date(personas):
    with pytest.raises(ValidationError) as caught:
        services.activity_create(actor=personas.owner, data={
            "activity_type": "task", "kind": meeting_kind(), "subject": "Someday"})
    assert "due_on" in caught.value.message_dict


def test_an_event_is_stored_in_utc_in_its_owners_time_zone(personas):
    personas.owner.time_zone = "Europe/Berlin"
    event = services.activity_create(actor=personas.owner, data=event_data(ends_at=None))
    event = fresh(event)
    assert event.time_zone == "Europe/Berlin"
    assert (event.starts_at, event.ends_at) == (utc(2025, 6, 2, 9), utc(2025, 6, 2, 10))  # an hour by default
    assert not event.all_day and event.due_on is None
    assert set(assignments(event)) == {"owner"}


def test_an_all_day_event_runs_from_midnight_to_the_midnight_after_its_last_day(personas):
    one_day = services.activity_create(actor=personas.owner, data=event_data(
        all_day=True, starts_at=utc(2025, 6, 2, 15), ends_at=utc(2025, 6, 2, 15)))
    assert (one_day.starts_at, one_day.ends_at) == (utc(2025, 6, 2), utc(2025, 6, 3))
    three_days = services.activity_create(actor=personas.owner, data=event_data(
        all_day=True, starts_at=utc(2025, 6, 2), ends_at=utc(2025, 6, 4, 12)))
    assert (three_days.starts_at, three_days.ends_at) == (utc(2025, 6, 2), utc(2025, 6, 5))


def test_an_end_before_the_start_is_refused_on_the_end_and_nothing_is_stored(personas):
    with pytest.raises(ValidationError) as caught:
        services.activity_create(actor=personas.owner, data=event_data(ends_at=utc(2025, 6, 2, 8)),
                                 assignees=[personas.teammate])
    assert list(caught.value.message_dict) == ["ends_at"]
    assert not Activity.objects.exists() and not ActivityAssignee.objects.exists()
    assert not HistoryEntry.objects.exists()


def test_a_bad_repeat_rule_is_refused_on_the_rule_and_nothing_is_stored(personas):
    with pytest.raises(ValidationError) as caught:
        services.activity_create(actor=personas.owner, data=event_data(rrule="FREQ=WEEKLY;UNTIL=20240101"))
    assert list(caught.value.message_dict) == ["rrule"]
    assert not Activity.objects.exists()


def test_a_read_only_user_may_not_create_activities(personas):
    with pytest.raises(PermissionDenied):
        services.activity_create(actor=personas.viewer, data=event_data())
    assert not Activity.objects.exists()


def test_create_is_recorded_in_the_history(personas):
    event = services.activity_create(actor=personas.owner, data=event_data())
    (entry,) = history_for(event, user=personas.owner)
    assert entry.kind == "created" and entry.actor == personas.owner
    assert entry.changes["subject"] == [None, "Kick-off"]


# --- Updating --------------------------------------------------------------------------------------------


def test_an_update_naming_an_old_version_is_refused_and_changes_nothing(personas):
    event = ActivityFactory(owner=personas.owner, subject="Kick-off")
    services.activity_update(actor=personas.owner, activity=fresh(event), data={"subject": "First"}, version=1)
    with pytest.raises(StaleVersion):
        services.activity_update(actor=personas.owner, activity=event, data={"subject": "Second"}, version=1)
    assert fresh(event).subject == "First" and fresh(event).version == 2


def test_moving_an_event_moves_it_on_every_assignees_calendar(personas):
    event = services.activity_create(actor=personas.owner, data=event_data(),
                                     assignees=[personas.owner, personas.teammate])
    services.activity_update(actor=personas.owner, activity=event, version=1,
                             data={"starts_at": utc(2025, 6, 20, 9), "ends_at": utc(2025, 6, 20, 10)})
    rows = assignments(event)
    assert {row["starts_at"] for row in rows.values()} == {utc(2025, 6, 20, 9)}
    assert {row["last_ends_at"] for row in rows.values()} == {utc(2025, 6, 20, 10)}
    week = (utc(2025, 6, 16), utc(2025, 6, 23))
    assert calendar_subjects(personas.teammate, *week) == ["Kick-off"]
    assert calendar_subjects(personas.teammate, utc(2025, 6, 1), utc(2025, 6, 8)) == []


def test_a_repeat_rule_or_a_long_span_puts_the_assignments_on_the_long_path(personas):
    event = services.activity_create(actor=personas.owner, data=event_data())
    assert assignments(event)["owner"]["is_long"] is False
    event = services.activity_update(actor=personas.owner, activity=event, version=1,
                                     data={"rrule": "FREQ=WEEKLY;COUNT=4"})
    row = assignments(event)["owner"]
    assert row["is_long"] is True and row["last_ends_at"] == utc(2025, 6, 23, 10) == fresh(event).recurrence_ends_at
    event = services.activity_update(actor=personas.owner, activity=event, version=2, data={"rrule": ""})
    assert assignments(event)["owner"] == {"starts_at": utc(2025, 6, 2, 9), "last_ends_at": utc(2025, 6, 2, 10),
                                           "is_long": False, "open_task": False}
    event = services.activity_update(actor=personas.owner, activity=event, version=3,
                                     data={"ends_at": utc(2025, 6, 12, 10)})
    assert assignments(event)["owner"]["is_long"] is True


def test_changing_the_assignees_moves_the_activity_between_calendars(personas):
    event = services.activity_create(actor=personas.owner, data=event_data(),
                                     assignees=[personas.owner, personas.teammate])
    services.activity_update(actor=personas.owner, activity=event, version=1, data={},
                             assignees=[personas.teammate, personas.outsider])
    assert set(assignments(event)) == {"teammate", "outsider"}
    day = (utc(2025, 6, 2), utc(2025, 6, 3))
    assert calendar_subjects(personas.owner, *day) == []
    assert calendar_subjects(personas.outsider, *day) == ["Kick-off"]
    (entry, _created) = history_for(event, user=personas.owner)
    assert entry.changes["assignees"] == [names(personas.owner, personas.teammate),
                                          names(personas.teammate, personas.outsider)]


def test_an_inactive_user_cannot_be_assigned(personas):
    gone = UserFactory(is_active=False)
    with pytest.raises(ValidationError) as caught:
        services.activity_create(actor=personas.owner, data=event_data(), assignees=[gone])
    assert "assignees" in caught.value.message_dict


def test_completing_a_task_takes_it_off_the_task_list_and_reopening_puts_it_back(personas):
    task = ActivityFactory(task=True, owner=personas.owner)
    assert selectors.current_tasks(user=personas.owner) == [task]
    task = services.activity_update(actor=personas.owner, activity=task, version=1, data={"status": "completed"})
    assert selectors.current_tasks(user=personas.owner) == []
    assert assignments(task)["owner"]["open_task"] is False and fresh(task).completed_at is not None
    task = services.activity_update(actor=personas.owner, activity=task, version=2, data={"status": "open"})
    assert selectors.current_tasks(user=personas.owner) == [task]
    assert fresh(task).completed_at is None


def test_an_assignee_who_is_not_the_owner_may_complete_a_task_but_not_rename_it(personas):
    task = ActivityFactory(task=True, owner=personas.owner, subject="Call back",
                           assignees=[personas.owner, personas.teammate])
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=personas.teammate, activity=task, version=1, data={"subject": "Mine now"})
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=personas.teammate, activity=task, version=1, data={"status": "completed"},
                                 assignees=[personas.teammate])
    services.activity_update(actor=personas.teammate, activity=task, version=1, data={"status": "completed"})
    task = fresh(task)
    assert task.subject == "Call back" and task.status == "completed"
    assert selectors.current_tasks(user=personas.teammate) == []
    assert history_for(task, user=personas.owner)[0].actor == personas.teammate


def test_someone_not_assigned_may_not_complete_another_users_task(personas):
    task = ActivityFactory(task=True, owner=personas.owner)
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=personas.teammate, activity=task, version=1, data={"status": "completed"})
    assert fresh(task).status == "open"


def test_a_read_only_assignee_may_not_complete_a_task(personas):
    task = ActivityFactory(task=True, owner=personas.owner, assignees=[personas.viewer])
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=personas.viewer, activity=task, version=1, data={"status": "completed"})
    assert fresh(task).status == "open" and assignments(task)["viewer"]["open_task"] is True


def test_the_manager_may_change_a_team_members_activity(personas):
    event = ActivityFactory(owner=personas.owner, subject="Kick-off")
    services.activity_update(actor=personas.manager, activity=event, version=1, data={"subject": "Kick-off v2"})
    assert fresh(event).subject == "Kick-off v2"


def test_an_update_is_recorded_with_old_and_new_values(personas):
    event = services.activity_create(actor=personas.owner, data=event_data())
    services.activity_update(actor=personas.owner, activity=event, version=1, data={"subject": "Kick-off call"})
    entry = history_for(event, user=personas.owner)[0]
    assert entry.kind == "updated" and entry.changes["subject"] == ["Kick-off", "Kick-off call"]


def test_dragging_an_event_keeps_its_length_and_a_task_its_day(personas):
    event = services.activity_create(actor=personas.owner, data=event_data(ends_at=utc(2025, 6, 2, 10, 30)))
    event = services.move_activity(actor=personas.owner, activity=event, starts_at=utc(2025, 6, 4, 14), version=1)
    assert (event.starts_at, event.ends_at) == (utc(2025, 6, 4, 14), utc(2025, 6, 4, 15, 30))
    task = ActivityFactory(task=True, owner=personas.owner)
    task = services.move_activity(actor=personas.owner, activity=task, starts_at=utc(2025, 6, 9, 16), version=1)
    assert task.due_on == dt.date(2025, 6, 9) and assignments(task)["owner"]["starts_at"] == utc(2025, 6, 9)


# --- Deleting and restoring ------------------------------------------------------------------------------


def test_a_deleted_task_leaves_lists_and_calendars_and_comes_back_on_restore(personas):
    task = ActivityFactory(task=True, owner=personas.owner, due_on=dt.date(2025, 6, 3))
    day = (utc(2025, 6, 3), utc(2025, 6, 4))
    task = services.activity_delete(actor=personas.owner, activity=task)
    assert not Activity.objects.visible_to(personas.owner).exists()
    assert selectors.current_tasks(user=personas.owner) == []
    assert calendar_subjects(personas.owner, *day) == []
    services.activity_restore(actor=personas.owner, activity=task)
    assert selectors.current_tasks(user=personas.owner) == [task]
    assert calendar_subjects(personas.owner, *day) == [task.subject]
    assert kinds(task) == ["created", "deleted", "restored"]


def test_a_teammate_may_not_delete_the_owners_activity(personas):
    event = ActivityFactory(owner=personas.owner)
    with pytest.raises(PermissionDenied):
        services.activity_delete(actor=personas.teammate, activity=event)
    assert fresh(event).deleted_at is None


# --- Occurrences of a recurring activity -----------------------------------------------------------------


def weekly(personas, rule: str = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6") -> Activity:
    return services.activity_create(actor=personas.owner, data=event_data(rrule=rule))  # from Mon 2 June 2025


def test_skipping_an_occurrence_takes_it_off_the_calendar_and_is_recorded(personas):
    series = weekly(personas)
    series = services.occurrence_skip(actor=personas.owner, activity=series, original_start=utc(2025, 6, 4, 9),
                                      version=1)
    week = (utc(2025, 6, 2), utc(2025, 6, 9))
    assert [e.occurrence.starts_at for e in selectors.calendar(user=personas.owner, people=[personas.owner],
                                                               start=week[0], end=week[1])] == [utc(2025, 6, 2, 9)]
    assert series.version == 2
    entry = history_for(series, user=personas.owner)[0]
    assert entry.kind == "updated" and "skipped" in entry.changes["occurrences"][1]


def test_moving_an_occurrence_shows_it_at_its_new_time_and_is_recorded(personas):
    series = weekly(personas)
    services.occurrence_move(actor=personas.owner, activity=series, original_start=utc(2025, 6, 4, 9),
                             starts_at=utc(2025, 6, 5, 14), ends_at=None, version=1)
    found = selectors.calendar(user=personas.owner, people=[personas.owner], start=utc(2025, 6, 2),
                               end=utc(2025, 6, 9))
    assert [(e.occurrence.starts_at, e.occurrence.ends_at) for e in found] == [
        (utc(2025, 6, 2, 9), utc(2025, 6, 2, 10)), (utc(2025, 6, 5, 14), utc(2025, 6, 5, 15))]
    assert "moved" in history_for(series, user=personas.owner)[0].changes["occurrences"][1]


def test_an_occurrence_moved_past_the_end_of_the_series_stays_on_calendars(personas):
    series = weekly(personas, "FREQ=WEEKLY;COUNT=2")  # 2 and 9 June
    services.occurrence_move(actor=personas.owner, activity=series, original_start=utc(2025, 6, 9, 9),
                             starts_at=utc(2025, 7, 1, 9), ends_at=None, version=1)
    july = (utc(2025, 7, 1), utc(2025, 8, 1))
    assert calendar_subjects(personas.owner, *july) == ["Kick-off"]
    assert [o.starts_at for o in selectors.activity_occurrences(user=personas.owner, params={}, start=july[0],
                                                                end=july[1])] == [utc(2025, 7, 1, 9)]


def test_an_occurrence_the_rule_does_not_give_cannot_be_skipped(personas):
    series = weekly(personas)
    with pytest.raises(ValidationError) as caught:
        services.occurrence_skip(actor=personas.owner, activity=series, original_start=utc(2025, 6, 3, 9), version=1)
    assert "occurrence" in caught.value.message_dict
    single = ActivityFactory(owner=personas.owner)
    with pytest.raises(ValidationError):
        services.occurrence_skip(actor=personas.owner, activity=single, original_start=single.starts_at, version=1)
    assert not ActivityException.objects.exists()


def test_skipping_an_occurrence_of_a_stale_version_is_refused(personas):
    series = weekly(personas)
    services.activity_update(actor=personas.owner, activity=fresh(series), version=1, data={"subject": "Sync"})
    with pytest.raises(StaleVersion):
        services.occurrence_skip(actor=personas.owner, activity=series, original_start=utc(2025, 6, 4, 9), version=1)
    assert not ActivityException.objects.exists()


def test_a_teammate_may_not_skip_the_owners_occurrence(personas):
    series = weekly(personas)
    with pytest.raises(PermissionDenied):
        services.occurrence_skip(actor=personas.teammate, activity=series, original_start=utc(2025, 6, 4, 9),
                                 version=1)


def test_changing_the_rule_forgets_moved_and_skipped_occurrences_it_no_longer_gives(personas):
    series = weekly(personas)
    series = services.occurrence_skip(actor=personas.owner, activity=series, original_start=utc(2025, 6, 9, 9),
                                      version=1)
    series = services.occurrence_move(actor=personas.owner, activity=series, original_start=utc(2025, 6, 4, 9),
                                      starts_at=utc(2025, 6, 5, 9), ends_at=None, version=2)
    series = services.activity_update(actor=personas.owner, activity=series, version=3,
                                      data={"rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=6"})
    assert list(ActivityException.objects.values_list("original_start", flat=True)) == [utc(2025, 6, 9, 9)]
    series = services.activity_update(actor=personas.owner, activity=series, version=4,
                                      data={"starts_at": utc(2025, 6, 2, 11), "ends_at": utc(2025, 6, 2, 12)})
    assert not ActivityException.objects.exists()


def test_a_series_that_stops_repeating_forgets_all_its_exceptions(personas):
    series = weekly(personas)
    series = services.occurrence_move(actor=personas.owner, activity=series, original_start=utc(2025, 6, 2, 9),
                                      starts_at=utc(2025, 6, 2, 15), ends_at=None, version=1)
    services.activity_update(actor=personas.owner, activity=series, version=2, data={"rrule": ""})
    assert not ActivityException.objects.exists()


# --- Notes -----------------------------------------------------------------------------------------------


def test_a_note_is_written_on_a_record_and_shared_with_the_team(personas):
    account = AccountFactory(owner=personas.owner)
    note = services.note_create(actor=personas.owner, about=account, body="  Called, wants a demo.  ")
    assert note.body == "Called, wants a demo." and note.visibility == "team"
    assert (note.about_type, note.about_id) == ("account", account.pk)
    assert kinds(note) == ["created"]


def test_an_empty_note_is_refused(personas):
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as caught:
        services.note_create(actor=personas.owner, about=account, body=" \n ")
    assert list(caught.value.message_dict) == ["body"]
    assert not Note.objects.exists()


def test_a_note_is_the_teams_whatever_visibility_is_asked_for(personas):
    account = AccountFactory(owner=personas.owner)
    for visibility in ("private", "everyone"):
        note = record_create(Note, actor=personas.owner, data={
            "body": visibility, "about_type": "account", "about_id": account.pk, "visibility": visibility})
        assert fresh_note(note).visibility == "team"


def fresh_note(note: Note) -> Note:
    return Note.objects.get(pk=note.pk)


def test_only_the_author_may_edit_or_delete_a_note(personas):
    note = NoteFactory(owner=personas.owner, body="Mine")
    with pytest.raises(PermissionDenied):
        services.note_update(actor=personas.teammate, note=note, body="Ours", version=1)
    with pytest.raises(PermissionDenied):
        services.note_delete(actor=personas.teammate, note=note)
    with pytest.raises(PermissionDenied):
        services.note_update(actor=personas.manager, note=note, body="The manager's", version=1)
    note = fresh_note(note)
    assert note.body == "Mine" and note.deleted_at is None


def test_an_administrator_may_remove_anyones_note(personas):
    note = NoteFactory(owner=personas.owner)
    services.note_delete(actor=personas.admin, note=note)
    assert fresh_note(note).deleted_at is not None


def test_the_author_edits_a_note_and_the_change_is_recorded(personas):
    note = NoteFactory(owner=personas.owner, body="Called")
    services.note_update(actor=personas.owner, note=note, body="Called twice", version=1)
    entry = history_for(note, user=personas.owner)[0]
    assert entry.kind == "updated" and entry.changes["body"] == ["Called", "Called twice"]
    with pytest.raises(StaleVersion):
        services.note_update(actor=personas.owner, note=fresh_note(note), body="Called thrice", version=1)
    with pytest.raises(ValidationError):
        services.note_update(actor=personas.owner, note=fresh_note(note), body="", version=2)
    assert fresh_note(note).body == "Called twice"


def test_the_author_deletes_a_note(personas):
    note = NoteFactory(owner=personas.owner)
    services.note_delete(actor=personas.owner, note=note)
    assert not Note.objects.visible_to(personas.owner).exists()
    assert kinds(note) == ["created", "deleted"]


# --- Calendar feeds --------------------------------------------------------------------------------------


def test_a_feed_address_finds_its_user_until_it_is_regenerated(personas):
    token = services.feed_token(user=personas.owner)
    assert token == services.feed_token(user=personas.owner)
    assert services.feed_user(token=token) == personas.owner
    new = services.feed_regenerate(user=personas.owner)
    assert new != token
    assert services.feed_user(token=token) is None
    assert services.feed_user(token=new) == personas.owner
    assert services.feed_token(user=personas.owner) == new


def test_a_revoked_feed_answers_nothing_until_a_new_address_is_made(personas):
    token = services.feed_token(user=personas.owner)
    services.feed_revoke(user=personas.owner)
    assert services.feed_user(token=token) is None
    assert services.feed_token(user=personas.owner) is None
    new = services.feed_regenerate(user=personas.owner)
    assert services.feed_user(token=new) == personas.owner and services.feed_user(token=token) is None


def test_a_feed_address_does_not_work_for_another_user_or_an_inactive_one(personas):
    token = services.feed_token(user=personas.owner)
    other = services.feed_token(user=personas.teammate)
    assert services.feed_user(token=other[:16] + token[16:]) is None
    assert services.feed_user(token="x" * 48) is None and services.feed_user(token="") is None
    assert services.feed_user(token=token[:16] + "é" * 32) is None  # not a crash
    personas.owner.is_active = False
    personas.owner.save()
    assert services.feed_user(token=token) is None
