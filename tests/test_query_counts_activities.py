"""Pinned query counts of the activity reads: a calendar, a task list, a record's activities, My Home,
an activity's page and the API list cost the same for 3 activities of each sort as for 30 (no query
per row, per occurrence or per person).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.activities import selectors, services
from rapport.activities.models import Activity
from rapport.directory.models import Account, Contact
from tests.conftest import client_for
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, NoteFactory, tomorrow_at

pytestmark = pytest.mark.django_db

# The selectors, with the viewer's rights already resolved (as within a request).
SELECTORS = {
    # assignment rows in range, their activities with kinds, exceptions of the recurring ones; the
    # viewer's own calendar is among them, so what is assigned to them needs no query of its own
    "calendar": 3,
    # one person's: the activities with kinds (their assignment rows a subquery), exceptions
    "calendar_own": 2,
    # a colleague's: the activities, and the viewer's own assignments among those hidden from them
    "calendar_colleague": 2,
    "current_tasks": 2,  # the open-task rows, their activities with kinds and owners
    "activities_about_account": 1,  # one query: linked, visible, open first, newest
    "activities_about_contact": 1,  # linked or attending, in the same query
}
# Session + user (2), rights (1), then the page; a full page also counts, for the top bar's badges, the
# support requests awaiting the user's answer and the user's pending email (1, counted together).
PAGES: dict[str, tuple[str, int]] = {
    # + the week's calendar (2: its activities with kinds, their assignment rows a subquery, and the
    # exceptions of the recurring ones), colleague and team choices (2), My Current Tasks (2) and which of
    # them are follow-ups (1); the day's reminders come from the week's calendar (read a day beyond the week)
    "my_home": ("/home/", 11),
    # + the calendar (2), colleague and team choices (2)
    "calendar_month": ("/calendar/?view=month&date={day}", 8),
    # + the colleague (1), their calendar (2: no recurring ones there, but the viewer's own assignments
    # among the activities hidden from them), colleague and team choices (2)
    "calendar_week_people": ("/calendar/?view=week&date={day}&people={people}", 9),
    # + the activity with kind and owner (1), exceptions (1), links (1), attendees (1), the regarded records
    # and attendees (1 per type: 2), assignments (1) and their users (1), notes (1), history (1)
    "activity_detail": ("/activities/{activity}/", 14),
    # + the record (1), its activities, linked or (a contact) attending, with kinds and owners (1)
    "activities_panel_account": ("/activities/about/{account_ref}/", 5),
    "activities_panel_contact": ("/activities/about/{contact_ref}/", 5),
    # + the record (1), its notes with their authors (1)
    "notes_panel_account": ("/notes/about/{account_ref}/", 5),
}
# Token (1), rights (1), then the rows.
API: dict[str, tuple[str, int]] = {
    # + the page of activities (1), assignments (1) and their users (1), attendees (1), links (1),
    # the regarded records (1 per type: 2)
    "activities": ("activities", 9),
    # + the activities in range (1) and their exceptions (1), then as above
    "activities_range": ("activities?start={start}&end={end}", 10),
}


def populate(personas, account: Account, contact: Contact, n: int) -> None:
    """n activities of each sort the reads meet, owned by several people, some hidden from the viewer
    (personas.owner): events about the account and the contact with the contact attending; open tasks;
    a teammate's events assigned to the owner too; weekly meetings with a skipped occurrence; a
    teammate's private events (busy on the owner's view of the teammate's calendar); tasks the manager
    assigned to the owner. The owner's own activity gets n more notes."""
    owner, teammate, manager = personas.owner, personas.teammate, personas.manager
    base = tomorrow_at(8)
    for i in range(n):
        start = base + dt.timedelta(hours=i % 8, days=i % 5)
        ActivityFactory(owner=owner, starts_at=start, regarding=[account, contact], attendees=[contact])
        ActivityFactory(task=True, owner=owner, due_on=(base + dt.timedelta(days=i % 9 - 3)).date(),
                        regarding=[account])
        ActivityFactory(owner=teammate, visibility="team", starts_at=start, assignees=[teammate, owner],
                        regarding=[contact])
        weekly = ActivityFactory(owner=owner, starts_at=start, rrule="FREQ=WEEKLY;COUNT=6", regarding=[account])
        services.occurrence_skip(actor=owner, activity=weekly, original_start=start + dt.timedelta(days=7),
                                 version=weekly.version)
        ActivityFactory(owner=teammate, visibility="private", starts_at=start + dt.timedelta(minutes=30))
        ActivityFactory(task=True, owner=manager, actor=manager, visibility="private", assignees=[owner],
                        due_on=(base + dt.timedelta(days=i % 4)).date(), regarding=[contact])
        NoteFactory(owner=owner, about=account)


def count(call, *, status: int | None = 200) -> int:
    call()  # warm: content types, the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        result = call()
    if status is not None:
        assert result.status_code == status, result.content[:500]
    return len(queries)


@pytest.fixture
def world(personas):
    account = AccountFactory(owner=personas.owner, name="Regarded")
    contact = ContactFactory(owner=personas.owner, account=account)
    return account, contact


def _range() -> tuple[dt.datetime, dt.datetime]:
    start = tomorrow_at(0) - dt.timedelta(days=3)
    return start, start + dt.timedelta(days=35)


def _selector(name: str, personas, account: Account, contact: Contact):
    owner = personas.owner
    start, end = _range()
    return {
        "calendar": lambda: selectors.calendar(user=owner, people=[owner, personas.teammate], start=start, end=end),
        "calendar_own": lambda: selectors.calendar(user=owner, people=[owner], start=start, end=end),
        "calendar_colleague": lambda: selectors.calendar(user=owner, people=[personas.teammate], start=start,
                                                         end=end),
        "current_tasks": lambda: selectors.current_tasks(user=owner),
        "activities_about_account": lambda: selectors.activities_about(user=owner, record=account),
        "activities_about_contact": lambda: selectors.activities_about(user=owner, record=contact),
    }[name]


def test_selector_query_counts_are_pinned_and_flat(personas, world):
    account, contact = world
    calls = {name: _selector(name, personas, account, contact) for name in SELECTORS}
    populate(personas, account, contact, 3)
    small = {name: (len(call()), count(call, status=None)) for name, call in calls.items()}
    populate(personas, account, contact, 27)
    for name, call in calls.items():
        assert len(call()) > small[name][0], name  # the read found the new rows...
        assert (name, count(call, status=None)) == (name, small[name][1])  # ...for the same number of queries
    assert {name: found for name, (_rows, found) in small.items()} == SELECTORS


def test_calendar_shows_hidden_activities_as_busy(personas, world):
    """The free/busy rule the query count depends on: the teammate's private events are on the
    teammate's calendar as busy, everything assigned to the viewer is shown."""
    account, contact = world
    populate(personas, account, contact, 3)
    start, end = _range()
    entries = selectors.calendar(user=personas.owner, people=[personas.owner, personas.teammate], start=start,
                                 end=end)
    busy = {entry.activity.pk for entry in entries if entry.busy}
    private = set(Activity.objects.filter(owner=personas.teammate, visibility="private").values_list("pk", flat=True))
    assert busy == private
    shown = {entry.activity.pk for entry in entries if not entry.busy}
    assigned_by_manager = set(Activity.objects.filter(owner=personas.manager).values_list("pk", flat=True))
    assert assigned_by_manager <= shown
    # The teammate's calendar alone: the same busy ones; what the teammate shares is shown.
    entries = selectors.calendar(user=personas.owner, people=[personas.teammate], start=start, end=end)
    assert {entry.activity.pk for entry in entries if entry.busy} == private
    shared = set(Activity.objects.filter(owner=personas.teammate, visibility="team").values_list("pk", flat=True))
    assert shared <= {entry.activity.pk for entry in entries if not entry.busy}
    # The manager's private tasks on the owner's calendar: shown to the owner (assigned), busy for the teammate.
    hidden_from_teammate = {entry.activity.pk for entry in selectors.calendar(
        user=personas.teammate, people=[personas.owner], start=start, end=end) if entry.busy}
    assert assigned_by_manager <= hidden_from_teammate


def _page_url(template: str, personas, account: Account) -> str:
    activity = Activity.objects.filter(owner=personas.owner, links__record_id=account.pk, rrule="").order_by("pk")[0]
    contact = Contact.objects.filter(account=account).order_by("pk")[0]
    return template.format(day=tomorrow_at(0).date().isoformat(), people=personas.teammate.public_id,
                           activity=activity.public_id, account_ref=account.ref, contact_ref=contact.ref)


def test_page_query_counts_are_pinned_and_flat(personas, world):
    account, contact = world
    client = client_for(personas.owner)
    populate(personas, account, contact, 3)
    # A daily stand-up since yesterday: whatever the hour the suite runs at, the next 24 hours hold a
    # recurring occurrence with a reminder (populate's activities start tomorrow at 8).
    ActivityFactory(owner=personas.owner, starts_at=timezone.now() - dt.timedelta(days=1), rrule="FREQ=DAILY;COUNT=5",
                    reminder_minutes=15)
    urls = {name: _page_url(template, personas, account) for name, (template, _n) in PAGES.items()}
    small = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    populate(personas, account, contact, 27)
    large = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    assert large == small
    assert small == {name: expected for name, (_template, expected) in PAGES.items()}


def test_api_query_counts_are_pinned_and_flat(personas, world, api_for):
    account, contact = world
    client = api_for(personas.owner)
    start, end = _range()
    paths = {name: template.format(start=start.isoformat().replace("+00:00", "Z"),
                                   end=end.isoformat().replace("+00:00", "Z"))
             for name, (template, _n) in API.items()}
    populate(personas, account, contact, 3)
    small = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    populate(personas, account, contact, 27)
    large = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    assert large == small
    assert small == {name: expected for name, (_template, expected) in API.items()}
