"""The "Calendar and contacts sync" settings page: what to type into a client, and app passwords per device."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from rapport.sync.models import AppPassword
from rapport.sync.services import app_password_authenticate
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory
from tests.sync.davclient import Dav

pytestmark = pytest.mark.django_db

PAGE = "/settings/sync/"
SHOWN_PASSWORD_RE = re.compile(r'id="new-password-value"[^>]*value="([^"]+)"')
ANY_PASSWORD_RE = re.compile(r"\b[a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5}\b")


def create_in_page(client: Client, device: str = "Work laptop, Outlook") -> str:
    response = client.post(PAGE, {"device": device})
    assert response.status_code == 200  # the page itself, not a redirect that would carry it in a URL
    page = response.content.decode()
    found = SHOWN_PASSWORD_RE.findall(page)
    assert len(found) == 1, "the new password is on the page"
    assert "it will not be shown again" in page
    return found[0]


def revoke_url(app_password: AppPassword) -> str:
    return f"/settings/sync/{app_password.pk}/revoke/"


# --- What to type into a client --------------------------------------------------------


def test_page_shows_the_server_address_username_and_every_collection_address(personas):
    page = client_for(personas.owner).get(PAGE).content.decode()
    assert 'id="dav-server" value="http://testserver/dav/"' in page
    assert 'id="dav-username" value="owner"' in page
    for name in ("calendar", "tasks", "contacts", "team", "company"):
        assert f'>http://testserver/dav/owner/{name}/</textarea>' in page, name
        # Every address has a label a screen reader announces.
        assert f'<label for="collection-{name}"' in page, name
    assert "Rapport: my calendar" in page and "Rapport: team Team A" in page
    # The team and the company calendars are read only; the user's own three are not.
    assert page.count('<span class="badge closed">read only</span>') == 2
    # The set-up steps for each of the four kinds of client.
    for client_name in ("CalDav Synchronizer", "Generic CalDAV/CardDAV", "Thunderbird", "On the Network",
                        "CalDAV account", "CardDAV account", "DAVx⁵", "Login with URL and user name"):
        assert client_name in page, client_name


def test_server_address_follows_how_the_site_was_reached(personas):
    page = client_for(personas.admin).get(PAGE, secure=True).content.decode()
    assert 'id="dav-server" value="https://testserver/dav/"' in page
    # No team: no team calendar.
    assert "/dav/admin/team/" not in page and '>https://testserver/dav/admin/company/</textarea>' in page


def test_settings_index_links_to_the_sync_page(personas):
    page = client_for(personas.viewer).get("/settings/").content.decode()
    assert f'href="{PAGE}"' in page


def test_anonymous_is_sent_to_the_login_page_and_nothing_changes(personas):
    app_password = AppPassword.objects.create(user=personas.owner, device="Phone", key_hash="0" * 64)
    anonymous = client_for(None)
    for response in (anonymous.get(PAGE), anonymous.post(PAGE, {"device": "Phone"}),
                     anonymous.post(revoke_url(app_password))):
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert AppPassword.objects.count() == 1
    app_password.refresh_from_db()
    assert app_password.revoked_at is None


# --- Creating an app password ------------------------------------------------------------


def test_new_app_password_is_shown_once_and_only_its_hash_is_kept(personas):
    client = client_for(personas.owner)
    plaintext = create_in_page(client, "Phone")

    app_password = AppPassword.objects.get(user=personas.owner)
    assert app_password.device == "Phone"
    bare = plaintext.replace("-", "")
    assert bare not in app_password.key_hash and plaintext not in app_password.key_hash
    assert app_password_authenticate(username="owner", password=plaintext) == personas.owner

    page = client.get(PAGE).content.decode()
    assert plaintext not in page and not ANY_PASSWORD_RE.search(page)
    assert "Phone" in page and "Active" in page
    # A second one is shown; the first is not shown with it.
    second_page = client.post(PAGE, {"device": "Tablet"}).content.decode()
    assert plaintext not in second_page and len(SHOWN_PASSWORD_RE.findall(second_page)) == 1


def test_the_page_showing_a_password_is_never_cached(personas):
    response = client_for(personas.owner).post(PAGE, {"device": "Phone"})
    assert "no-store" in response["Cache-Control"]


def test_a_device_name_missing_or_too_long_is_shown_beside_the_field(personas):
    client = client_for(personas.owner)
    for device, message in (("", "Name the device"), ("   ", "Name the device"),
                            ("x" * 101, "at most 100 characters")):
        response = client.post(PAGE, {"device": device})
        assert response.status_code == 400, device
        page = response.content.decode()
        error = re.search(r'<div class="error" id="id_device_error">(.*?)</div>', page, re.S)
        assert error and message in error.group(1), device
        assert not SHOWN_PASSWORD_RE.search(page)
    assert not AppPassword.objects.exists()
    # The longest name allowed is taken.
    create_in_page(client, "x" * 100)


def test_the_list_holds_only_your_own_app_passwords(personas):
    create_in_page(client_for(personas.teammate), "Teammate's secret phone")
    page = client_for(personas.owner).get(PAGE).content.decode()
    assert "secret phone" not in page
    assert "You have no app passwords yet." in page


# --- Revoking -----------------------------------------------------------------------------


def test_revoking_stops_the_device_from_signing_in_and_keeps_the_others(personas):
    client = client_for(personas.owner)
    lost = create_in_page(client, "Lost phone")
    kept = create_in_page(client, "Laptop")
    app_password = AppPassword.objects.get(device="Lost phone")

    response = client.post(revoke_url(app_password))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert app_password_authenticate(username="owner", password=lost) is None
    assert app_password_authenticate(username="owner", password=kept) == personas.owner

    page = client.get(PAGE).content.decode()
    assert "“Lost phone” was revoked" in page
    assert "Revoked" in page
    assert f'action="{revoke_url(app_password)}"' not in page
    # Revoking again changes nothing and is no error.
    revoked_at = AppPassword.objects.get(pk=app_password.pk).revoked_at
    assert client.post(revoke_url(app_password)).status_code == 302
    assert AppPassword.objects.get(pk=app_password.pk).revoked_at == revoked_at


def test_nobody_revokes_someone_elses_app_password(personas):
    plaintext = create_in_page(client_for(personas.owner), "Phone")
    app_password = AppPassword.objects.get(user=personas.owner)
    for other in (personas.teammate, personas.manager, personas.admin):
        assert client_for(other).post(revoke_url(app_password)).status_code == 404
    app_password.refresh_from_db()
    assert app_password.revoked_at is None
    assert app_password_authenticate(username="owner", password=plaintext) == personas.owner


def test_revoke_answers_405_to_get_and_404_to_an_unknown_id(personas):
    client = client_for(personas.owner)
    create_in_page(client)
    app_password = AppPassword.objects.get(user=personas.owner)
    assert client.get(revoke_url(app_password)).status_code == 405
    assert client.post("/settings/sync/999999/revoke/").status_code == 404
    app_password.refresh_from_db()
    assert app_password.revoked_at is None


def test_a_username_with_an_at_sign_gets_working_addresses(db):
    user = UserFactory(username="ann.lee@example.com")
    page = client_for(user).get(PAGE).content.decode()
    assert '>http://testserver/dav/ann.lee@example.com/calendar/</textarea>' in page


# --- What a client does with it ------------------------------------------------------------


def test_a_client_signs_in_with_the_page_password_at_the_page_addresses_until_revoked(personas):
    client = client_for(personas.owner)
    page = client.get(PAGE).content.decode()
    addresses = re.findall(r'class="sync-address"[^>]*>http://testserver(/dav/[^<]+)</textarea>', page)
    assert len(addresses) == 5
    plaintext = create_in_page(client, "Phone")

    dav = Dav(personas.owner, plaintext)
    for path in addresses:
        assert dav.propfind(path, "d:displayname", depth="0").status_code == 207, path
    assert dav.propfind("/dav/", "d:current-user-principal", depth="0").status_code == 207

    client.post(revoke_url(AppPassword.objects.get(user=personas.owner)))
    assert dav.propfind(addresses[0], "d:displayname", depth="0").status_code == 401
    # The sign-in password is no app password.
    assert Dav(personas.owner, PASSWORD).propfind("/dav/", depth="0").status_code == 401
