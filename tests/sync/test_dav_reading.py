"""CalDAV/CardDAV as a client reads it: discovery, collection properties, sign-in, listings, sync tokens
and visibility. A bad listing makes a client delete data on its side, so listings are tested as
carefully as writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from rapport.activities import services as activity_services
from rapport.core.models import Visibility
from rapport.sync.services import app_password_create, app_password_revoke
from tests.factories import ActivityFactory, ContactFactory, UserFactory
from tests.sync.davclient import Dav, clark, multistatus

pytestmark = pytest.mark.django_db


def test_well_known_addresses_lead_to_the_server():
    client = Client()
    for path in ("/.well-known/caldav", "/.well-known/carddav"):
        response = client.get(path)
        assert response.status_code == 301
        assert response["Location"] == "/dav/"


def test_a_client_finds_its_principal_and_collections(personas):
    dav = Dav(personas.owner)
    root = dav.entries("/dav/", "d:current-user-principal", depth="0")
    principal = root[0].props[clark("d:current-user-principal")].findtext("d:href", namespaces={"d": "DAV:"})
    assert principal == dav.home

    home = dav.entries(dav.home, "c:calendar-home-set", "cr:addressbook-home-set", depth="0")[0]
    assert home.props[clark("c:calendar-home-set")].findtext("{DAV:}href") == dav.home
    assert home.props[clark("cr:addressbook-home-set")].findtext("{DAV:}href") == dav.home

    listed = {entry.href: entry for entry in dav.entries(dav.home, "d:displayname", "d:resourcetype")}
    assert set(listed) == {dav.home, *(dav.home + name + "/" for name in ("calendar", "tasks", "contacts", "team",
                                                                          "company"))}
    assert listed[dav.home + "contacts/"].props[clark("d:resourcetype")].find(clark("cr:addressbook")) is not None
    assert listed[dav.home + "calendar/"].props[clark("d:resourcetype")].find(clark("c:calendar")) is not None
    assert personas.owner.team.name in listed[dav.home + "team/"].text(clark("d:displayname"))


def test_a_user_without_a_team_has_no_team_calendar():
    loner = UserFactory(team=None)
    dav = Dav(loner)
    assert dav.home + "team/" not in {entry.href for entry in dav.entries(dav.home, "d:displayname")}
    assert dav.propfind(dav.home + "team/", "d:displayname").status_code in (403, 404)


def test_collections_say_what_they_hold_and_who_may_write(personas):
    dav = Dav(personas.owner)
    props = ("c:supported-calendar-component-set", "cs:getctag", "d:sync-token", "d:current-user-privilege-set")
    found = {entry.href: entry for entry in dav.entries(dav.home, *props)}

    def components(name: str) -> set[str]:
        element = found[dav.home + name + "/"].props[clark("c:supported-calendar-component-set")]
        return {comp.get("name") for comp in element}

    def privileges(name: str) -> set[str]:
        element = found[dav.home + name + "/"].props[clark("d:current-user-privilege-set")]
        return {child.tag for privilege in element for child in privilege}

    assert components("calendar") == {"VEVENT"}
    assert components("tasks") == {"VTODO"}
    assert clark("d:write") in privileges("calendar")
    assert clark("d:write") in privileges("contacts")
    assert clark("d:write") not in privileges("team")
    assert clark("d:read") in privileges("team")
    for name in ("calendar", "tasks", "contacts", "team", "company"):
        entry = found[dav.home + name + "/"]
        assert entry.text(clark("cs:getctag"))
        assert entry.text(clark("d:sync-token")).startswith("urn:rapport:sync:")


def test_sign_in_needs_a_live_app_password(personas):
    user = personas.owner
    new = app_password_create(user=user, device="Phone")
    assert Dav(user, new.plaintext).propfind(f"/dav/{user.username}/", depth="0").status_code == 207
    # Typed without hyphens, in capitals: still the same password.
    typed = new.plaintext.replace("-", "").upper()
    assert Dav(user, typed).propfind(f"/dav/{user.username}/", depth="0").status_code == 207

    for wrong in ("not-the-password", "secret"):  # "secret": the sign-in password of the factories
        response = Dav(user, wrong).propfind(f"/dav/{user.username}/", depth="0")
        assert response.status_code == 401
        assert "Basic" in response["WWW-Authenticate"]
    app_password_revoke(user=user, app_password_id=new.app_password.pk)
    assert Dav(user, new.plaintext).propfind(f"/dav/{user.username}/", depth="0").status_code == 401
    # Another user's name with this user's password: refused too.
    other = personas.teammate
    assert Dav(other, app_password_create(user=user, device="x").plaintext).propfind(
        f"/dav/{other.username}/", depth="0").status_code == 401


def test_a_deactivated_user_can_no_longer_sync(personas):
    dav = Dav(personas.owner)
    personas.owner.is_active = False
    personas.owner.save(update_fields=["is_active"])
    assert dav.propfind(dav.home, depth="0").status_code == 401


def test_nobody_reads_another_users_collections(personas):
    dav = Dav(personas.owner)
    ActivityFactory(owner=personas.teammate)
    for name in ("", "calendar/", "tasks/", "contacts/"):
        response = dav.propfind(f"/dav/{personas.teammate.username}/{name}", "d:getetag")
        assert response.status_code in (403, 404), (name, response.status_code)
        assert b"Activity" not in response.content


def test_my_calendar_lists_my_events_and_my_tasks_list_my_tasks(personas):
    owner = personas.owner
    event = ActivityFactory(owner=owner)
    task = ActivityFactory(owner=owner, task=True)
    assigned_by_colleague = ActivityFactory(owner=personas.teammate, assignees=[owner])
    colleagues_own = ActivityFactory(owner=personas.teammate)
    deleted = ActivityFactory(owner=owner)
    activity_services.activity_delete(actor=owner, activity=deleted)

    dav = Dav(owner)
    calendar = dav.etags("calendar")
    assert set(calendar) == {f"{event.uid}.ics", f"{assigned_by_colleague.uid}.ics"}
    assert set(dav.etags("tasks")) == {f"{task.uid}.ics"}
    assert f"{colleagues_own.uid}.ics" not in calendar

    text = dav.get(f"{dav.home}calendar/{event.uid}.ics")
    assert text.status_code == 200
    assert f"UID:{event.uid}" in text.content.decode()
    assert text["ETag"] == calendar[f"{event.uid}.ics"]


def test_my_address_book_lists_the_contacts_i_own(personas):
    mine = ContactFactory(owner=personas.owner, email="ana@example.com")
    ContactFactory(owner=personas.teammate)
    dav = Dav(personas.owner)
    assert set(dav.etags("contacts")) == {f"{mine.uid}.vcf"}
    card = dav.get(f"{dav.home}contacts/{mine.uid}.vcf").content.decode()
    assert "BEGIN:VCARD" in card and "ana@example.com" in card


def test_the_etag_changes_exactly_when_the_item_does(personas):
    event = ActivityFactory(owner=personas.owner)
    other = ActivityFactory(owner=personas.owner)
    dav = Dav(personas.owner)
    before = dav.etags("calendar")
    assert dav.etags("calendar") == before  # reading changes nothing
    activity_services.activity_update(actor=personas.owner, activity=event, data={"subject": "Moved on"},
                                      version=event.version)
    after = dav.etags("calendar")
    assert after[f"{event.uid}.ics"] != before[f"{event.uid}.ics"]
    assert after[f"{other.uid}.ics"] == before[f"{other.uid}.ics"]


def _sync(dav: Dav, collection: str, token: str = "") -> tuple[dict[str, str], str]:
    """href → "200" or "404" of a sync-collection report, and the new token."""
    response = dav.sync(collection, token)
    assert response.status_code == 207, response.content[:300]
    entries, new_token = multistatus(response.content)
    return {entry.href.rsplit("/", 1)[1]: ("404" if "404" in entry.status else "200") for entry in entries}, new_token


def test_sync_collection_gives_the_changes_since_a_token(personas):
    owner = personas.owner
    kept = ActivityFactory(owner=owner)
    edited = ActivityFactory(owner=owner)
    removed = ActivityFactory(owner=owner)
    dav = Dav(owner)

    first, token = _sync(dav, "calendar")
    assert first == {f"{a.uid}.ics": "200" for a in (kept, edited, removed)}

    nothing, same = _sync(dav, "calendar", token)
    assert nothing == {}
    assert same == token

    activity_services.activity_update(actor=owner, activity=edited, data={"location": "Room 2"},
                                      version=edited.version)
    activity_services.activity_delete(actor=owner, activity=removed)
    added = ActivityFactory(owner=owner)
    delta, newer = _sync(dav, "calendar", token)
    assert delta == {f"{edited.uid}.ics": "200", f"{removed.uid}.ics": "404", f"{added.uid}.ics": "200"}
    assert newer != token
    assert _sync(dav, "calendar", newer)[0] == {}
    # The old token still answers with the same delta (a client that lost the answer asks again).
    assert _sync(dav, "calendar", token)[0] == delta


@pytest.mark.parametrize("token", ["urn:rapport:sync:999999:1", "http://example.com/ns/sync/1", "garbage",
                                   "urn:rapport:sync:1:999999999"])
def test_an_unknown_sync_token_asks_the_client_to_resync(personas, token):
    ActivityFactory(owner=personas.owner)
    dav = Dav(personas.owner)
    response = dav.sync("calendar", token)
    assert response.status_code == 403
    assert b"valid-sync-token" in response.content


def test_a_token_of_another_collection_is_refused(personas):
    dav = Dav(personas.owner)
    _entries, tasks_token = _sync(dav, "tasks")
    response = dav.sync("calendar", tasks_token)
    assert response.status_code == 403
    assert b"valid-sync-token" in response.content


def test_an_expired_token_asks_the_client_to_resync(personas):
    from rapport.core.scheduler import periodic_jobs
    from rapport.sync.changes import prune_tombstones

    assert "prune_sync_tombstones" in periodic_jobs()  # run daily by the scheduler

    owner = personas.owner
    gone = ActivityFactory(owner=owner)
    dav = Dav(owner)
    _first, token = _sync(dav, "calendar")
    activity_services.activity_delete(actor=owner, activity=gone)
    _delta, later = _sync(dav, "calendar", token)
    assert prune_tombstones(older_than=dt.timedelta(0)) == 1
    assert dav.sync("calendar", token).status_code == 403
    assert _sync(dav, "calendar", later)[0] == {}


def test_team_calendar_shows_what_i_may_see_of_my_team_and_nothing_else(personas):
    shared = ActivityFactory(owner=personas.teammate, visibility=Visibility.EVERYONE)
    private = ActivityFactory(owner=personas.teammate, visibility=Visibility.PRIVATE)
    other_team = ActivityFactory(owner=personas.outsider)
    dav = Dav(personas.owner)
    listed, token = _sync(dav, "team")
    assert f"{shared.uid}.ics" in listed
    assert f"{private.uid}.ics" not in listed
    assert f"{other_team.uid}.ics" not in listed
    assert b"Busy" not in dav.get(f"{dav.home}team/{shared.uid}.ics").content

    # Made private: it leaves the team calendar at the next sync (the client deletes its copy).
    activity_services.activity_update(actor=personas.teammate, activity=shared,
                                      data={"visibility": Visibility.PRIVATE}, version=shared.version)
    delta, _token = _sync(dav, "team", token)
    assert delta == {f"{shared.uid}.ics": "404"}
    assert dav.get(f"{dav.home}team/{shared.uid}.ics").status_code == 404


def test_a_reassigned_event_leaves_my_calendar(personas):
    event = ActivityFactory(owner=personas.owner)
    dav = Dav(personas.owner)
    _listed, token = _sync(dav, "calendar")
    activity_services.activity_update(actor=personas.owner, activity=event, data={},
                                      assignees=[personas.teammate], version=event.version)
    assert _sync(dav, "calendar", token)[0] == {f"{event.uid}.ics": "404"}
    assert f"{event.uid}.ics" in Dav(personas.teammate).etags("calendar")


def test_shared_calendars_cannot_be_written(personas):
    event = ActivityFactory(owner=personas.teammate)
    dav = Dav(personas.owner)
    text = dav.get(f"{dav.home}team/{event.uid}.ics").content.decode()
    for name in ("team", "company"):
        put = dav.put(f"{dav.home}{name}/{event.uid}.ics", text.replace("SUMMARY:", "SUMMARY:Mine "))
        assert put.status_code == 403, (name, put.status_code)
        assert dav.delete(f"{dav.home}{name}/{event.uid}.ics").status_code == 403
    event.refresh_from_db()
    assert not event.subject.startswith("Mine")
    assert event.deleted_at is None


def test_collections_cannot_be_made_or_deleted(personas):
    dav = Dav(personas.owner)
    assert dav.request("MKCALENDAR", dav.home + "holidays/").status_code == 403
    assert dav.request("MKCOL", dav.home + "more/").status_code == 403
    response = dav.delete(dav.home + "calendar/")
    assert response.status_code in (403, 405)
    assert dav.propfind(dav.home + "calendar/", depth="0").status_code == 207


def test_a_client_keeps_the_colour_it_gave_my_calendar(personas):
    dav = Dav(personas.owner)
    body = ('<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/">'
            "<d:set><d:prop><a:calendar-color>#FF8800</a:calendar-color></d:prop></d:set></d:propertyupdate>")
    assert dav.request("PROPPATCH", dav.home + "calendar/", body).status_code == 207
    response = dav.request("PROPFIND", dav.home + "calendar/",
                           '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/">'
                           "<d:prop><a:calendar-color/><d:displayname/></d:prop></d:propfind>", HTTP_DEPTH="0")
    assert b"#FF8800" in response.content
    assert b"Rapport: my calendar" in response.content
    refused = dav.request("PROPPATCH", dav.home + "team/", body)
    assert refused.status_code in (207, 403)
    assert b"#FF8800" not in dav.request(
        "PROPFIND", dav.home + "team/",
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/">'
        "<d:prop><a:calendar-color/></d:prop></d:propfind>", HTTP_DEPTH="0").content


def test_the_web_session_is_no_key_to_dav(personas):
    from tests.conftest import client_for

    browser = client_for(personas.owner)
    for method in ("PROPFIND", "GET", "PUT", "DELETE"):
        response = browser.generic(method, f"/dav/{personas.owner.username}/calendar/")
        assert response.status_code == 401, method
        assert response["WWW-Authenticate"].startswith("Basic")
    assert browser.get("/dav").status_code == 302


def test_behind_a_proxy_a_username_starting_with_dav_still_syncs():
    david = UserFactory(username="david")
    ActivityFactory(owner=david)
    dav = Dav(david)
    response = dav.propfind(dav.home + "calendar/", "d:getetag", HTTP_X_FORWARDED_FOR="203.0.113.9",
                            HTTP_X_FORWARDED_PROTO="https", HTTP_X_SCRIPT_NAME="/elsewhere")
    assert response.status_code == 207
    assert b"/dav/david/calendar/" in response.content


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({"HTTP_AUTHORIZATION": "Basic !!!"}, "", 401),
    ({"HTTP_AUTHORIZATION": "Basic " + "bm9jb2xvbg=="}, "", 401),  # "nocolon"
    ({"CONTENT_LENGTH": "abc"}, "", 400),
    ({}, '<?xml version="1.0"?><a xmlns="DAV:"/>', 400),
    ({}, "<not xml", 400),
])
def test_requests_radicale_cannot_read_get_a_clear_answer(personas, headers, body, status):
    dav = Dav(personas.owner)
    kwargs = {**dav._auth(), "HTTP_DEPTH": "0", **headers}
    response = dav.client.generic("PROPFIND", dav.home, data=body, content_type="application/xml", **kwargs)
    assert response.status_code == status
    assert response.content.strip()


def test_reading_an_unchanged_collection_writes_nothing_and_costs_the_same_for_more_items(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rapport.sync.models import SyncCollection

    dav = Dav(personas.owner)
    props = ("d:getetag", "d:getcontentlength", "d:getcontenttype", "cs:getctag", "d:sync-token")

    def read() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert dav.propfind(dav.home + "calendar/", *props).status_code == 207
        assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
                    and "sync_" in q["sql"]]
        return len(queries)

    for _i in range(5):
        ActivityFactory(owner=personas.owner)
    dav.propfind(dav.home + "calendar/", *props)  # the first read records the items
    changed = SyncCollection.objects.get(user=personas.owner, name="calendar").changed_at
    few = read()
    for _i in range(25):
        ActivityFactory(owner=personas.owner)
    dav.propfind(dav.home + "calendar/", *props)
    assert read() == few
    assert SyncCollection.objects.get(user=personas.owner, name="calendar").changed_at > changed
