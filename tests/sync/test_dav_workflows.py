"""CalDAV sync seen through the work people do elsewhere in Rapport: support items' private copies and
automation follow-ups reaching the holder's task list, calendars that change when a team or a role
does, a real client library saving series, todos and deletions, and a Rapport save truly racing a PUT.

The first three parts talk raw WebDAV over Django's test client (tests/sync/davclient.py); the last two
go over HTTP to pytest-django's live server, as a phone or Outlook would.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import caldav
import niquests
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rapport.activities import services as activity_services
from rapport.activities.models import Activity, ActivityException, ActivityStatus
from rapport.automation import services as automation_services
from rapport.automation.models import FollowUp
from rapport.core.errors import StaleVersion
from rapport.core.models import Role, RolePermission, User, Visibility
from rapport.core.services import team_save, user_save
from rapport.directory.services import account_create
from rapport.support import services as support_services
from rapport.support.models import PrivateCopy
from rapport.sync.services import app_password_create
from tests.automation import IMMEDIATE_TASKS, build_office, rule, set_created
from tests.conftest import restore_migration_data
from tests.factories import AccountFactory, ActivityFactory, UserFactory
from tests.support import build_desk, fresh, open_item
from tests.sync.davclient import Dav, multistatus

# The client library runs in the test thread while the live server answers from its own.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _sync(dav: Dav, collection: str, token: str = "") -> tuple[dict[str, str], str]:
    """href → "200" (there, new or changed) or "404" (gone) of a sync-collection report, and the new token."""
    response = dav.sync(collection, token)
    assert response.status_code == 207, response.content[:300]
    entries, new_token = multistatus(response.content)
    return {entry.href.rsplit("/", 1)[1]: ("404" if "404" in entry.status else "200") for entry in entries}, new_token


def _href(activity: Activity) -> str:
    return f"{activity.uid}.ics"


def _ticked_off(text: str) -> str:
    """The item's text as a client sends it back after the user ticks the task off."""
    assert "BEGIN:VTODO" in text, text
    lines = [line for line in text.split("\r\n") if not line.startswith(("STATUS:", "COMPLETED:",
                                                                         "PERCENT-COMPLETE:"))]
    at = lines.index("END:VTODO")
    lines[at:at] = ["STATUS:COMPLETED", "COMPLETED:20270105T120000Z", "PERCENT-COMPLETE:100"]
    return "\r\n".join(lines)


# --- 1. Support items: the holder's private copy ------------------------------------------------------


@pytest.mark.django_db
def test_an_accepted_support_item_puts_the_holders_private_task_on_their_task_list_only():
    desk = build_desk()
    item = open_item(desk, subject="Printer on fire")
    asa, bo, owner = Dav(desk.asa), Dav(desk.bo), Dav(desk.owner)
    _first, asa_token = _sync(asa, "tasks")
    _first, bo_token = _sync(bo, "tasks")

    request = support_services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    # A request still waiting for an answer puts nothing on Åsa's list.
    assert _sync(asa, "tasks", asa_token)[0] == {}

    support_services.support_accept(actor=desk.asa, request=request)
    copy = PrivateCopy.objects.select_related("task").get(item=item, holder=desk.asa)
    delta, _token = _sync(asa, "tasks", asa_token)
    assert delta == {_href(copy.task): "200"}
    text = asa.get(f"{asa.home}tasks/{_href(copy.task)}").content.decode()
    assert "BEGIN:VTODO" in text and "Printer on fire" in text and fresh(item).reference in text

    # Nobody else's list has it: not Bo's (same team), not the owner's (who has a copy of their own).
    assert _sync(bo, "tasks", bo_token)[0] == {}
    owner_tasks = set(owner.etags("tasks"))
    assert _href(copy.task) not in owner_tasks
    assert _href(PrivateCopy.objects.get(item=item, holder=desk.owner).task) in owner_tasks
    for name in ("team", "company"):
        assert _href(copy.task) not in owner.etags(name)
        assert _href(copy.task) not in bo.etags(name)


@pytest.mark.django_db
def test_ticking_off_the_private_copy_in_the_client_completes_it_in_rapport():
    desk = build_desk()
    item = open_item(desk)
    request = support_services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    support_services.support_accept(actor=desk.asa, request=request)
    task = PrivateCopy.objects.get(item=item, holder=desk.asa).task
    asa = Dav(desk.asa)
    path = f"{asa.home}tasks/{_href(task)}"
    fetched = asa.get(path)
    assert fetched.status_code == 200

    response = asa.put(path, _ticked_off(fetched.content.decode()), HTTP_IF_MATCH=fetched["ETag"])
    assert response.status_code == 204, response.content
    task.refresh_from_db()
    assert task.status == ActivityStatus.COMPLETED
    assert task.deleted_at is None
    # The client reads back what it sent: the task is done, under a new ETag.
    again = asa.get(path)
    assert again["ETag"] != fetched["ETag"]
    assert "STATUS:COMPLETED" in again.content.decode()


# --- 2. Automation follow-ups ----------------------------------------------------------------------


def _quiet_rule(office, **data):
    call = automation_services.definition_save(actor=office.manager, definition=None, data={
        "name": "Call", "contact_message": "Call the customer about their next order."})
    return rule(office.manager, name="No order in two months", trigger="inactivity", record_type="account",
                inactivity_of="order", days=60, definition=call, due_in_days=1, **data)


@pytest.mark.django_db
def test_a_swept_follow_up_reaches_the_assignees_task_list_at_the_next_sync():
    office = build_office(accounts=0)
    seller, other = office.sellers
    quiet = AccountFactory(owner=seller, name="Quiet Quokka Ltd")
    set_created([quiet], timezone.localdate() - dt.timedelta(days=400))
    dav, other_dav = Dav(seller), Dav(other)
    _listed, token = _sync(dav, "tasks")
    _listed, other_token = _sync(other_dav, "tasks")

    assert automation_services.sweep_rule(_quiet_rule(office)) == 1
    follow_up = FollowUp.objects.select_related("task").get()
    delta, token = _sync(dav, "tasks", token)
    assert delta == {_href(follow_up.task): "200"}
    text = dav.get(f"{dav.home}tasks/{_href(follow_up.task)}").content.decode()
    assert "BEGIN:VTODO" in text and "Quiet Quokka Ltd" in text
    assert "Call the customer about their next order." in text
    assert _sync(other_dav, "tasks", other_token)[0] == {}
    # The sweep run again makes nothing new, and the client is told nothing new.
    assert automation_services.sweep_rule(fresh_rule(follow_up)) == 0
    assert _sync(dav, "tasks", token)[0] == {}


def fresh_rule(follow_up: FollowUp):
    from rapport.automation.models import Rule

    return Rule.objects.select_related("definition").get(pk=follow_up.rule_id)


@pytest.mark.django_db
def test_follow_ups_a_sweep_writes_in_bulk_batches_reach_each_assignee(monkeypatch):
    office = build_office(accounts=0)
    seller, other = office.sellers
    accounts = [AccountFactory(owner=office.sellers[n % 2], name=f"Quiet {n}") for n in range(7)]
    set_created(accounts, timezone.localdate() - dt.timedelta(days=400))
    # Batches of three: the follow-ups are written by several bulk inserts, as a large sweep writes them.
    monkeypatch.setattr(automation_services, "BATCH", 3)
    dav, other_dav = Dav(seller), Dav(other)
    _listed, token = _sync(dav, "tasks")
    _listed, other_token = _sync(other_dav, "tasks")

    assert automation_services.sweep_rule(_quiet_rule(office)) == 7
    by_assignee: dict[int, set[str]] = {seller.pk: set(), other.pk: set()}
    for follow_up in FollowUp.objects.select_related("task"):
        by_assignee[follow_up.assignee_id].add(_href(follow_up.task))
    assert len(by_assignee[seller.pk]) == 4 and len(by_assignee[other.pk]) == 3
    assert _sync(dav, "tasks", token)[0] == dict.fromkeys(by_assignee[seller.pk], "200")
    assert _sync(other_dav, "tasks", other_token)[0] == dict.fromkeys(by_assignee[other.pk], "200")
    assert set(dav.etags("tasks")) == by_assignee[seller.pk]


@pytest.mark.django_db
def test_a_follow_up_an_event_rule_makes_reaches_the_helper_and_ticking_it_off_completes_it(
        settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE_TASKS
    office = build_office(accounts=0, helpers=1)
    [helper] = office.helpers
    rule(office.manager, name="New customer", trigger="created", record_type="account", assign_to="team",
         assign_team=office.support_team, due_in_days=2)
    dav = Dav(helper)
    _listed, token = _sync(dav, "tasks")
    with django_capture_on_commit_callbacks(execute=True):
        account_create(actor=office.seller, data={"name": "Fresh Customer"})
    follow_up = FollowUp.objects.select_related("task").get()
    assert follow_up.assignee == helper
    delta, token = _sync(dav, "tasks", token)
    assert delta == {_href(follow_up.task): "200"}

    path = f"{dav.home}tasks/{_href(follow_up.task)}"
    fetched = dav.get(path)
    assert "Fresh Customer" in fetched.content.decode()
    response = dav.put(path, _ticked_off(fetched.content.decode()), HTTP_IF_MATCH=fetched["ETag"])
    assert response.status_code == 204, response.content
    follow_up.task.refresh_from_db()
    assert follow_up.task.status == ActivityStatus.COMPLETED
    assert _sync(dav, "tasks", token)[0] == {_href(follow_up.task): "200"}


@pytest.mark.django_db
def test_follow_ups_rerouted_to_a_colleague_move_between_their_task_lists():
    office = build_office(accounts=0)
    seller, other = office.sellers
    quiet = AccountFactory(owner=seller)
    set_created([quiet], timezone.localdate() - dt.timedelta(days=400))
    automation_services.sweep_rule(_quiet_rule(office))
    task = FollowUp.objects.select_related("task").get().task
    dav, other_dav = Dav(seller), Dav(other)
    listed, token = _sync(dav, "tasks")
    assert _href(task) in listed
    _listed, other_token = _sync(other_dav, "tasks")

    today = timezone.localdate()
    automation_services.override_create(actor=office.manager, absent=seller, starts_on=today,
                                        ends_on=today + dt.timedelta(days=7), to_user=other)
    assert _sync(dav, "tasks", token)[0] == {_href(task): "404"}
    assert _sync(other_dav, "tasks", other_token)[0] == {_href(task): "200"}


# --- 3. Visibility that changes without the record changing --------------------------------------


@pytest.mark.django_db
def test_a_teammate_moved_to_another_team_leaves_my_team_calendar(personas):
    team_only = ActivityFactory(owner=personas.teammate, visibility=Visibility.TEAM)
    everyone = ActivityFactory(owner=personas.teammate, visibility=Visibility.EVERYONE)
    mine = ActivityFactory(owner=personas.owner, visibility=Visibility.TEAM)
    dav = Dav(personas.owner)
    listed, token = _sync(dav, "team")
    assert {_href(team_only), _href(everyone), _href(mine)} <= set(listed)
    _listed, company_token = _sync(dav, "company")

    team_b = personas.outsider.team
    team_save(actor=personas.admin, team=team_b, name=team_b.name, manager=team_b.manager,
              members=[personas.outsider, personas.teammate])

    # Neither of the teammate's events is a team event of mine any more; mine stays.
    assert _sync(dav, "team", token)[0] == {_href(team_only): "404", _href(everyone): "404"}
    assert dav.get(f"{dav.home}team/{_href(team_only)}").status_code == 404
    # The company calendar keeps what everyone may see and drops what only the old team could.
    assert _sync(dav, "company", company_token)[0] == {_href(team_only): "404"}
    assert _href(everyone) in dav.etags("company")
    # The moved colleague now sees the other team's events in their team calendar, not ours.
    theirs = set(Dav(personas.teammate).etags("team"))
    assert _href(mine) not in theirs and _href(team_only) in theirs


@pytest.mark.django_db
def test_a_role_that_reads_only_my_own_records_empties_my_team_and_company_calendars_of_others(personas):
    team_only = ActivityFactory(owner=personas.teammate, visibility=Visibility.TEAM)
    everyone = ActivityFactory(owner=personas.teammate, visibility=Visibility.EVERYONE)
    outsiders = ActivityFactory(owner=personas.outsider, visibility=Visibility.EVERYONE)
    mine = ActivityFactory(owner=personas.owner, visibility=Visibility.TEAM)
    assigned_to_me = ActivityFactory(owner=personas.teammate, assignees=[personas.owner],
                                     visibility=Visibility.TEAM)
    dav = Dav(personas.owner)
    _listed, team_token = _sync(dav, "team")
    _listed, company_token = _sync(dav, "company")
    _listed, calendar_token = _sync(dav, "calendar")

    own_only = Role.objects.create(slug="own-only", name="Own records only", create_scope="own", read_scope="own",
                                   update_scope="own", delete_scope="own")
    user_save(actor=personas.admin, user=personas.owner, data={}, roles=[own_only])

    assert _sync(dav, "team", team_token)[0] == {_href(team_only): "404", _href(everyone): "404"}
    assert _sync(dav, "company", company_token)[0] == {_href(team_only): "404", _href(everyone): "404",
                                                        _href(outsiders): "404"}
    # What is assigned to me I still see (an assignee always does), so my own calendar loses nothing.
    assert _sync(dav, "calendar", calendar_token)[0] == {}
    assert set(dav.etags("calendar")) == {_href(mine), _href(assigned_to_me)}
    assert dav.get(f"{dav.home}company/{_href(outsiders)}").status_code == 404


@pytest.mark.django_db
def test_a_role_that_reads_activities_of_my_team_only_drops_other_teams_from_my_company_calendar(personas):
    teammates = ActivityFactory(owner=personas.teammate, visibility=Visibility.EVERYONE)
    outsiders = ActivityFactory(owner=personas.outsider, visibility=Visibility.EVERYONE)
    dav = Dav(personas.owner)
    listed, company_token = _sync(dav, "company")
    assert {_href(teammates), _href(outsiders)} <= set(listed)
    _listed, team_token = _sync(dav, "team")

    team_reader = Role.objects.create(slug="team-reader", name="Sales, own team's activities",
                                      create_scope="own", read_scope="all", update_scope="own", delete_scope="own")
    RolePermission.objects.create(role=team_reader, record_type=Activity.record_type, action="read", scope="team")
    user_save(actor=personas.admin, user=personas.owner, data={}, roles=[team_reader])

    assert _sync(dav, "company", company_token)[0] == {_href(outsiders): "404"}
    assert _sync(dav, "team", team_token)[0] == {}
    assert _href(teammates) in dav.etags("company")


# --- 4. The caldav client library over HTTP --------------------------------------------------------

SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Client library test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:standup-series@library.example
DTSTAMP:20261201T090000Z
DTSTART;TZID=Europe/Berlin:20270104T093000
DTEND;TZID=Europe/Berlin:20270104T094500
RRULE:FREQ=WEEKLY;COUNT=8
EXDATE;TZID=Europe/Berlin:20270111T093000
SUMMARY:Stand-up
END:VEVENT
BEGIN:VEVENT
UID:standup-series@library.example
DTSTAMP:20261201T090000Z
RECURRENCE-ID;TZID=Europe/Berlin:20270118T093000
DTSTART;TZID=Europe/Berlin:20270118T150000
DTEND;TZID=Europe/Berlin:20270118T151500
SUMMARY:Stand-up (afternoon this week)
END:VEVENT
END:VCALENDAR
"""

BERLIN = dt.timezone(dt.timedelta(hours=1))  # January: CET
SKIPPED = dt.datetime(2027, 1, 11, 9, 30, tzinfo=BERLIN)
MOVED_FROM = dt.datetime(2027, 1, 18, 9, 30, tzinfo=BERLIN)
MOVED_TO = dt.datetime(2027, 1, 18, 15, 0, tzinfo=BERLIN)


@pytest.fixture
def phone_user(transactional_db) -> tuple[User, str]:
    restore_migration_data()  # a test outside a transaction before this one emptied the tables
    user = UserFactory(username="phoneuser", role_slugs="sales")
    return user, app_password_create(user=user, device="Phone").plaintext


def _collections(client: caldav.DAVClient) -> dict[str, Any]:
    return {calendar.url.path.rstrip("/").rsplit("/", 1)[1]: calendar for calendar in client.principal().calendars()}


def test_a_series_with_a_skipped_and_a_moved_occurrence_round_trips_through_the_library(phone_user, live_server):
    user, password = phone_user
    with caldav.DAVClient(url=f"{live_server.url}/dav/", username=user.username, password=password) as client:
        calendar = _collections(client)["calendar"]
        calendar.save_event(SERIES)

        activity = Activity.objects.get(uid="standup-series@library.example")
        assert activity.rrule and activity.owner == user
        exceptions = {exception.original_start: exception for exception in ActivityException.objects.filter(
            activity=activity)}
        assert set(exceptions) == {SKIPPED, MOVED_FROM}
        assert exceptions[SKIPPED].cancelled
        assert not exceptions[MOVED_FROM].cancelled and exceptions[MOVED_FROM].starts_at == MOVED_TO
        version = activity.version

        read = calendar.get_event_by_uid("standup-series@library.example")
        components = list(read.icalendar_instance.walk("VEVENT"))
        [master] = [c for c in components if "RECURRENCE-ID" not in c]
        [override] = [c for c in components if "RECURRENCE-ID" in c]
        exdates = [moment.dt for exdate in _as_list(master.get("EXDATE")) for moment in exdate.dts]
        assert exdates == [SKIPPED]
        assert override["RECURRENCE-ID"].dt == MOVED_FROM
        assert override["DTSTART"].dt == MOVED_TO
        assert str(override["SUMMARY"]) == "Stand-up (afternoon this week)"
        for prop in (override["RECURRENCE-ID"], *_as_list(master.get("EXDATE"))):
            assert prop.params.get("TZID") == "Europe/Berlin"

        # The library saving back what it read (without bumping SEQUENCE, as a sync tool saves what it
        # merely copied) is no change: Rapport's version, and so the ETag every client holds, stays.
        read.save(increase_seqno=False)
        activity.refresh_from_db()
        assert activity.version == version
        assert ActivityException.objects.filter(activity=activity).count() == 2


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_a_todo_saved_by_the_library_and_completed_there_is_completed_in_rapport(phone_user, live_server):
    user, password = phone_user
    with caldav.DAVClient(url=f"{live_server.url}/dav/", username=user.username, password=password) as client:
        tasks = _collections(client)["tasks"]
        todo = tasks.save_todo(uid="library-todo-1", summary="Send the signed offer", due=dt.date(2027, 2, 1))
        activity = Activity.objects.get(uid="library-todo-1")
        assert activity.is_task and activity.is_open
        assert activity.subject == "Send the signed offer" and activity.due_on == dt.date(2027, 2, 1)

        todo.complete()
        activity.refresh_from_db()
        assert activity.status == ActivityStatus.COMPLETED
        # The library lists it as done too.
        assert [t.icalendar_component["UID"] for t in tasks.todos()] == []
        done = tasks.todos(include_completed=True)
        assert [str(t.icalendar_component["STATUS"]) for t in done] == ["COMPLETED"]


def test_an_event_deleted_with_the_library_is_deleted_in_rapport(phone_user, live_server):
    user, password = phone_user
    kept = ActivityFactory(owner=user, subject="Kept")
    gone = ActivityFactory(owner=user, subject="Cancelled lunch")
    with caldav.DAVClient(url=f"{live_server.url}/dav/", username=user.username, password=password) as client:
        calendar = _collections(client)["calendar"]
        token = calendar.get_objects_by_sync_token(load_objects=False).sync_token
        calendar.get_event_by_uid(gone.uid).delete()

        gone.refresh_from_db()
        assert gone.deleted_at is not None
        kept.refresh_from_db()
        assert kept.deleted_at is None
        assert {event.icalendar_component["UID"] for event in calendar.events()} == {kept.uid}
        # In Rapport it is in the usual deleted state, from which it can be restored.
        assert not Activity.objects.visible_to(user).filter(pk=gone.pk).exists()
        assert Activity.objects.deleted_visible_to(user).filter(pk=gone.pk).exists()
        # The client's next delta brings nothing back: the deleted event is not listed again.
        delta = calendar.get_objects_by_sync_token(sync_token=token, load_objects=True)
        assert gone.uid not in {obj.icalendar_component["UID"] for obj in delta if obj.data}


# --- 5. A Rapport save and a DAV PUT racing (PostgreSQL) --------------------------------------------

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: SQLite's in-memory test database "
                                   "answers 'table is locked' at once instead of letting the second writer wait")
# How long a Rapport save keeps its transaction open after writing, so that the PUT surely arrives meanwhile.
HOLD = 1.0


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _racers(live_server, user: User, password: str, subject: str) -> tuple[Activity, str, str]:
    """An event, the URL a client has it under, and the text and ETag the client read (both read one version)."""
    event = ActivityFactory(owner=user, subject=subject)
    url = f"{live_server.url}/dav/{user.username}/calendar/{_href(event)}"
    with niquests.Session() as session:
        fetched = session.get(url, headers={"Authorization": _basic(user.username, password)}, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers.get("ETag")
    return event, fetched.text, fetched.headers["ETag"]


def _put(url: str, text: str, etag: str, user: User, password: str) -> int:
    with niquests.Session() as session:
        response = session.put(url, data=text.encode(), timeout=30, headers={
            "Authorization": _basic(user.username, password), "If-Match": etag,
            "Content-Type": "text/calendar; charset=utf-8"})
    return response.status_code


def _save_in_rapport(user_id: int, activity_id: int, version: int, subject: str, *,
                     hold: threading.Event | None = None) -> Callable[[], Activity]:
    def save() -> Activity:
        actor = User.objects.get(pk=user_id)  # each thread its own object (rights are cached on it)
        with transaction.atomic():
            saved = activity_services.activity_update(actor=actor, activity=Activity.objects.get(pk=activity_id),
                                                      data={"subject": subject}, version=version)
            if hold is not None:
                hold.set()  # written, not yet committed: the PUT now arrives while the row is locked
                time.sleep(HOLD)
            return saved
    return save


def _in_threads(*calls: Callable[[], Any], together: bool = True) -> list[tuple[str, Any]]:
    """Run the calls in threads (released together by a barrier); ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(len(calls)) if together else None
    results: list[tuple[str, Any]] = [("none", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def _outcome(rapport: tuple[str, Any], put: tuple[str, Any]) -> tuple[bool, bool]:
    """(Rapport's save won, the PUT won); a loser must have been told of the conflict."""
    rapport_won = rapport[0] == "ok"
    if not rapport_won:
        assert isinstance(rapport[1], StaleVersion), repr(rapport[1])
    assert put[0] == "ok", repr(put[1])
    assert put[1] in (204, 412), put[1]
    return rapport_won, put[1] == 204


@postgres_only
def test_a_put_arriving_while_a_rapport_save_is_being_written_gets_412(phone_user, live_server):
    user, password = phone_user
    event, text, etag = _racers(live_server, user, password, "Original")
    url = f"{live_server.url}/dav/{user.username}/calendar/{_href(event)}"
    written = threading.Event()

    def put_once_rapport_wrote() -> int:
        assert written.wait(timeout=10)
        return _put(url, text.replace("SUMMARY:Original", "SUMMARY:Saved in the client"), etag, user, password)

    rapport, put = _in_threads(_save_in_rapport(user.pk, event.pk, event.version, "Saved in Rapport", hold=written),
                               put_once_rapport_wrote, together=False)
    rapport_won, put_won = _outcome(rapport, put)
    event.refresh_from_db()
    # Rapport's save was written first (its transaction only committed later): it wins, the client is told.
    assert (rapport_won, put_won) == (True, False), (rapport, put, event.subject)
    assert event.subject == "Saved in Rapport"
    assert event.version == rapport[1].version


@postgres_only
@pytest.mark.parametrize("round_", range(4))
def test_a_rapport_save_and_a_put_at_the_same_moment_exactly_one_wins(phone_user, live_server, round_):
    user, password = phone_user
    event, text, etag = _racers(live_server, user, password, "Original")
    url = f"{live_server.url}/dav/{user.username}/calendar/{_href(event)}"
    put_text = text.replace("SUMMARY:Original", "SUMMARY:Saved in the client")
    seen = event.version
    # Rounds start the PUT a little earlier or later, so both orders of arrival are tried.
    delays = (0.0, 0.005, 0.02, 0.05)

    def put() -> int:
        time.sleep(delays[round_])
        return _put(url, put_text, etag, user, password)

    rapport, put_result = _in_threads(_save_in_rapport(user.pk, event.pk, event.version, "Saved in Rapport"), put)
    rapport_won, put_won = _outcome(rapport, put_result)
    assert rapport_won != put_won, (rapport, put_result)
    event.refresh_from_db()
    assert event.subject == ("Saved in Rapport" if rapport_won else "Saved in the client")
    assert event.version == seen + 1  # one write, not two


@postgres_only
def test_a_delete_arriving_while_a_rapport_save_is_being_written_gets_412(phone_user, live_server):
    user, password = phone_user
    event, _text, etag = _racers(live_server, user, password, "Original")
    url = f"{live_server.url}/dav/{user.username}/calendar/{_href(event)}"
    written = threading.Event()

    def delete_once_rapport_wrote() -> int:
        assert written.wait(timeout=10)
        with niquests.Session() as session:
            response = session.delete(url, timeout=30, headers={"Authorization": _basic(user.username, password),
                                                                "If-Match": etag})
        return response.status_code

    rapport, delete = _in_threads(_save_in_rapport(user.pk, event.pk, event.version, "Saved in Rapport",
                                                   hold=written), delete_once_rapport_wrote, together=False)
    assert rapport[0] == "ok", repr(rapport[1])
    event.refresh_from_db()
    # The client deleted the version it saw, which Rapport had already replaced: refused, nothing deleted.
    assert delete == ("ok", 412), (delete, event.deleted_at)
    assert event.deleted_at is None and event.subject == "Saved in Rapport"
