"""The activity pages: My Home, quick create, the calendar, the activity form and page, notes on records,
delete and undo. What a user sees; who may open which page is the permission matrix's."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from django.utils import timezone

from rapport.activities import services
from rapport.activities.models import Activity, ActivityStatus, ActivityType, Note
from rapport.core.models import Visibility
from rapport.directory.models import Account, Contact
from tests.conftest import client_for
from tests.factories import AccountFactory, ActivityFactory, NoteFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
OCCURRENCE = "%Y%m%dT%H%M%SZ"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def text(response) -> str:
    return html.unescape(response.content.decode())


def section(page: str, heading_id: str) -> str:
    """The part of a page from a heading's id to the end of its card."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def in_berlin(user):
    user.time_zone = "Europe/Berlin"
    user.save(update_fields=["time_zone"])
    return user


def event(owner, subject: str, starts_at: dt.datetime, ends_at: dt.datetime | None = None, **fields) -> Activity:
    return ActivityFactory(owner=owner, subject=subject, starts_at=starts_at,
                           ends_at=ends_at or starts_at + dt.timedelta(hours=1), **fields)


def calendar_day(client, day: dt.date, **query) -> str:
    return text(client.get("/calendar/", {"view": "day", "date": day.isoformat(), **query}))


def cell(page: str, day: str, kind: str = "cal-allday") -> str:
    """One day's cell of a week or day view: the all-day row (cal-allday) or the hours (cal-col)."""
    match = re.search(rf'<div class="{kind}" data-date="{day}".*?(?=<div class="{kind}" data-date=|</div>\s*</div>)',
                      page, re.S)
    return match.group(0) if match else ""


# --- My Home --------------------------------------------------------------------------------------------


def test_my_home_shows_my_week_with_my_events_but_not_a_colleagues_private_one(personas):
    event(personas.owner, "Kickoff with Acme", utc(2027, 3, 10, 9))
    event(personas.teammate, "Dentist", utc(2027, 3, 10, 11), visibility=Visibility.PRIVATE)
    event(personas.owner, "Next week's review", utc(2027, 3, 15, 9))
    response = client_for(personas.owner).get("/home/", {"date": "2027-03-10"})
    page = text(response)
    assert response.status_code == 200
    assert 'data-view="week"' in page and "8 Mar – 14 Mar 2027" in page
    assert "Kickoff with Acme" in section(page, "summary-heading")
    assert "Dentist" not in page and "Next week's review" not in page


def test_my_current_tasks_lists_overdue_ones_first_and_marks_them(personas):
    today = timezone.localdate()
    ActivityFactory(task=True, owner=personas.owner, subject="Send the contract", due_on=today + dt.timedelta(days=2))
    ActivityFactory(task=True, owner=personas.owner, subject="Chase the invoice", due_on=today - dt.timedelta(days=3))
    done = ActivityFactory(task=True, owner=personas.owner, subject="Done already", due_on=today)
    services.activity_update(actor=personas.owner, activity=done, data={"status": "completed"}, version=1)
    ActivityFactory(task=True, owner=personas.teammate, subject="Not mine", due_on=today)
    tasks = section(text(client_for(personas.owner).get("/home/")), "tasks-heading")
    assert tasks.index("Chase the invoice") < tasks.index("Send the contract")
    assert "Done already" not in tasks and "Not mine" not in tasks
    assert tasks.count("Overdue") == 1
    assert tasks.index("Overdue") < tasks.index("Send the contract")


def test_a_reminder_shows_once_its_time_has_come(personas):
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=20)
    event(personas.owner, "Call with Nordwind", soon, reminder_minutes=30)
    event(personas.owner, "Call with Sudwind", soon, reminder_minutes=10)
    event(personas.owner, "Call without reminder", soon)
    page = text(client_for(personas.owner).get("/home/"))
    reminders = section(page, "reminders-heading")
    assert "Call with Nordwind" in reminders
    assert "Call with Sudwind" not in reminders and "Call without reminder" not in reminders


def test_a_task_reminder_west_of_utc_names_the_due_date_not_a_time_the_day_before(personas):
    owner = personas.owner
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    due = (timezone.now() + dt.timedelta(days=1)).date()  # its UTC midnight is within a day
    ActivityFactory(task=True, owner=owner, subject="File the report", due_on=due, reminder_minutes=2 * 1440)
    reminders = section(text(client_for(owner).get("/home/")), "reminders-heading")
    assert "File the report" in reminders
    assert f"{due:%a} {due.day} {due:%b}</span>" in reminders


def test_a_reminder_shows_while_my_home_shows_another_week(personas):
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=20)
    event(personas.owner, "Call with Nordwind", soon, reminder_minutes=30)
    far = (timezone.now() + dt.timedelta(days=70)).date().isoformat()
    assert "Call with Nordwind" in section(text(client_for(personas.owner).get("/home/", {"date": far})),
                                           "reminders-heading")


def test_a_busy_week_lists_fifty_activities_and_sends_to_the_calendar_for_the_rest(personas):
    for index in range(53):
        event(personas.owner, f"Call number {index:02d}", utc(2027, 3, 10, 8) + dt.timedelta(minutes=5 * index))
    page = text(client_for(personas.owner).get("/home/", {"date": "2027-03-10"}))
    summary = page[page.index('id="summary-heading"'):]
    assert "Call number 49" in summary and "Call number 50" not in summary.split("</table>")[0]
    assert '3 more in this period: open the calendar' in summary
    assert '/calendar/?view=week&date=2027-03-10"' in summary


def test_my_home_shows_no_reminders_card_when_none_is_due(personas):
    event(personas.owner, "Far away", timezone.now() + dt.timedelta(days=3), reminder_minutes=30)
    assert 'id="reminders-heading"' not in text(client_for(personas.owner).get("/home/"))


def test_my_home_switches_to_the_month(personas):
    event(personas.owner, "Month end close", utc(2027, 3, 31, 9))
    page = text(client_for(personas.owner).get("/home/", {"view": "month", "date": "2027-03-10"}))
    assert 'data-view="month"' in page and "March 2027" in page
    assert "Month end close" in page


def test_my_home_with_an_impossible_date_says_so(personas):
    response = client_for(personas.owner).get("/home/", {"date": "2027-02-30"})
    assert response.status_code == 400
    assert 'role="alert"' in text(response) and "2027-02-30 is not a date (YYYY-MM-DD)." in text(response)


def test_htmx_asking_for_the_calendar_of_my_home_gets_only_the_calendar(personas):
    event(personas.owner, "Kickoff with Acme", utc(2027, 3, 10, 9))
    response = client_for(personas.owner).get("/home/", {"date": "2027-03-10"},
                                              headers={**HTMX, "HX-Target": "home-calendar"})
    page = text(response)
    assert "<html" not in page and 'id="calendar-grid"' in page and "Kickoff with Acme" in page
    assert "My Current Tasks" not in page


# --- Quick create -------------------------------------------------------------------------------------------


def quick(client, htmx: bool = False, **fields):
    return client.post("/home/quick/", fields, headers=HTMX if htmx else {})


def test_quick_task_without_htmx_goes_back_to_my_home_with_a_message(personas):
    client = client_for(personas.owner)
    response = quick(client, quick="task", what="task", subject="Send the offer", day="2027-03-10")
    assert response.status_code == 302 and response["Location"] == "/home/?quick=task"
    task = Activity.objects.get()
    assert (task.activity_type, task.due_on, task.kind.key) == (ActivityType.TASK, dt.date(2027, 3, 10), "todo")
    assert [a.user for a in task.assignments.all()] == [personas.owner]
    assert "Send the offer was created." in text(client.get(response["Location"]))


def test_quick_call_with_a_time_is_a_quarter_of_an_hour_in_my_time_zone(personas):
    owner = in_berlin(personas.owner)
    response = quick(client_for(owner), htmx=True, quick="task", what="call", subject="Call Anna",
                     day="2027-03-10", time="14:00")
    call = Activity.objects.get()
    assert (call.activity_type, call.kind.key) == (ActivityType.EVENT, "call")
    assert (call.starts_at, call.ends_at) == (utc(2027, 3, 10, 13), utc(2027, 3, 10, 13, 15))
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "Call Anna was created." in page and f'href="/activities/{call.public_id}/"' in page
    assert response["HX-Trigger"] == "activitiesChanged"


def test_quick_event_without_a_time_is_all_day(personas):
    quick(client_for(in_berlin(personas.owner)), htmx=True, quick="task", what="event", subject="Trade fair",
          day="2027-03-10")
    fair = Activity.objects.get()
    assert fair.all_day and fair.kind.key == "meeting"
    assert (fair.first_day, fair.last_day) == (dt.date(2027, 3, 10), dt.date(2027, 3, 10))


def test_quick_event_with_a_time_lasts_an_hour(personas):
    quick(client_for(personas.owner), htmx=True, quick="task", what="event", subject="Demo", day="2027-03-10",
          time="10:00")
    demo = Activity.objects.get()
    assert (demo.all_day, demo.starts_at, demo.ends_at) == (False, utc(2027, 3, 10, 10), utc(2027, 3, 10, 11))


def test_quick_call_without_a_time_is_a_task_to_call(personas):
    quick(client_for(personas.owner), htmx=True, quick="task", what="call", subject="Call Bo", day="2027-03-10")
    call = Activity.objects.get()
    assert (call.activity_type, call.kind.key, call.due_on) == (ActivityType.TASK, "call", dt.date(2027, 3, 10))


def test_quick_contact(personas):
    response = quick(client_for(personas.owner), htmx=True, quick="contact", first_name="Anna", last_name="Berg",
                     email="anna@acme.test")
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.email, contact.owner) == (
        "Anna", "Berg", "anna@acme.test", personas.owner)
    assert "Anna Berg was created." in text(response) and f"/contacts/{contact.public_id}/" in text(response)


def test_quick_account_with_a_known_website_names_the_duplicate_then_creates_when_confirmed(personas):
    AccountFactory(name="Acme Holding", owner=personas.teammate, website="https://www.acme.test")
    client = client_for(personas.owner)
    response = quick(client, htmx=True, quick="account", name="Acme Norway", website="acme.test")
    page = text(response)
    assert response.status_code == 409
    assert "Acme Holding" in page and 'name="confirm_duplicate" value="on"' in page
    assert 'value="Acme Norway"' in page and 'value="acme.test"' in page  # what was typed stays to confirm it
    assert Account.objects.count() == 1
    response = quick(client, htmx=True, quick="account", name="Acme Norway", website="acme.test",
                     confirm_duplicate="on")
    assert response.status_code == 200 and "Acme Norway was created." in text(response)
    assert Account.objects.get(name="Acme Norway").website == "https://acme.test"


def test_quick_note_on_an_account_chosen_by_id(personas):
    acme = AccountFactory(name="Acme", owner=personas.teammate)
    response = quick(client_for(personas.owner), htmx=True, quick="note", account=acme.public_id,
                     body="They want a discount.")
    note = Note.objects.get()
    assert (note.about_type, note.about_id, note.body, note.owner) == ("account", acme.pk, "They want a discount.",
                                                                       personas.owner)
    assert "The note was added to Acme." in text(response)


def test_an_empty_quick_note_is_refused_and_keeps_nothing(personas):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    response = quick(client_for(personas.owner), htmx=True, quick="note", account=acme.public_id, body="  ")
    assert response.status_code == 400 and "Write something first." in text(response)
    assert not Note.objects.exists()


def test_quick_note_on_an_account_i_cannot_see_is_refused(personas):
    hidden = AccountFactory(name="Secret Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = quick(client_for(personas.owner), htmx=True, quick="note", account=hidden.public_id, body="Hello")
    assert response.status_code == 400 and "Choose the account the note is about." in text(response)
    assert not Note.objects.exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_quick_task_without_a_subject_names_the_field_and_keeps_what_was_typed(personas, htmx):
    response = quick(client_for(personas.owner), htmx=htmx, quick="task", what="task", subject="", day="2027-03-10")
    page = text(response)
    assert response.status_code == 400
    assert 'id="id_subject_error"' in page and "This field is required." in page
    assert 'value="2027-03-10"' in page
    assert ('id="home-calendar"' in page) is not htmx  # without htmx, the whole of My Home again
    assert not Activity.objects.exists()


@pytest.mark.parametrize("fields", [
    {"quick": "task", "what": "task", "subject": "Sneaky task", "day": "2027-03-10"},
    {"quick": "account", "name": "Sneaky Co"},
    {"quick": "contact", "last_name": "Sneaky"},
])
def test_quick_create_by_a_read_only_user_is_refused_and_stores_nothing(personas, fields):
    response = quick(client_for(personas.viewer), htmx=True, **fields)
    assert response.status_code == 403
    assert not Activity.objects.exists() and not Account.objects.exists() and not Contact.objects.exists()


def test_htmx_shows_the_answer_to_a_mistake_or_a_conflict_in_place(personas):
    """htmx swaps no 4xx answer unless told; the quick box and the notes panel answer 400 and 409 with a message."""
    page = client_for(personas.owner).get("/home/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1))

    def swaps(status: int) -> bool:
        return next(rule for rule in config["responseHandling"] if re.search(rule["code"], str(status)))["swap"]

    assert [status for status in (200, 204, 302, 400, 403, 404, 409, 500) if swaps(status)] == [200, 302, 400, 409]


def test_quick_create_of_an_unknown_kind_is_refused(personas):
    assert quick(client_for(personas.owner), quick="opportunity").status_code == 400


# --- Calendar -------------------------------------------------------------------------------------------------


def period_links(page: str) -> tuple[str, str]:
    previous = re.search(r'href="([^"]+)" rel="prev"', page).group(1)
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1)
    return previous, following


@pytest.mark.parametrize(("view", "title", "first", "last", "previous", "following"), [
    ("month", "April 2027", "2027-03-29", "2027-05-02", "2027-03-01", "2027-05-01"),
    ("week", "12 Apr – 18 Apr 2027", "2027-04-12", "2027-04-18", "2027-04-07", "2027-04-21"),
    ("day", "Wednesday 14 April 2027", "2027-04-14", "2027-04-14", "2027-04-13", "2027-04-15"),
])
def test_calendar_views_show_their_period(personas, view, title, first, last, previous, following):
    response = client_for(personas.owner).get("/calendar/", {"view": view, "date": "2027-04-14"})
    page = text(response)
    assert response.status_code == 200
    assert f'<h2 class="cal-title">{title}</h2>' in page
    kind = "cal-day" if view == "month" else "cal-col"
    days = re.findall(rf'class="{kind}[^"]*"[^>]*data-date="([0-9-]+)"', page)
    assert (days[0], days[-1]) == (first, last)
    assert period_links(page) == (f"?view={view}&date={previous}", f"?view={view}&date={following}")


def test_calendar_shows_a_team_with_names_and_keeps_the_team_in_its_links(personas):
    event(personas.owner, "Owner's demo", utc(2027, 4, 14, 9))
    event(personas.teammate, "Teammate's visit", utc(2027, 4, 14, 13))
    event(personas.outsider, "Outsider's lunch", utc(2027, 4, 14, 12))
    team = personas.owner.team
    page = text(client_for(personas.owner).get("/calendar/", {"view": "week", "date": "2027-04-14",
                                                              "team": team.public_id}))
    assert "Owner's demo" in page and "Teammate's visit" in page and "Outsider's lunch" not in page
    assert personas.teammate.display_name in page
    assert "Team Team A" in page
    assert period_links(page)[1] == f"?team={team.public_id}&view=week&date=2027-04-21"


def test_calendar_shows_the_chosen_colleagues(personas):
    event(personas.teammate, "Teammate's visit", utc(2027, 4, 14, 13))
    event(personas.outsider, "Outsider's lunch", utc(2027, 4, 14, 12))
    event(personas.owner, "My own demo", utc(2027, 4, 14, 9))
    page = text(client_for(personas.owner).get("/calendar/", {
        "view": "day", "date": "2027-04-14", "people": [personas.teammate.public_id, personas.outsider.public_id]}))
    assert "Teammate's visit" in page and "Outsider's lunch" in page and "My own demo" not in page
    assert re.search(rf'<option value="{personas.teammate.public_id}" selected>', page)


def test_a_colleagues_private_activity_shows_as_busy_without_its_subject(personas):
    event(personas.teammate, "Job interview elsewhere", utc(2027, 4, 14, 10), visibility=Visibility.PRIVATE)
    page = calendar_day(client_for(personas.owner), dt.date(2027, 4, 14), people=personas.teammate.public_id)
    hours = cell(page, "2027-04-14", "cal-col")
    assert "Busy" in hours and "10:00" in hours
    assert "Job interview" not in page


def test_overlapping_events_are_side_by_side_in_the_week_view(personas):
    event(personas.owner, "First", utc(2027, 4, 14, 10), utc(2027, 4, 14, 11))
    event(personas.owner, "Second", utc(2027, 4, 14, 10, 30), utc(2027, 4, 14, 11, 30))
    page = text(client_for(personas.owner).get("/calendar/", {"view": "week", "date": "2027-04-14"}))
    boxes = re.findall(r'left:([0-9.]+)%;width:([0-9.]+)%', cell(page, "2027-04-14", "cal-col"))
    assert sorted(boxes) == [("0.00", "50.00"), ("50.00", "50.00")]


def test_an_all_day_event_over_three_days_shows_on_each_day(personas):
    ActivityFactory(owner=personas.owner, subject="Trade fair", all_day=True, starts_at=utc(2027, 4, 13),
                    ends_at=utc(2027, 4, 16))
    page = text(client_for(personas.owner).get("/calendar/", {"view": "week", "date": "2027-04-14"}))
    assert [day for day in ("12", "13", "14", "15", "16") if "Trade fair" in cell(page, f"2027-04-{day}")] == [
        "13", "14", "15"]
    month = text(client_for(personas.owner).get("/calendar/", {"view": "month", "date": "2027-04-14"}))
    assert month.count('<span class="cal-subject">Trade fair</span>') == 3


@pytest.mark.parametrize(("query", "message"), [
    ({"view": "year"}, "Choose month, week or day."),
    ({"people": "nobody0000000000"}, "No such colleague."),
    ({"team": "noteam0000000000"}, "No such team."),
    ({"date": "2027-13-01"}, "is not a date"),
])
def test_calendar_with_a_bad_choice_says_what_is_wrong(personas, query, message):
    response = client_for(personas.owner).get("/calendar/", query)
    assert response.status_code == 400
    assert 'role="alert"' in text(response) and message in text(response)


# --- Activity form -----------------------------------------------------------------------------------------------


def activity_form(user, **fields) -> dict:
    return {"activity_type": "event", "kind": "meeting", "subject": "Planning", "start_date": "2027-01-12",
            "start_time": "09:00", "end_date": "2027-01-12", "end_time": "10:00", "status": "open",
            "priority": "normal", "owner": user.public_id, "visibility": "everyone", "ends": "never",
            "monthly_by": "date", **fields}


def task_form(user, **fields) -> dict:
    return activity_form(user, **{"activity_type": "task", "kind": "todo", "subject": "Send the offer",
                                  "due_on": "2027-01-12", **fields})


def test_create_a_task_due_on_a_day(personas):
    client = client_for(personas.owner)
    assert client.get("/activities/new/", {"type": "task"}).status_code == 200
    response = client.post("/activities/new/", task_form(personas.owner))
    task = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/activities/{task.public_id}/"
    assert (task.activity_type, task.due_on, task.subject) == (ActivityType.TASK, dt.date(2027, 1, 12),
                                                               "Send the offer")
    page = text(client.get(response["Location"]))
    assert "Send the offer was created." in page and "Tuesday 12 January 2027" in page


@pytest.mark.parametrize(("day", "stored"), [
    ("2027-01-12", utc(2027, 1, 12, 8)),  # CET, UTC+1
    ("2027-07-13", utc(2027, 7, 13, 7)),  # CEST, UTC+2
])
def test_event_times_are_entered_in_my_time_zone(personas, day, stored):
    owner = in_berlin(personas.owner)
    response = client_for(owner).post("/activities/new/", activity_form(owner, start_date=day, end_date=day))
    assert response.status_code == 302
    planning = Activity.objects.get()
    assert (planning.starts_at, planning.ends_at) == (stored, stored + dt.timedelta(hours=1))
    assert planning.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(("time", "end_date", "end_time"), [("15:00", "2027-04-14", "16:00"),
                                                             ("23:00", "2027-04-15", "00:00")])
def test_a_new_event_form_opened_from_a_calendar_hour_is_filled_in_for_an_hour(personas, time, end_date, end_time):
    page = text(client_for(personas.owner).get("/activities/new/", {"type": "event", "date": "2027-04-14",
                                                                    "time": time}))
    assert 'name="start_date" value="2027-04-14"' in page and f'name="start_time" value="{time}"' in page
    assert f'name="end_date" value="{end_date}"' in page and f'name="end_time" value="{end_time}"' in page
    assert re.search(r'<input type="radio" name="activity_type" value="event"[^>]*checked', page)


def test_an_all_day_event_over_three_days_keeps_its_days_when_saved_unchanged(personas):
    fair = ActivityFactory(owner=personas.owner, subject="Trade fair", all_day=True, starts_at=utc(2027, 4, 13),
                           ends_at=utc(2027, 4, 16))
    client = client_for(in_berlin(personas.owner))
    form = text(client.get(f"/activities/{fair.public_id}/edit/"))
    assert 'name="start_date" value="2027-04-13"' in form and 'name="end_date" value="2027-04-15"' in form
    response = client.post(f"/activities/{fair.public_id}/edit/", activity_form(
        personas.owner, subject="Trade fair", start_date="2027-04-13", end_date="2027-04-15", all_day="on",
        version="1"))
    assert response.status_code == 302
    fair.refresh_from_db()
    assert (fair.all_day, fair.first_day, fair.last_day) == (True, dt.date(2027, 4, 13), dt.date(2027, 4, 15))


@pytest.mark.parametrize(("fields", "rule"), [
    ({"repeat": "WEEKLY", "weekdays": ["WE", "MO"]}, "FREQ=WEEKLY;BYDAY=MO,WE"),
    ({"repeat": "WEEKLY"}, "FREQ=WEEKLY;BYDAY=TU"),  # no day chosen: the start's
    ({"repeat": "WEEKLY", "interval": "2", "weekdays": ["FR"]}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
    ({"repeat": "MONTHLY", "monthly_by": "weekday"}, "FREQ=MONTHLY;BYDAY=2TU"),  # 12 January: 2nd Tuesday
    ({"repeat": "MONTHLY", "monthly_by": "weekday", "start_date": "2027-03-30", "end_date": "2027-03-30"},
     "FREQ=MONTHLY;BYDAY=-1TU"),  # the 5th Tuesday is the last one
    ({"repeat": "MONTHLY"}, "FREQ=MONTHLY"),
    ({"repeat": "DAILY", "ends": "count", "count": "10"}, "FREQ=DAILY;COUNT=10"),
    ({"repeat": "DAILY", "ends": "until", "until": "2027-02-28"}, "FREQ=DAILY;UNTIL=20270228"),
    ({"repeat": "WEEKLY", "weekdays": ["MO"], "advanced_rule": "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=12"},
     "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=12"),
    ({"advanced_rule": "rrule:freq=daily;count=3"}, "FREQ=DAILY;COUNT=3"),
])
def test_repeat_choices_become_a_rule(personas, fields, rule):
    response = client_for(personas.owner).post("/activities/new/", activity_form(personas.owner, **fields))
    assert response.status_code == 302, text(response)
    assert Activity.objects.get().rrule == rule


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"start_date": "2027-03-28", "end_date": "2027-03-28", "start_time": "02:30", "end_time": "04:00"},
     "start_time", "02:30 does not exist on 2027-03-28 in Europe/Berlin"),
    ({"end_time": "08:00"}, "end_time", "The end is before the start."),
    ({"end_date": "2027-01-11"}, "end_date", "The end is before the start."),
    ({"repeat": "WEEKLY", "advanced_rule": "FREQ=SOMETIMES"}, "advanced_rule", "FREQ must be one of"),
    ({"advanced_rule": "every other day"}, "advanced_rule", "is not NAME=VALUE"),
    ({"start_date": "2027-02-30"}, "start_date", "Enter a valid date."),
    ({"subject": ""}, "subject", "This field is required."),
    ({"repeat": "DAILY", "ends": "until", "until": "2026-12-31"}, "until", "The last date is before the start."),
    ({"repeat": "DAILY", "ends": "count"}, "count", "Give how many times."),
    ({"activity_type": "task", "due_on": ""}, "due_on", "A task needs a due date."),
])
def test_a_mistake_shows_the_form_again_naming_the_field_and_stores_nothing(personas, fields, field, message):
    owner = in_berlin(personas.owner)
    response = client_for(owner).post("/activities/new/", activity_form(owner, **fields))
    page = text(response)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in page and message in page
    assert f'<a href="#id_{field}">' in page  # the summary at the top links to the field
    assert 'name="subject"' in page
    assert not Activity.objects.exists()


def test_edit_an_event_shows_its_local_times_and_saves_changes(personas):
    owner = in_berlin(personas.owner)
    planning = event(owner, "Planning", utc(2027, 7, 13, 7), utc(2027, 7, 13, 8, 30), rrule="FREQ=WEEKLY;BYDAY=TU")
    client = client_for(owner)
    form = text(client.get(f"/activities/{planning.public_id}/edit/"))
    assert 'name="start_time" value="09:00"' in form and 'name="end_time" value="10:30"' in form
    assert re.search(r'<option value="WEEKLY" selected>', form) and 'name="version" value="1"' in form
    response = client.post(f"/activities/{planning.public_id}/edit/", activity_form(
        owner, subject="Planning (moved)", start_date="2027-07-13", end_date="2027-07-13", start_time="10:00",
        end_time="11:00", repeat="WEEKLY", weekdays=["TU"], version="1"))
    assert response.status_code == 302
    planning.refresh_from_db()
    assert (planning.subject, planning.starts_at, planning.version) == ("Planning (moved)", utc(2027, 7, 13, 8), 2)
    assert "Your changes were saved." in text(client.get(response["Location"]))


def test_an_event_made_in_another_time_zone_is_shown_in_mine_and_saving_it_unchanged_does_not_move_it(personas):
    owner = in_berlin(personas.owner)
    planning = event(owner, "Planning", utc(2027, 1, 12, 8))  # 09:00 in Berlin
    client = client_for(personas.admin)  # in UTC
    form = text(client.get(f"/activities/{planning.public_id}/edit/"))
    assert 'name="start_time" value="08:00"' in form and "Times are in UTC." in form
    response = client.post(f"/activities/{planning.public_id}/edit/", activity_form(
        owner, subject="Planning!", start_time="08:00", end_time="09:00", version="1"))
    assert response.status_code == 302
    planning.refresh_from_db()
    assert (planning.subject, planning.starts_at, planning.time_zone) == ("Planning!", utc(2027, 1, 12, 8),
                                                                         "Europe/Berlin")


def test_editing_with_a_stale_version_shows_the_conflict_and_keeps_the_other_change(personas):
    planning = event(personas.owner, "Planning", utc(2027, 1, 12, 9))
    services.activity_update(actor=personas.owner, activity=planning, data={"subject": "Changed elsewhere"},
                             version=1)
    response = client_for(personas.owner).post(f"/activities/{planning.public_id}/edit/",
                                               activity_form(personas.owner, subject="Mine", version="1"))
    assert response.status_code == 409
    assert "changed by someone else" in text(response) and "See the current version" in text(response)
    planning.refresh_from_db()
    assert (planning.subject, planning.version) == ("Changed elsewhere", 2)


def test_an_activity_created_from_an_account_page_is_in_its_activities_panel_open_ones_first(personas):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    ref = f"account:{acme.public_id}"
    client = client_for(personas.owner)
    form = text(client.get("/activities/new/", {"type": "task", "regarding": ref}))
    assert f'name="regarding" value="{ref}"' in form and "Acme" in form
    done = ActivityFactory(task=True, owner=personas.owner, subject="Old call", due_on=dt.date(2027, 6, 1),
                           regarding=[acme])
    services.activity_update(actor=personas.owner, activity=done, data={"status": "completed"}, version=1)
    response = client.post("/activities/new/", task_form(personas.owner, subject="Send Acme the offer",
                                                         regarding=ref))
    assert response.status_code == 302
    created = Activity.objects.get(subject="Send Acme the offer")
    assert "Acme" in text(client.get(f"/activities/{created.public_id}/"))
    panel = text(client.get(f"/activities/about/{ref}/"))
    assert panel.index("Send Acme the offer") < panel.index("Old call")
    assert f"/activities/new/?type=task&regarding={ref}" in panel


def test_an_activity_about_an_account_i_cannot_see_cannot_be_started(personas):
    hidden = AccountFactory(name="Secret Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    assert client.get("/activities/new/", {"regarding": f"account:{hidden.public_id}"}).status_code == 404
    response = client.post("/activities/new/", task_form(personas.owner, regarding=f"account:{hidden.public_id}"))
    assert response.status_code == 404 and not Activity.objects.exists()


def test_after_saving_the_form_goes_back_where_it_was_opened(personas):
    response = client_for(personas.owner).post("/activities/new/", task_form(personas.owner, next="/home/"))
    assert response["Location"] == "/home/"
    response = client_for(personas.owner).post("/activities/new/",
                                               task_form(personas.owner, next="https://evil.test/"))
    assert response["Location"].startswith("/activities/")


# --- Activity page: occurrences, moving, status ---------------------------------------------------------------------


@pytest.fixture
def weekly(personas):
    """A weekly Monday meeting of the owner's, four times, starting a week from next Monday at 09:00 UTC."""
    today = timezone.now().date()
    first = today + dt.timedelta(days=7 - today.weekday() + 7)
    start = dt.datetime.combine(first, dt.time(9), tzinfo=dt.UTC)
    return event(personas.owner, "Weekly sync", start, rrule="FREQ=WEEKLY;COUNT=4")


def starts(activity: Activity) -> list[dt.datetime]:
    return [activity.starts_at + dt.timedelta(weeks=n) for n in range(4)]


def test_a_recurring_activity_lists_its_next_occurrences(personas, weekly):
    page = text(client_for(personas.owner).get(f"/activities/{weekly.public_id}/"))
    listed = section(page, "occurrences-heading")
    assert [f"{start:%a} {start.day} {start:%b %Y, %H:%M}" in listed for start in starts(weekly)] == [True] * 4
    assert listed.count("Skip this one") == 4 and listed.count("Move this one") == 4
    assert "Delete the series" in page


def test_skip_one_occurrence_takes_only_it_off_the_calendar(personas, weekly):
    client = client_for(personas.owner)
    second = starts(weekly)[1]
    response = client.post(f"/activities/{weekly.public_id}/skip/", {"occurrence": f"{second:{OCCURRENCE}}",
                                                                      "version": "1"})
    assert response["Location"] == f"/activities/{weekly.public_id}/"
    page = text(client.get(response["Location"]))
    assert "That occurrence was skipped; the others stay." in page
    assert section(page, "occurrences-heading").count("Skip this one") == 3
    assert "Weekly sync" not in cell(calendar_day(client, second.date()), second.date().isoformat(), "cal-col")
    third = starts(weekly)[2].date()
    assert "Weekly sync" in cell(calendar_day(client, third), third.isoformat(), "cal-col")


def test_skipping_a_time_that_is_no_occurrence_says_so(personas, weekly):
    client = client_for(personas.owner)
    off = starts(weekly)[1] + dt.timedelta(hours=1)
    response = client.post(f"/activities/{weekly.public_id}/skip/", {"occurrence": f"{off:{OCCURRENCE}}"},
                           follow=True)
    assert "The activity has no occurrence at" in text(response)
    assert not weekly.exceptions.exists()


def test_move_one_occurrence_moves_only_it(personas, weekly):
    client = client_for(personas.owner)
    third = starts(weekly)[2]
    new_day = third.date() + dt.timedelta(days=1)
    response = client.post(f"/activities/{weekly.public_id}/move/", {
        "occurrence": f"{third:{OCCURRENCE}}", "date": new_day.isoformat(), "time": "14:00", "version": "1",
        "next": f"/activities/{weekly.public_id}/"})
    assert response.status_code == 302 and response["Location"] == f"/activities/{weekly.public_id}/"
    moved = cell(calendar_day(client, new_day), new_day.isoformat(), "cal-col")
    assert "Weekly sync" in moved and "14:00" in moved
    assert "Weekly sync" not in cell(calendar_day(client, third.date()), third.date().isoformat(), "cal-col")
    fourth = starts(weekly)[3]
    assert "09:00" in cell(calendar_day(client, fourth.date()), fourth.date().isoformat(), "cal-col")
    weekly.refresh_from_db()
    assert weekly.starts_at == starts(weekly)[0] and weekly.rrule == "FREQ=WEEKLY;COUNT=4"
    assert "moved" in section(text(client.get(f"/activities/{weekly.public_id}/")), "occurrences-heading")


def test_the_move_form_of_an_all_day_occurrence_offers_its_own_date_west_of_utc(personas):
    owner = personas.owner
    owner.time_zone = "America/New_York"
    owner.save(update_fields=["time_zone"])
    today = timezone.now().date()
    first = today + dt.timedelta(days=3)
    ActivityFactory(owner=owner, subject="Office day", all_day=True, starts_at=dt.datetime.combine(
        first, dt.time(0), tzinfo=dt.UTC), ends_at=dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC)
        + dt.timedelta(days=1), rrule="FREQ=WEEKLY;COUNT=2")
    page = text(client_for(owner).get(f"/activities/{Activity.objects.get().public_id}/"))
    dates = re.findall(r'name="date" value="([0-9-]+)"', section(page, "occurrences-heading"))
    assert dates == [first.isoformat(), (first + dt.timedelta(weeks=1)).isoformat()]


def test_moving_a_single_event_keeps_its_length(personas):
    demo = event(personas.owner, "Demo", utc(2027, 4, 14, 10), utc(2027, 4, 14, 11, 30))
    response = client_for(personas.owner).post(f"/activities/{demo.public_id}/move/",
                                               {"date": "2027-04-16", "time": "15:00", "version": "1"},
                                               headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    demo.refresh_from_db()
    assert (demo.starts_at, demo.ends_at) == (utc(2027, 4, 16, 15), utc(2027, 4, 16, 16, 30))


def test_moving_to_another_day_without_a_time_keeps_the_local_time(personas):
    owner = in_berlin(personas.owner)
    demo = event(owner, "Demo", utc(2027, 3, 26, 9), utc(2027, 3, 26, 10))  # 10:00 CET
    client_for(owner).post(f"/activities/{demo.public_id}/move/", {"date": "2027-03-29", "version": "1"})
    demo.refresh_from_db()
    assert demo.starts_at == utc(2027, 3, 29, 8)  # 10:00 CEST


def test_moving_a_task_changes_its_due_date(personas):
    task = ActivityFactory(task=True, owner=personas.owner, due_on=dt.date(2027, 4, 14))
    client_for(personas.owner).post(f"/activities/{task.public_id}/move/", {"date": "2027-04-20", "version": "1"})
    task.refresh_from_db()
    assert task.due_on == dt.date(2027, 4, 20)


@pytest.mark.parametrize(("fields", "message"), [
    ({"date": "someday"}, "Drop it on a day."),
    ({"date": "2027-04-16", "time": "25:00"}, "Not a time."),
    ({"date": "2027-04-16", "version": "0"}, "changed by someone else"),
])
def test_a_move_that_cannot_be_done_says_why_and_changes_nothing(personas, fields, message):
    demo = event(personas.owner, "Demo", utc(2027, 4, 14, 10))
    response = client_for(personas.owner).post(f"/activities/{demo.public_id}/move/", fields)
    assert response.status_code in (400, 409) and message in text(response)
    demo.refresh_from_db()
    assert demo.starts_at == utc(2027, 4, 14, 10)


def test_an_assignee_who_is_not_the_owner_completes_and_reopens_a_task(personas):
    task = ActivityFactory(task=True, owner=personas.owner, subject="Call back Acme", assignees=[personas.teammate])
    client = client_for(personas.teammate)
    page = text(client.get(f"/activities/{task.public_id}/"))
    assert "Mark as completed" in page and f"/activities/{task.public_id}/edit/" not in page
    response = client.post(f"/activities/{task.public_id}/status/", {"status": "completed", "version": "1"})
    assert response["Location"] == f"/activities/{task.public_id}/"
    task.refresh_from_db()
    assert task.status == ActivityStatus.COMPLETED and task.completed_at is not None
    page = text(client.get(f"/activities/{task.public_id}/"))
    assert "Call back Acme is now completed." in page and "Reopen" in page
    assert "Call back Acme" not in section(text(client.get("/home/")), "tasks-heading")
    client.post(f"/activities/{task.public_id}/status/", {"status": "open", "version": "2"})
    task.refresh_from_db()
    assert task.status == ActivityStatus.OPEN and task.completed_at is None
    assert "Call back Acme" in section(text(client.get("/home/")), "tasks-heading")


def test_completing_from_my_current_tasks_with_htmx_gives_the_list_again(personas):
    task = ActivityFactory(task=True, owner=personas.owner, subject="Chase the invoice")
    response = client_for(personas.owner).post(f"/activities/{task.public_id}/status/",
                                               {"status": "completed", "version": "1"}, headers=HTMX)
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "My Current Tasks" in page and "Chase the invoice" not in page and "No open tasks." in page
    assert response["HX-Trigger"] == "activitiesChanged"


def test_an_unknown_status_is_refused(personas):
    task = ActivityFactory(task=True, owner=personas.owner)
    response = client_for(personas.owner).post(f"/activities/{task.public_id}/status/", {"status": "done"})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == ActivityStatus.OPEN


# --- Notes on records ----------------------------------------------------------------------------------------------


def test_add_a_note_to_an_account_shows_it_with_author_and_time(personas):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    client = client_for(personas.owner)
    panel_url = f"/notes/about/account:{acme.public_id}/"
    response = client.post(panel_url, {"body": "Met Anna at the fair."}, headers=HTMX)
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    note = Note.objects.get()
    assert "Met Anna at the fair." in page and personas.owner.display_name in page
    assert f'datetime="{timezone.localtime(note.created_at).isoformat()}"' in page
    response = client.post(panel_url, {"body": "And her boss."})
    assert response["Location"] == f"/accounts/{acme.public_id}/"
    assert "Your note was added." in text(client.get(response["Location"]))
    panel = text(client.get(panel_url))
    assert panel.index("And her boss.") < panel.index("Met Anna at the fair.")  # newest first


@pytest.mark.parametrize("body", ["", "   \n "])
def test_an_empty_note_is_refused_with_a_message(personas, body):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    response = client_for(personas.owner).post(f"/notes/about/account:{acme.public_id}/", {"body": body},
                                               headers=HTMX)
    assert response.status_code == 400
    assert 'id="id_body_error"' in text(response) and "This field is required." in text(response)
    assert not Note.objects.exists()


def test_the_author_edits_a_note_and_its_history_shows_the_change(personas):
    note = NoteFactory(owner=personas.owner, body="Budget is 10k.")
    client = client_for(personas.owner)
    edit_url = f"/notes/{note.public_id}/edit/"
    assert 'Budget is 10k.' in text(client.get(edit_url))
    response = client.post(edit_url, {"body": "Budget is 12k.", "version": "1"})
    assert response["Location"] == f"/accounts/{note.about_id and Account.objects.get(pk=note.about_id).public_id}/"
    note.refresh_from_db()
    assert (note.body, note.version) == ("Budget is 12k.", 2)
    history = section(text(client.get(edit_url)), "history-heading")
    assert "Budget is 10k." in history and "Budget is 12k." in history
    panel = text(client.get(f"/notes/about/account:{Account.objects.get(pk=note.about_id).public_id}/"))
    assert "Budget is 12k." in panel and "(edited)" in panel


def test_editing_a_note_with_a_stale_version_keeps_the_other_change(personas):
    note = NoteFactory(owner=personas.owner, body="First")
    services.note_update(actor=personas.owner, note=note, body="Second", version=1)
    response = client_for(personas.owner).post(f"/notes/{note.public_id}/edit/", {"body": "Mine", "version": "1"})
    assert response.status_code == 409 and "changed by someone else" in text(response)
    note.refresh_from_db()
    assert note.body == "Second"


def test_the_author_deletes_a_note(personas):
    note = NoteFactory(owner=personas.owner, body="Wrong account, sorry.")
    acme = Account.objects.get(pk=note.about_id)
    client = client_for(personas.owner)
    response = client.post(f"/notes/{note.public_id}/delete/", {"version": "1"})
    assert response["Location"] == f"/accounts/{acme.public_id}/"
    assert "The note was deleted." in text(client.get(response["Location"]))
    assert "Wrong account, sorry." not in text(client.get(f"/notes/about/account:{acme.public_id}/"))


def test_a_teammate_sees_a_note_but_cannot_change_it(personas):
    note = NoteFactory(owner=personas.owner, body="Budget is 10k.")
    acme = Account.objects.get(pk=note.about_id)
    client = client_for(personas.teammate)
    panel = text(client.get(f"/notes/about/account:{acme.public_id}/"))
    assert "Budget is 10k." in panel and f"/notes/{note.public_id}/edit/" not in panel
    assert client.get(f"/notes/{note.public_id}/edit/").status_code == 403
    assert client.post(f"/notes/{note.public_id}/edit/", {"body": "Hacked", "version": "1"}).status_code == 403
    assert client.post(f"/notes/{note.public_id}/delete/", {"version": "1"}).status_code == 403
    note.refresh_from_db()
    assert (note.body, note.deleted_at) == ("Budget is 10k.", None)


def test_someone_outside_the_team_does_not_see_the_teams_notes(personas):
    note = NoteFactory(owner=personas.owner, body="Budget is 10k.")
    acme = Account.objects.get(pk=note.about_id)
    response = client_for(personas.outsider).get(f"/notes/about/account:{acme.public_id}/")
    assert response.status_code == 200
    assert "Budget is 10k." not in text(response) and "No notes yet." in text(response)


def test_a_note_on_an_activity_shows_on_its_page(personas):
    demo = event(personas.owner, "Demo", utc(2027, 4, 14, 10))
    client = client_for(personas.owner)
    client.post(f"/notes/about/activity:{demo.public_id}/", {"body": "Bring the projector."})
    assert "Bring the projector." in text(client.get(f"/activities/{demo.public_id}/"))


# --- Delete and undo ------------------------------------------------------------------------------------------------


def test_delete_an_activity_then_undo(personas):
    demo = event(personas.owner, "Demo for Acme", utc(2027, 4, 14, 10))
    client = client_for(personas.owner)
    response = client.post(f"/activities/{demo.public_id}/delete/", {"version": "1"})
    assert response.status_code == 302 and response["Location"] == "/calendar/"
    page = text(client.get("/calendar/", {"view": "day", "date": "2027-04-14"}))
    restore_url = f"/activities/{demo.public_id}/restore/"
    assert "Demo for Acme was deleted." in page and "Demo for Acme is in the trash." in page
    assert f'action="{restore_url}"' in page and "Undo" in page
    assert '<span class="cal-subject">Demo for Acme</span>' not in page
    assert client.get(f"/activities/{demo.public_id}/").status_code == 404
    response = client.post(restore_url)
    assert response["Location"] == f"/activities/{demo.public_id}/"
    assert "Demo for Acme was restored." in text(client.get(response["Location"]))
    page = text(client.get("/calendar/", {"view": "day", "date": "2027-04-14"}))
    assert "Undo" not in page and '<span class="cal-subject">Demo for Acme</span>' in page


def test_deleting_with_a_stale_version_is_refused_with_a_message(personas):
    demo = event(personas.owner, "Demo", utc(2027, 4, 14, 10))
    services.activity_update(actor=personas.owner, activity=demo, data={"subject": "Demo (new)"}, version=1)
    response = client_for(personas.owner).post(f"/activities/{demo.public_id}/delete/", {"version": "1"},
                                               follow=True)
    assert "changed by someone else" in text(response)
    demo.refresh_from_db()
    assert demo.deleted_at is None


def test_html_in_a_subject_or_note_is_shown_as_text(personas):
    evil = '<script>alert("x")</script>'
    demo = event(personas.owner, evil, utc(2027, 4, 14, 10))
    NoteFactory(owner=personas.owner, about=demo, body=evil)
    client = client_for(personas.owner)
    for url in (f"/activities/{demo.public_id}/", "/calendar/?view=week&date=2027-04-14",
                "/home/?date=2027-04-14", f"/activities/{demo.public_id}/edit/"):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;" in page, url
