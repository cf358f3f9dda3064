"""The demo company through a real CalDAV client library over HTTP, as a new user would try it.

`caldav` (the Python client) is pointed at the well-known address with an app password made by
`rapport app-password create`; it finds sales1's calendar, tasks and contacts, creates and edits an
event that then shows in Rapport's calendar, and sees an edit made in Rapport at its next sync.
"""

from __future__ import annotations

import datetime as dt
import os

import caldav
import niquests
import pytest

from rapport.activities import selectors as activity_selectors
from rapport.activities import services as activity_services
from rapport.activities.models import Activity
from rapport.cli import main
from rapport.core.models import User
from tests.conftest import restore_migration_data

# The client runs in the test thread while the live server answers from its own.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

NEW_EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Client library test//EN
BEGIN:VEVENT
UID:client-made-1@example.org
DTSTAMP:20261201T080000Z
DTSTART:{start}
DTEND:{end}
SUMMARY:Call with the buyer
LOCATION:Phone
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def demo_company(transactional_db, capsys):
    restore_migration_data()
    assert main(["demo"]) == 0
    capsys.readouterr()


def _app_password(capsys, username: str) -> str:
    assert main(["app-password", "create", username, "Test phone"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_a_client_library_syncs_the_demo_users_calendar_both_ways(demo_company, live_server, capsys):
    password = _app_password(capsys, "sales1")
    sales1 = User.objects.get(username="sales1")
    with caldav.DAVClient(url=f"{live_server.url}/.well-known/caldav", username="sales1",
                          password=password) as client:
        _sync_both_ways(client, live_server, sales1)


def _sync_both_ways(client: caldav.DAVClient, live_server, sales1: User) -> None:
    principal = client.principal()
    calendars = {calendar.url.path.rstrip("/").rsplit("/", 1)[1]: calendar for calendar in principal.calendars()}
    assert {"calendar", "tasks", "team", "company"} <= set(calendars)

    # What Rapport has for sales1 is what the client lists.
    calendar = calendars["calendar"]
    listed = {event.icalendar_component["UID"] for event in calendar.events()}
    in_rapport = set(Activity.objects.filter(assignments__user=sales1, activity_type="event", deleted_at__isnull=True)
                     .values_list("uid", flat=True))
    assert listed == in_rapport and listed
    assert {todo.icalendar_component["UID"] for todo in calendars["tasks"].todos(include_completed=True)} == set(
        Activity.objects.filter(assignments__user=sales1, activity_type="task", deleted_at__isnull=True)
        .values_list("uid", flat=True))

    # The address book is there too (CardDAV: the library's plain WebDAV request).
    response = client.propfind(f"{live_server.url}/dav/sales1/contacts/",
                               props='<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
                                     "</d:prop></d:propfind>", depth=1)
    assert response.status == 207
    assert response.raw.count(".vcf") == sales1_contact_count(sales1)

    first = calendar.get_objects_by_sync_token(load_objects=False)
    token = first.sync_token

    # The client creates an event: it is on sales1's calendar in Rapport.
    start = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0) + dt.timedelta(days=2)
    created = calendar.save_event(NEW_EVENT.format(start=start.strftime("%Y%m%dT%H%M%SZ"),
                                                   end=(start + dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")))
    activity = Activity.objects.get(uid="client-made-1@example.org")
    entries = activity_selectors.calendar(user=sales1, people=[sales1], start=start - dt.timedelta(hours=1),
                                          end=start + dt.timedelta(hours=2))
    assert "Call with the buyer" in [entry.activity.subject for entry in entries]

    # ... and edits it.
    created.icalendar_component["SUMMARY"] = "Call with the buyer (moved)"
    created.save()
    activity.refresh_from_db()
    assert activity.subject == "Call with the buyer (moved)"

    # An edit in Rapport reaches the client at its next sync.
    activity_services.activity_update(actor=sales1, activity=activity, data={"location": "Meeting room 1"},
                                      version=activity.version)
    delta = calendar.get_objects_by_sync_token(sync_token=token, load_objects=True)
    changed = {obj.icalendar_component["UID"]: obj for obj in delta}
    assert "client-made-1@example.org" in changed
    assert str(changed["client-made-1@example.org"].icalendar_component["LOCATION"]) == "Meeting room 1"


def sales1_contact_count(user: User) -> int:
    from rapport.directory.models import Contact

    return Contact.objects.filter(owner=user, deleted_at__isnull=True).count()


def test_a_revoked_or_wrong_app_password_is_refused(demo_company, live_server, capsys):
    _app_password(capsys, "sales1")
    with niquests.Session() as session:
        response = session.request("PROPFIND", f"{live_server.url}/dav/sales1/", auth=("sales1", "wrong-password"),
                                   headers={"Depth": "0"}, timeout=10)
    assert response.status_code == 401
