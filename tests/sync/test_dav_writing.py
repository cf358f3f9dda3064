"""CalDAV/CardDAV as a client writes: conditional PUT and DELETE, UID conflicts, odd names, bad input,
and a Rapport save racing a client's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from rapport.activities import services as activity_services
from rapport.activities.models import Activity, ActivityAssignee, ActivityException
from rapport.core.errors import StaleVersion
from rapport.directory.models import Contact
from tests.factories import ActivityFactory, ContactFactory
from tests.sync.davclient import Dav

pytestmark = pytest.mark.django_db

EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test client//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20261201T090000Z\r
DTSTART:20270104T090000Z\r
DTEND:20270104T100000Z\r
SUMMARY:{summary}\r
X-CLIENT-COLOUR:teal\r
END:VEVENT\r
END:VCALENDAR\r
"""

SERIES = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test client//EN\r
BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:weekly-review@client.example\r
DTSTAMP:20261201T090000Z\r
DTSTART;TZID=Europe/Berlin:20270104T090000\r
DTEND;TZID=Europe/Berlin:20270104T093000\r
RRULE:FREQ=WEEKLY;COUNT=10\r
EXDATE;TZID=Europe/Berlin:20270111T090000\r
SUMMARY:Weekly review\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Weekly review\r
TRIGGER:-PT10M\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-review@client.example\r
DTSTAMP:20261201T090000Z\r
RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000\r
DTSTART;TZID=Europe/Berlin:20270118T140000\r
DTEND;TZID=Europe/Berlin:20270118T143000\r
SUMMARY:Weekly review\r
END:VEVENT\r
END:VCALENDAR\r
"""

TODO = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test client//EN\r
BEGIN:VTODO\r
UID:{uid}\r
DTSTAMP:20261201T090000Z\r
DUE;VALUE=DATE:20270105\r
SUMMARY:Send the offer\r
STATUS:{status}\r
END:VTODO\r
END:VCALENDAR\r
"""

CARD = """BEGIN:VCARD\r
VERSION:3.0\r
UID:{uid}\r
FN:Ana Lima\r
N:Lima;Ana;;;\r
EMAIL;TYPE=INTERNET,WORK:ana@example.com\r
TEL;TYPE=CELL:+351 900 000 000\r
END:VCARD\r
"""


def _calendar_path(dav: Dav, href: str) -> str:
    return f"{dav.home}calendar/{href}"


def test_a_client_creates_an_event_that_shows_in_rapport(personas):
    dav = Dav(personas.owner)
    response = dav.put(_calendar_path(dav, "new-1.ics"), EVENT.format(uid="new-1", summary="Kick-off"),
                       HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 201
    activity = Activity.objects.get(uid="new-1")
    assert activity.subject == "Kick-off"
    assert activity.owner == personas.owner
    assert ActivityAssignee.objects.filter(activity=activity, user=personas.owner).exists()
    assert dav.etags("calendar") == {"new-1.ics": response["ETag"]}
    # The property Rapport does not model comes back as the client sent it.
    assert "X-CLIENT-COLOUR:teal" in dav.get(_calendar_path(dav, "new-1.ics")).content.decode()


def test_if_none_match_star_refuses_to_overwrite(personas):
    dav = Dav(personas.owner)
    text = EVENT.format(uid="once", summary="First")
    assert dav.put(_calendar_path(dav, "once.ics"), text, HTTP_IF_NONE_MATCH="*").status_code == 201
    again = dav.put(_calendar_path(dav, "once.ics"), EVENT.format(uid="once", summary="Second"),
                    HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 412
    assert Activity.objects.get(uid="once").subject == "First"


def test_if_match_updates_only_the_version_the_client_saw(personas):
    dav = Dav(personas.owner)
    created = dav.put(_calendar_path(dav, "e.ics"), EVENT.format(uid="e", summary="One"))
    etag = created["ETag"]
    updated = dav.put(_calendar_path(dav, "e.ics"), EVENT.format(uid="e", summary="Two"), HTTP_IF_MATCH=etag)
    assert updated.status_code == 204
    assert updated["ETag"] != etag
    stale = dav.put(_calendar_path(dav, "e.ics"), EVENT.format(uid="e", summary="Three"), HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert Activity.objects.get(uid="e").subject == "Two"
    assert dav.put(_calendar_path(dav, "missing.ics"), EVENT.format(uid="m", summary="x"),
                   HTTP_IF_MATCH=etag).status_code == 412
    assert not Activity.objects.filter(uid="m").exists()


def test_an_identical_put_does_not_change_the_etag(personas):
    dav = Dav(personas.owner)
    first = dav.put(_calendar_path(dav, "series.ics"), SERIES)
    assert first.status_code == 201, first.content
    stored = dav.get(_calendar_path(dav, "series.ics"))
    second = dav.put(_calendar_path(dav, "series.ics"), SERIES, HTTP_IF_MATCH=first["ETag"])
    assert second["ETag"] == first["ETag"] == stored["ETag"]
    assert dav.get(_calendar_path(dav, "series.ics")).content == stored.content


def test_a_recurring_series_keeps_its_moved_and_skipped_occurrences(personas):
    dav = Dav(personas.owner)
    assert dav.put(_calendar_path(dav, "series.ics"), SERIES).status_code == 201
    activity = Activity.objects.get(uid="weekly-review@client.example")
    assert activity.rrule
    exceptions = {(exception.cancelled, exception.original_start.isoformat())
                  for exception in ActivityException.objects.filter(activity=activity)}
    assert (True, "2027-01-11T08:00:00+00:00") in exceptions
    assert (False, "2027-01-18T08:00:00+00:00") in exceptions
    text = dav.get(_calendar_path(dav, "series.ics")).content.decode()
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20270118T090000" in text
    assert "EXDATE" in text and "20270111T090000" in text
    assert "TRIGGER:-PT10M" in text


def test_a_duplicate_uid_under_another_name_is_a_conflict(personas):
    dav = Dav(personas.owner)
    assert dav.put(_calendar_path(dav, "a.ics"), EVENT.format(uid="same", summary="A")).status_code == 201
    response = dav.put(_calendar_path(dav, "b.ics"), EVENT.format(uid="same", summary="B"))
    assert response.status_code == 409
    assert b"no-uid-conflict" in response.content
    assert set(dav.etags("calendar")) == {"a.ics"}


@pytest.mark.parametrize("href", ["meeting@client.example.ics", "50%off.ics", "a+b=c.ics"])
def test_names_with_at_and_percent_signs_round_trip(personas, href):
    from urllib.parse import quote

    dav = Dav(personas.owner)
    response = dav.put(_calendar_path(dav, quote(href)), EVENT.format(uid="odd-" + str(len(href)), summary="Odd"))
    assert response.status_code == 201, response.content
    assert set(dav.etags("calendar")) == {href}
    assert dav.get(_calendar_path(dav, quote(href))).status_code == 200


def test_malformed_text_is_refused_and_changes_nothing(personas):
    dav = Dav(personas.owner)
    created = dav.put(_calendar_path(dav, "keep.ics"), EVENT.format(uid="keep", summary="Keep me"))
    for bad in ("BEGIN:VCALENDAR\r\nthis is not iCalendar", EVENT.format(uid="keep", summary="x").replace(
            "DTSTART:20270104T090000Z\r\n", "")):
        response = dav.put(_calendar_path(dav, "keep.ics"), bad, HTTP_IF_MATCH=created["ETag"])
        assert response.status_code == 400, response.content
    assert Activity.objects.get(uid="keep").subject == "Keep me"
    assert dav.etags("calendar") == {"keep.ics": created["ETag"]}


def test_a_task_put_in_the_task_list_and_ticked_off(personas):
    dav = Dav(personas.owner)
    path = f"{dav.home}tasks/t1.ics"
    created = dav.put(path, TODO.format(uid="t1", status="NEEDS-ACTION"))
    assert created.status_code == 201, created.content
    task = Activity.objects.get(uid="t1")
    assert task.is_task and task.is_open
    assert dav.put(path, TODO.format(uid="t1", status="COMPLETED"), HTTP_IF_MATCH=created["ETag"]).status_code == 204
    task.refresh_from_db()
    assert task.status == "completed"
    # An event does not belong in the task list, nor a task in the calendar.
    assert dav.put(f"{dav.home}tasks/e.ics", EVENT.format(uid="e9", summary="x")).status_code in (400, 403, 415)
    assert dav.put(_calendar_path(dav, "t2.ics"), TODO.format(uid="t2", status="NEEDS-ACTION")).status_code in (
        400, 403, 415)
    assert not Activity.objects.filter(uid__in=["e9", "t2"]).exists()


def test_delete_with_if_match(personas):
    event = ActivityFactory(owner=personas.owner)
    dav = Dav(personas.owner)
    path = _calendar_path(dav, f"{event.uid}.ics")
    etag = dav.etags("calendar")[f"{event.uid}.ics"]
    assert dav.delete(path, HTTP_IF_MATCH='"stale"').status_code == 412
    assert dav.delete(path, HTTP_IF_MATCH=etag).status_code in (200, 204)
    event.refresh_from_db()
    assert event.deleted_at is not None
    assert dav.etags("calendar") == {}


def test_a_rapport_save_between_read_and_put_wins_and_the_put_gets_412(personas):
    event = ActivityFactory(owner=personas.owner, subject="Original")
    dav = Dav(personas.owner)
    path = _calendar_path(dav, f"{event.uid}.ics")
    fetched = dav.get(path)
    activity_services.activity_update(actor=personas.owner, activity=event, data={"subject": "Saved in Rapport"},
                                      version=event.version)
    text = fetched.content.decode().replace("SUMMARY:Original", "SUMMARY:Saved in the client")
    assert dav.put(path, text, HTTP_IF_MATCH=fetched["ETag"]).status_code == 412
    event.refresh_from_db()
    assert event.subject == "Saved in Rapport"


def test_a_put_between_read_and_a_rapport_save_makes_the_save_a_conflict(personas):
    event = ActivityFactory(owner=personas.owner, subject="Original")
    seen_version = event.version
    dav = Dav(personas.owner)
    path = _calendar_path(dav, f"{event.uid}.ics")
    fetched = dav.get(path)
    text = fetched.content.decode().replace("SUMMARY:Original", "SUMMARY:From the client")
    assert dav.put(path, text, HTTP_IF_MATCH=fetched["ETag"]).status_code == 204
    with pytest.raises(StaleVersion):
        activity_services.activity_update(actor=personas.owner, activity=Activity.objects.get(pk=event.pk),
                                          data={"subject": "Rapport"}, version=seen_version)
    event.refresh_from_db()
    assert event.subject == "From the client"


def test_carddav_put_get_and_edit(personas):
    dav = Dav(personas.owner)
    path = f"{dav.home}contacts/ana.vcf"
    created = dav.put(path, CARD.format(uid="ana-1"), content_type="text/vcard; charset=utf-8",
                      HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 201, created.content
    contact = Contact.objects.get(uid="ana-1")
    assert (contact.first_name, contact.last_name, contact.email, contact.mobile) == (
        "Ana", "Lima", "ana@example.com", "+351 900 000 000")
    assert contact.owner == personas.owner
    edited = CARD.format(uid="ana-1").replace("ana@example.com", "ana.lima@example.com")
    assert dav.put(path, edited, content_type="text/vcard", HTTP_IF_MATCH=created["ETag"]).status_code == 204
    contact.refresh_from_db()
    assert contact.email == "ana.lima@example.com"
    assert dav.put(f"{dav.home}contacts/bad.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n",
                   content_type="text/vcard").status_code == 400


def test_carddav_multiget_and_sync(personas):
    cards = [ContactFactory(owner=personas.owner) for _i in range(3)]
    dav = Dav(personas.owner)
    body = ('<?xml version="1.0"?><cr:addressbook-multiget xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav">'
            "<d:prop><d:getetag/><cr:address-data/></d:prop>"
            + "".join(f"<d:href>{dav.home}contacts/{card.uid}.vcf</d:href>" for card in cards[:2])
            + f"<d:href>{dav.home}contacts/missing.vcf</d:href></cr:addressbook-multiget>")
    response = dav.request("REPORT", f"{dav.home}contacts/", body, HTTP_DEPTH="1")
    assert response.status_code == 207
    content = response.content.decode()
    assert cards[0].last_name in content and cards[1].last_name in content and cards[2].last_name not in content
    assert "404" in content  # the missing one

    first = dav.sync("contacts")
    from tests.sync.davclient import multistatus

    entries, token = multistatus(first.content)
    assert len(entries) == 3
    from rapport.directory.services import contact_update

    contact_update(actor=personas.owner, contact=cards[2], data={"title": "Buyer"}, version=cards[2].version)
    delta, _token = multistatus(dav.sync("contacts", token).content)
    assert [entry.href.rsplit("/", 1)[1] for entry in delta] == [f"{cards[2].uid}.vcf"]


def test_calendar_query_finds_tasks_and_events_in_a_range(personas):
    import datetime as dt

    from tests.factories import tomorrow_at

    ActivityFactory(owner=personas.owner, task=True, subject="Due tomorrow")
    ActivityFactory(owner=personas.owner, task=True, subject="Due next year",
                    due_on=(tomorrow_at(0) + dt.timedelta(days=400)).date())
    dav = Dav(personas.owner)
    body = ('<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            "<d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name=\"VCALENDAR\">"
            "<c:comp-filter name=\"VTODO\"/></c:comp-filter></c:filter></c:calendar-query>")
    response = dav.request("REPORT", f"{dav.home}tasks/", body, HTTP_DEPTH="1")
    assert response.status_code == 207
    assert b"Due tomorrow" in response.content and b"Due next year" in response.content

    start = (tomorrow_at(0) - dt.timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    end = (tomorrow_at(0) + dt.timedelta(days=30)).strftime("%Y%m%dT%H%M%SZ")
    ranged = body.replace('<c:comp-filter name="VTODO"/>',
                          f'<c:comp-filter name="VTODO"><c:time-range start="{start}" end="{end}"/></c:comp-filter>')
    response = dav.request("REPORT", f"{dav.home}tasks/", ranged, HTTP_DEPTH="1")
    assert b"Due tomorrow" in response.content and b"Due next year" not in response.content


PHOTO_CARD = """BEGIN:VCARD\r
VERSION:4.0\r
UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r
FN:Jane Doe\r
N:Doe;Jane;;;\r
EMAIL;TYPE=work:jane@work.example\r
EMAIL;TYPE=home:jane@home.example\r
EMAIL:jane@third.example\r
PHOTO:data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r
 YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\r
X-SOCIAL:jane.example\r
END:VCARD\r
"""


def test_a_card_keeps_its_photo_and_third_email_through_dav(personas):
    dav = Dav(personas.owner)
    path = f"{dav.home}contacts/jane.vcf"
    created = dav.put(path, PHOTO_CARD, content_type="text/vcard; charset=utf-8")
    assert created.status_code == 201, created.content
    contact = Contact.objects.get(last_name="Doe")
    assert (contact.email, contact.secondary_email) == ("jane@work.example", "jane@home.example")
    served = dav.get(path).content.decode()
    assert "PHOTO:data:image/png;base64,iVBORw0KGgo" in served
    assert "jane@third.example" in served and "X-SOCIAL:jane.example" in served
    # Sent back unchanged: no new version, so no spurious change on the client's next sync.
    again = dav.put(path, served, content_type="text/vcard", HTTP_IF_MATCH=created["ETag"])
    assert again["ETag"] == created["ETag"]


def test_an_item_deleted_in_the_client_can_be_created_again(personas):
    dav = Dav(personas.owner)
    event_path, card_path = _calendar_path(dav, "back.ics"), f"{dav.home}contacts/back.vcf"
    for path, text, kind in ((event_path, EVENT.format(uid="back", summary="Back"), "text/calendar"),
                             (card_path, CARD.format(uid="back-card"), "text/vcard")):
        created = dav.put(path, text, content_type=kind)
        assert created.status_code == 201
        assert dav.delete(path, HTTP_IF_MATCH=created["ETag"]).status_code in (200, 204)
        again = dav.put(path, text, content_type=kind, HTTP_IF_NONE_MATCH="*")
        assert again.status_code == 201, again.content
        assert dav.get(path).status_code == 200
    assert Activity.objects.filter(uid="back", deleted_at__isnull=True).count() == 1
    assert Contact.objects.filter(uid="back-card", deleted_at__isnull=True).count() == 1


def test_two_colleagues_keep_the_same_card(personas):
    text = CARD.format(uid="shared-card")
    first, second = Dav(personas.owner), Dav(personas.teammate)
    assert first.put(f"{first.home}contacts/s.vcf", text, content_type="text/vcard").status_code == 201
    response = second.put(f"{second.home}contacts/s.vcf", text, content_type="text/vcard")
    assert response.status_code == 201, response.content
    assert Contact.objects.filter(first_name="Ana", last_name="Lima").count() == 2
    # Each sees the card under the UID their client gave it.
    assert "UID:shared-card\r\n" in second.get(f"{second.home}contacts/s.vcf").content.decode()
    edited = text.replace("ana@example.com", "ana@new.example")
    etag = second.etags("contacts")["s.vcf"]
    assert second.put(f"{second.home}contacts/s.vcf", edited, content_type="text/vcard",
                      HTTP_IF_MATCH=etag).status_code == 204
    assert Contact.objects.get(owner=personas.teammate).email == "ana@new.example"
    assert Contact.objects.get(owner=personas.owner).email == "ana@example.com"


UNDATED_TODO = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test client//EN\r
BEGIN:VTODO\r
UID:undated-1\r
DTSTAMP:20261201T090000Z\r
SUMMARY:{summary}\r
END:VTODO\r
END:VCALENDAR\r
"""


def test_an_undated_task_from_a_client_is_due_today_and_keeps_its_day(personas):
    import datetime as dt

    from django.utils import timezone

    dav = Dav(personas.owner)
    path = f"{dav.home}tasks/undated.ics"
    created = dav.put(path, UNDATED_TODO.format(summary="Call back"))
    assert created.status_code == 201, created.content
    task = Activity.objects.get(uid="undated-1")
    today = timezone.localdate(timezone=ZoneInfo(personas.owner.time_zone or "UTC"))
    assert task.is_task and task.due_on == today
    # A day later the client sends it again, still undated, with a new summary: the day stays.
    Activity.objects.filter(pk=task.pk).update(starts_at=task.starts_at - dt.timedelta(days=1),
                                               ends_at=task.ends_at - dt.timedelta(days=1))
    etag = dav.etags("tasks")["undated.ics"]
    assert dav.put(path, UNDATED_TODO.format(summary="Call back soon"), HTTP_IF_MATCH=etag).status_code == 204
    task.refresh_from_db()
    assert task.subject == "Call back soon" and task.due_on == today - dt.timedelta(days=1)
    # An event without a start is still refused (by Radicale's own check, before Rapport sees it).
    refused = dav.put(_calendar_path(dav, "nostart.ics"), EVENT.format(uid="nostart", summary="x").replace(
        "DTSTART:20270104T090000Z\r\n", ""))
    assert refused.status_code == 400
    assert not Activity.objects.filter(uid="nostart").exists()
