"""Settings pages every signed-in user has: the index, profile, password and personal API tokens."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from rapport.core.models import ApiToken, User
from tests.conftest import client_for, sign_in, signed_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r"rap_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
PERSONAL_PAGES = ["/settings/", "/settings/profile/", "/settings/password/", "/settings/tokens/"]
ADMIN_LINKS = ["/settings/users/", "/settings/teams/", "/settings/roles/"]


def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


# --- Index --------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_every_settings_page(personas):
    client = client_for(None)
    for url in PERSONAL_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


def test_index_links_to_personal_pages_and_only_admins_see_administration(personas):
    page = client_for(personas.owner).get("/settings/").content.decode()
    for url in PERSONAL_PAGES[1:]:
        assert f'href="{url}"' in page
    for url in ADMIN_LINKS:
        assert f'href="{url}"' not in page

    admin_page = client_for(personas.admin).get("/settings/").content.decode()
    for url in ADMIN_LINKS:
        assert f'href="{url}"' in admin_page


def test_every_personal_page_opens_for_every_persona(personas):
    for name, user in personas.all().items():
        client = client_for(user)
        for url in PERSONAL_PAGES:
            assert client.get(url).status_code == 200, (name, url)


# --- Profile ------------------------------------------------------------------------


def test_profile_change_is_saved_and_times_follow_the_new_time_zone(personas):
    user = personas.owner
    client = client_for(user)
    response = client.post("/settings/profile/", {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "time_zone": "Asia/Tokyo",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email, user.time_zone) == (
        "Ada", "Lovelace", "ada@example.com", "Asia/Tokyo")
    assert client.get("/api/v1/me").json()["time_zone"] == "Asia/Tokyo"
    assert "Your profile was saved." in client.get("/settings/profile/").content.decode()

    # A time stored in UTC is shown in Tokyo time (UTC+9) on the tokens page.
    client.post("/settings/tokens/", {"name": "clock"})
    ApiToken.objects.filter(user=user).update(created_at=dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC))
    page = client.get("/settings/tokens/").content.decode()
    assert 'datetime="2024-01-01T21:00:00+09:00"' in page


def test_the_signature_set_on_the_profile_is_what_templates_insert(personas):
    from rapport.templating.merge import merge_values, render

    user = personas.owner
    response = client_for(user).post("/settings/profile/", {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "time_zone": "UTC",
        "signature": "Ada Lovelace\nAnalytical Engines Ltd",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert render("Regards,\n{{ user.signature }}", merge_values(user=user)) == (
        "Regards,\nAda Lovelace\nAnalytical Engines Ltd")


def test_profile_bad_input_names_each_field_and_stores_nothing(personas):
    user = personas.owner
    client = client_for(user)
    before = User.objects.filter(pk=user.pk).values().get()
    response = client.post("/settings/profile/", {
        "first_name": "x" * 151, "last_name": "Tester", "email": "not-an-email", "time_zone": "Mars/Olympus_Mons",
    })
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"first_name", "email", "time_zone"}
    assert "Mars/Olympus_Mons is not a known time zone." in errors["time_zone"]
    page = response.content.decode()
    for name in ("first_name", "email", "time_zone"):
        assert f'id="id_{name}_error"' in page
    assert User.objects.filter(pk=user.pk).values().get() == before


def test_profile_shows_html_in_names_escaped(personas):
    client = client_for(personas.owner)
    client.post("/settings/profile/", {"first_name": "<script>alert(1)</script>", "last_name": "X",
                                       "email": "", "time_zone": "UTC"})
    page = client.get("/settings/profile/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_profile_cannot_change_username_or_rights(personas):
    user = personas.owner
    client_for(user).post("/settings/profile/", {
        "first_name": "A", "last_name": "B", "email": "a@example.com", "time_zone": "UTC",
        "username": "boss", "is_superuser": "on", "is_staff": "on", "roles": "admin",
    })
    user.refresh_from_db()
    assert user.username == "owner"
    assert not user.is_superuser and not user.is_staff
    assert list(user.roles.values_list("slug", flat=True)) == ["sales"]


# --- Password -----------------------------------------------------------------------


def test_password_change_keeps_the_session_and_the_new_password_signs_in(personas):
    user = personas.owner
    client = sign_in(user.username, PASSWORD)
    assert signed_in(client)
    response = client.post("/settings/password/", {
        "old_password": PASSWORD, "new_password1": "a new and long pass phrase", "new_password2":
        "a new and long pass phrase",
    })
    assert response.status_code == 302
    assert signed_in(client), "the session that changed the password stays signed in"
    assert signed_in(sign_in(user.username, "a new and long pass phrase"))
    assert not signed_in(sign_in(user.username, PASSWORD))


def test_password_change_signs_out_other_sessions(personas):
    user = personas.owner
    other = sign_in(user.username, PASSWORD)
    assert signed_in(other)
    client = sign_in(user.username, PASSWORD)
    client.post("/settings/password/", {
        "old_password": PASSWORD, "new_password1": "another long pass phrase",
        "new_password2": "another long pass phrase",
    })
    assert not signed_in(other)


@pytest.mark.parametrize(("data", "field"), [
    ({"old_password": "wrong password", "new_password1": "a new and long pass phrase",
      "new_password2": "a new and long pass phrase"}, "old_password"),
    ({"old_password": PASSWORD, "new_password1": "a new and long pass phrase",
      "new_password2": "a different long pass phrase"}, "new_password2"),
    ({"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"}, "new_password2"),
    ({"old_password": PASSWORD, "new_password1": "12345678901", "new_password2": "12345678901"}, "new_password2"),
])
def test_password_change_refuses_bad_input_and_keeps_the_old_password(personas, data, field):
    user = personas.owner
    response = client_for(user).post("/settings/password/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- API tokens ---------------------------------------------------------------------


def create_token_in_page(client: Client, name: str = "laptop script") -> str:
    response = client.post("/settings/tokens/", {"name": name})
    assert response.status_code == 200
    found = TOKEN_RE.findall(response.content.decode())
    assert len(set(found)) == 1, "the new token is on the page"
    return found[0]


def test_token_created_in_page_works_until_revoked(personas):
    user = personas.owner
    client = client_for(user)
    plaintext = create_token_in_page(client)

    api = Client()
    me = api.get("/api/v1/me", headers=bearer(plaintext))
    assert me.status_code == 200
    assert me.json()["username"] == user.username

    token = ApiToken.objects.get(user=user)
    assert token.name == "laptop script"
    assert plaintext.startswith(f"rap_{token.prefix}_")
    assert token.key_hash != plaintext and plaintext not in token.key_hash

    page = client.get("/settings/tokens/").content.decode()
    assert "laptop script" in page and "Active" in page
    token.refresh_from_db()
    assert token.last_used_at is not None

    response = client.post(f"/settings/tokens/{token.prefix}/revoke/")
    assert response.status_code == 302
    assert api.get("/api/v1/me", headers=bearer(plaintext)).status_code == 401
    page = client.get("/settings/tokens/").content.decode()
    assert "Revoked" in page
    assert f'action="/settings/tokens/{token.prefix}/revoke/"' not in page


def test_token_plaintext_is_shown_once_only(personas):
    client = client_for(personas.owner)
    plaintext = create_token_in_page(client)
    assert plaintext not in client.get("/settings/tokens/").content.decode()
    assert not TOKEN_RE.search(client.get("/settings/tokens/").content.decode())
    # A second token is shown, the first is not shown again.
    second = create_token_in_page(client, "second")
    assert second != plaintext
    assert plaintext not in client.post("/settings/tokens/", {"name": "third"}).content.decode()


def test_token_page_is_never_cached(personas):
    response = client_for(personas.owner).post("/settings/tokens/", {"name": "x"})
    assert "no-store" in response["Cache-Control"]


def test_tokens_page_lists_only_your_own_tokens(personas):
    create_token_in_page(client_for(personas.teammate), "teammate's secret tool")
    page = client_for(personas.owner).get("/settings/tokens/").content.decode()
    assert "teammate&#x27;s secret tool" not in page and "teammate's secret tool" not in page


def test_nobody_revokes_someone_elses_token_from_their_tokens_page(personas):
    plaintext = create_token_in_page(client_for(personas.owner))
    token = ApiToken.objects.get(user=personas.owner)
    for other in (personas.teammate, personas.manager, personas.admin):
        response = client_for(other).post(f"/settings/tokens/{token.prefix}/revoke/")
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get("/api/v1/me", headers=bearer(plaintext)).status_code == 200


def test_revoke_answers_405_to_get_and_404_to_an_unknown_token(personas):
    client = client_for(personas.owner)
    create_token_in_page(client)
    token = ApiToken.objects.get(user=personas.owner)
    assert client.get(f"/settings/tokens/{token.prefix}/revoke/").status_code == 405
    assert client.post("/settings/tokens/000000000000/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("name", ["", "   ", "n" * 101])
def test_token_bad_name_names_the_field_and_creates_nothing(personas, name):
    response = client_for(personas.owner).post("/settings/tokens/", {"name": name})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert 'id="id_name_error"' in response.content.decode()
    assert not TOKEN_RE.search(response.content.decode())
    assert not ApiToken.objects.exists()


def test_a_deactivated_users_token_stops_working(personas):
    user = UserFactory(username="leaver")
    plaintext = create_token_in_page(client_for(user))
    assert Client().get("/api/v1/me", headers=bearer(plaintext)).status_code == 200
    user.is_active = False
    user.save()
    assert Client().get("/api/v1/me", headers=bearer(plaintext)).status_code == 401
