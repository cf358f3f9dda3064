"""Settings pages for administrators: users, teams and roles.

Everyone else gets 403 on them and nothing changes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from rapport.core.models import Role, RolePermission, Team, User, Visibility
from tests.conftest import client_for, sign_in, signed_in
from tests.factories import PASSWORD, AccountFactory, ContactFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual pass phrase"


def user_post(**changes: Any) -> dict[str, Any]:
    data = {"username": "newbie", "first_name": "New", "last_name": "Person", "email": "newbie@example.com",
            "team": "", "time_zone": "Europe/Berlin", "is_active": "on", "roles": ["sales"],
            "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def role_post(role: Role | None = None, **changes: Any) -> dict[str, Any]:
    """The role form as the browser would send it: the role's current values, then the changes."""
    data: dict[str, Any] = {"name": "Key accounts", "slug": "key-accounts", "description": "",
                            "create_scope": "own", "read_scope": "all", "update_scope": "own",
                            "delete_scope": "none"}
    if role is not None:
        data = {"name": role.name, "slug": role.slug, "description": role.description,
                "create_scope": role.create_scope, "read_scope": role.read_scope,
                "update_scope": role.update_scope, "delete_scope": role.delete_scope}
        if role.is_admin:
            data["is_admin"] = "on"
        for perm in role.permissions.all():
            data[f"override__{perm.record_type}__{perm.action}"] = perm.scope
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def snapshot() -> dict[str, Any]:
    """Everything the admin pages could change."""
    return {
        "users": list(User.objects.order_by("pk").values(
            "pk", "username", "first_name", "last_name", "email", "team_id", "time_zone", "is_active",
            "password", "is_superuser", "is_staff")),
        "user_roles": sorted(User.roles.through.objects.values_list("user_id", "role_id")),
        "teams": list(Team.objects.order_by("pk").values()),
        "roles": list(Role.objects.order_by("pk").values()),
        "permissions": list(RolePermission.objects.order_by("pk").values()),
    }


# --- Who may use the pages --------------------------------------------------------------


def admin_requests(personas) -> list[tuple[str, str, dict[str, Any]]]:
    owner = personas.owner
    team = Team.objects.get(name="Team A")
    return [
        ("get", "/settings/users/", {}),
        ("get", "/settings/users/new/", {}),
        ("post", "/settings/users/new/", user_post(roles=["admin"])),
        ("get", f"/settings/users/{owner.public_id}/edit/", {}),
        ("post", f"/settings/users/{owner.public_id}/edit/", user_post(username="owner", roles=["admin"])),
        ("get", "/settings/teams/", {}),
        ("get", "/settings/teams/new/", {}),
        ("post", "/settings/teams/new/", {"name": "Sneaky", "manager": owner.public_id,
                                          "members": [owner.public_id]}),
        ("get", f"/settings/teams/{team.public_id}/edit/", {}),
        ("post", f"/settings/teams/{team.public_id}/edit/", {"name": "Renamed", "manager": owner.public_id}),
        ("get", "/settings/roles/", {}),
        ("get", "/settings/roles/new/", {}),
        ("post", "/settings/roles/new/", role_post(is_admin="on")),
        ("get", "/settings/roles/sales/edit/", {}),
        ("post", "/settings/roles/sales/edit/", role_post(Role.objects.get(slug="sales"), is_admin="on")),
    ]


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "manager", "viewer", "marketer"])
def test_non_admins_get_403_on_every_admin_page_and_nothing_changes(personas, persona):
    client = client_for(getattr(personas, persona))
    requests = admin_requests(personas)
    before = snapshot()
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (persona, method, url)
    assert snapshot() == before


def test_anonymous_is_sent_to_login_from_admin_pages(personas):
    client = Client()
    before = snapshot()
    for method, url, data in admin_requests(personas):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/login/")
    assert snapshot() == before


def test_admin_opens_every_admin_page(personas):
    client = client_for(personas.admin)
    for method, url, _data in admin_requests(personas):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_a_superuser_without_roles_is_an_admin_here(personas):
    boss = UserFactory(username="root", role_slugs=[], is_superuser=True)
    boss.roles.clear()
    assert client_for(boss).get("/settings/users/").status_code == 200


def test_unknown_objects_answer_404(personas):
    client = client_for(personas.admin)
    for url in ("/settings/users/aaaaaaaaaaaaaaaa/edit/", "/settings/teams/aaaaaaaaaaaaaaaa/edit/",
                "/settings/roles/no-such-role/edit/"):
        assert client.get(url).status_code == 404, url


# --- Users ----------------------------------------------------------------------------


def test_admin_creates_a_user_with_roles_who_can_then_sign_in(personas):
    team = Team.objects.get(name="Team B")
    response = client_for(personas.admin).post("/settings/users/new/", user_post(
        team=team.public_id, roles=["sales", "marketing"]))
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.team == team
    assert user.time_zone == "Europe/Berlin"
    assert sorted(user.roles.values_list("slug", flat=True)) == ["marketing", "sales"]
    assert not user.is_superuser and not user.is_staff

    browser = sign_in("newbie", NEW_PASSWORD)
    assert signed_in(browser)
    me = browser.get("/api/v1/me").json()
    assert sorted(r["key"] for r in me["roles"]) == ["marketing", "sales"]
    assert me["team"]["name"] == "Team B"
    assert me["is_admin"] is False
    # A user without admin rights does not reach the admin pages.
    assert browser.get("/settings/users/").status_code == 403


def test_a_user_created_without_a_password_cannot_sign_in(personas):
    client_for(personas.admin).post("/settings/users/new/", user_post(password="", password_confirm=""))
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    assert not signed_in(sign_in("newbie", ""))


def test_users_list_shows_name_email_team_roles_and_state(personas, django_assert_max_num_queries):
    leaver = UserFactory(username="leaver", is_active=False, role_slugs=["support", "marketing"])
    for n in range(15):
        UserFactory(username=f"extra{n:02d}", team=Team.objects.get(name="Team B"), role_slugs=["support"])
    client = client_for(personas.admin)
    with django_assert_max_num_queries(8):
        response = client.get("/settings/users/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/settings/users/{leaver.public_id}/edit/"' in page
    assert "leaver@example.com" in page and "Inactive" in page
    assert "Team A" in page and "Team B" in page
    assert "Support" in page and "Marketing" in page and "Read-only" in page


def test_users_list_searches_and_pages_without_offset(personas):
    for n in range(60):
        UserFactory(username=f"bulk{n:02d}")
    client = client_for(personas.admin)
    first = client.get("/settings/users/")
    names = [u.username for u in first.context["users"]]
    assert len(names) == 50 and names == sorted(names)
    cursor = first.context["page"].next_cursor
    assert cursor
    second = client.get("/settings/users/", {"cursor": cursor})
    more = [u.username for u in second.context["users"]]
    assert not set(names) & set(more)
    assert len(names) + len(more) == User.objects.count()

    found = client.get("/settings/users/", {"q": "bulk0"})
    assert sorted(u.username for u in found.context["users"]) == [f"bulk0{n}" for n in range(10)]

    bad = client.get("/settings/users/", {"cursor": "garbage"})
    assert bad.status_code == 400
    assert "cursor" in bad.content.decode()


@pytest.mark.parametrize(("changes", "fields"), [
    ({"username": "OWNER"}, {"username"}),
    ({"username": "owner"}, {"username"}),
    ({"username": "has space!"}, {"username"}),
    ({"username": ""}, {"username"}),
    ({"username": "u" * 151}, {"username"}),
    ({"first_name": "f" * 151, "last_name": "l" * 151}, {"first_name", "last_name"}),
    ({"email": "not-an-email"}, {"email"}),
    ({"time_zone": "Mars/Olympus_Mons"}, {"time_zone"}),
    ({"team": "nosuchteam"}, {"team"}),
    ({"roles": ["sales", "no-such-role"]}, {"roles"}),
    ({"password": "password", "password_confirm": "password"}, {"password"}),
    ({"password": "newbie1234", "password_confirm": "newbie1234"}, {"password"}),
    ({"password": NEW_PASSWORD, "password_confirm": "something else"}, {"password_confirm"}),
])
def test_user_form_bad_input_names_the_field_and_stores_nothing(personas, changes, fields):
    client = client_for(personas.admin)
    before = snapshot()
    response = client.post("/settings/users/new/", user_post(**changes))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == fields
    page = response.content.decode()
    for name in fields:
        assert f'id="id_{name}_error"' in page
    assert snapshot() == before


def test_admin_edits_a_user_roles_team_and_password(personas):
    owner = personas.owner
    team_b = Team.objects.get(name="Team B")
    response = client_for(personas.admin).post(f"/settings/users/{owner.public_id}/edit/", user_post(
        username="owner", first_name="Olivia", team=team_b.public_id, roles=["support"]))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.first_name == "Olivia"
    assert owner.team == team_b
    assert list(owner.roles.values_list("slug", flat=True)) == ["support"]
    assert signed_in(sign_in("owner", NEW_PASSWORD))
    assert not signed_in(sign_in("owner", PASSWORD))


def test_editing_a_user_without_a_password_keeps_their_password(personas):
    owner = personas.owner
    client_for(personas.admin).post(f"/settings/users/{owner.public_id}/edit/", user_post(
        username="owner", password="", password_confirm=""))
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_user_edit_form_shows_current_values(personas):
    response = client_for(personas.admin).get(f"/settings/users/{personas.owner.public_id}/edit/")
    page = response.content.decode()
    assert 'value="owner"' in page
    assert re.search(r'<input type="checkbox" name="roles" value="sales"[^>]* checked', page)
    team_a = Team.objects.get(name="Team A")
    assert re.search(rf'<option value="{team_a.public_id}" selected>', page)


def test_a_deactivated_user_cannot_sign_in_and_is_signed_out(personas):
    owner = personas.owner
    session = sign_in("owner", PASSWORD)
    assert signed_in(session)
    response = client_for(personas.admin).post(f"/settings/users/{owner.public_id}/edit/", user_post(
        username="owner", is_active=None, password="", password_confirm=""))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active
    assert not signed_in(session)
    assert not signed_in(sign_in("owner", PASSWORD))


def test_an_admin_cannot_deactivate_themselves_or_drop_their_admin_role(personas):
    admin = personas.admin
    client = client_for(admin)
    before = snapshot()
    response = client.post(f"/settings/users/{admin.public_id}/edit/", user_post(
        username="admin", is_active=None, roles=["admin"], password="", password_confirm=""))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"is_active"}
    assert "You cannot deactivate yourself." in response.content.decode()

    response = client.post(f"/settings/users/{admin.public_id}/edit/", user_post(
        username="admin", roles=["sales"], password="", password_confirm=""))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"roles"}
    assert snapshot() == before
    assert signed_in(client)


def test_an_admin_who_changes_their_own_password_stays_signed_in(personas):
    admin = personas.admin
    client = sign_in("admin", PASSWORD)
    response = client.post(f"/settings/users/{admin.public_id}/edit/", user_post(username="admin", roles=["admin"]))
    assert response.status_code == 302
    assert signed_in(client)
    assert signed_in(sign_in("admin", NEW_PASSWORD))


def test_an_admin_may_deactivate_another_admin(personas):
    other = UserFactory(username="admin2", role_slugs="admin")
    response = client_for(personas.admin).post(f"/settings/users/{other.public_id}/edit/", user_post(
        username="admin2", is_active=None, roles=["admin"], password="", password_confirm=""))
    assert response.status_code == 302
    other.refresh_from_db()
    assert not other.is_active


def test_the_user_form_cannot_make_a_superuser_or_staff(personas):
    client_for(personas.admin).post("/settings/users/new/", user_post(is_superuser="on", is_staff="on"))
    user = User.objects.get(username="newbie")
    assert not user.is_superuser and not user.is_staff


# --- Teams ----------------------------------------------------------------------------


def test_admin_creates_a_team_with_manager_and_members(personas):
    boss = UserFactory(username="boss", role_slugs="manager")
    newcomer = UserFactory(username="newcomer")
    client = client_for(personas.admin)
    response = client.post("/settings/teams/new/", {
        "name": "Team C", "manager": boss.public_id,
        "members": [newcomer.public_id, personas.outsider.public_id],
    })
    assert response.status_code == 302
    team = Team.objects.get(name="Team C")
    assert team.manager == boss
    assert set(team.members.values_list("username", flat=True)) == {"newcomer", "outsider"}
    assert not Team.objects.get(name="Team B").members.exists(), "outsider moved from Team B"

    page = client.get("/settings/teams/").content.decode()
    assert f'href="/settings/teams/{team.public_id}/edit/"' in page
    assert boss.display_name in page


def test_joining_a_team_shares_team_records(personas):
    """What a user notices: after joining Team A, the outsider sees Team A's team-visible accounts."""
    shared = AccountFactory(owner=personas.owner, visibility=Visibility.TEAM, name="Team A only")
    outsider_client = client_for(personas.outsider)
    assert outsider_client.get(f"/accounts/{shared.public_id}/").status_code == 404

    team_a = Team.objects.get(name="Team A")
    members = [u.public_id for u in team_a.members.all()] + [personas.outsider.public_id]
    response = client_for(personas.admin).post(f"/settings/teams/{team_a.public_id}/edit/", {
        "name": "Team A", "manager": personas.manager.public_id, "members": members,
    })
    assert response.status_code == 302
    assert client_for(personas.outsider).get(f"/accounts/{shared.public_id}/").status_code == 200


def test_removing_a_member_leaves_them_without_a_team(personas):
    team_a = Team.objects.get(name="Team A")
    keep = [u.public_id for u in team_a.members.exclude(pk=personas.teammate.pk)]
    client_for(personas.admin).post(f"/settings/teams/{team_a.public_id}/edit/", {
        "name": "Team A", "manager": personas.manager.public_id, "members": keep,
    })
    personas.teammate.refresh_from_db()
    assert personas.teammate.team is None
    personas.owner.refresh_from_db()
    assert personas.owner.team == team_a


def test_team_form_shows_current_members(personas):
    team_a = Team.objects.get(name="Team A")
    page = client_for(personas.admin).get(f"/settings/teams/{team_a.public_id}/edit/").content.decode()
    checked = set(re.findall(r'<input type="checkbox" name="members" value="(\w+)"[^>]* checked', page))
    assert checked == {u.public_id for u in team_a.members.all()}
    assert re.search(rf'<option value="{personas.manager.public_id}" selected>', page)


@pytest.mark.parametrize(("data", "fields"), [
    ({"name": "team a"}, {"name"}),
    ({"name": "Team B"}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": "n" * 101}, {"name"}),
    ({"name": "Fine", "manager": "nobody"}, {"manager"}),
    ({"name": "Fine", "members": ["nobody"]}, {"members"}),
])
def test_team_form_bad_input_names_the_field_and_stores_nothing(personas, data, fields):
    before = snapshot()
    response = client_for(personas.admin).post("/settings/teams/new/", data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == fields
    for name in fields:
        assert f'id="id_{name}_error"' in response.content.decode()
    assert snapshot() == before


def test_renaming_a_team_to_another_teams_name_is_refused(personas):
    team_a = Team.objects.get(name="Team A")
    before = snapshot()
    response = client_for(personas.admin).post(f"/settings/teams/{team_a.public_id}/edit/", {"name": "TEAM B"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert snapshot() == before


def test_teams_list_does_not_query_per_row(personas, django_assert_max_num_queries):
    for _ in range(10):
        team = TeamFactory(manager=UserFactory())
        UserFactory(team=team)
    client = client_for(personas.admin)
    with django_assert_max_num_queries(8):
        page = client.get("/settings/teams/").content.decode()
    assert page.count('href="/settings/teams/') >= 12


# --- Roles ----------------------------------------------------------------------------


def test_roles_list_shows_every_role_with_its_defaults(personas, django_assert_max_num_queries):
    client = client_for(personas.admin)
    with django_assert_max_num_queries(8):
        response = client.get("/settings/roles/")
    page = response.content.decode()
    for role in Role.objects.all():
        assert f'href="/settings/roles/{role.slug}/edit/"' in page
        assert role.name in page


def test_admin_creates_a_role_with_overrides_and_edits_it(personas):
    client = client_for(personas.admin)
    response = client.post("/settings/roles/new/", role_post(**{
        "description": "Big customers", "override__account__delete": "own",
        "override__contact__update": "none", "override__contact__read": "all",
    }))
    assert response.status_code == 302
    role = Role.objects.get(slug="key-accounts")
    assert (role.name, role.description, role.create_scope, role.delete_scope) == (
        "Key accounts", "Big customers", "own", "none")
    assert {(p.record_type, p.action, p.scope) for p in role.permissions.all()} == {
        ("account", "delete", "own"), ("contact", "update", "none"), ("contact", "read", "all")}

    # The matrix shows what was chosen, including an explicit choice equal to the default.
    form = client.get("/settings/roles/key-accounts/edit/").context["form"]
    assert form["override__contact__read"].value() == "all"
    assert form["override__account__delete"].value() == "own"
    assert form["override__account__create"].value() == ""

    # Back to "Default" removes the override.
    response = client.post("/settings/roles/key-accounts/edit/", role_post(role, **{
        "override__contact__read": "", "override__contact__update": "", "override__account__delete": "",
    }))
    assert response.status_code == 302
    assert not role.permissions.exists()


@pytest.mark.parametrize(("changes", "fields"), [
    ({"slug": "SALES"}, {"slug"}),
    ({"slug": "sales"}, {"slug"}),
    ({"slug": "not a slug!"}, {"slug"}),
    ({"slug": "s" * 51}, {"slug"}),
    ({"name": ""}, {"name"}),
    ({"name": "n" * 101}, {"name"}),
    ({"description": "d" * 301}, {"description"}),
    ({"update_scope": "everything"}, {"update_scope"}),
    ({"override__contact__update": "galaxy"}, {"override__contact__update"}),
])
def test_role_form_bad_input_names_the_field_and_stores_nothing(personas, changes, fields):
    before = snapshot()
    response = client_for(personas.admin).post("/settings/roles/new/", role_post(**changes))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == fields
    assert snapshot() == before


def test_role_override_update_none_on_contacts_stops_contact_edits(personas):
    """A role with update=none on contacts: its user may edit their accounts but not their contacts."""
    client = client_for(personas.admin)
    client.post("/settings/roles/new/", role_post(slug="no-contact-edits", name="No contact edits",
                                                  update_scope="own", **{"override__contact__update": "none"}))
    user = UserFactory(username="limited", role_slugs=[])
    client.post(f"/settings/users/{user.public_id}/edit/", user_post(
        username="limited", roles=["no-contact-edits"], password="", password_confirm=""))

    contact = ContactFactory(owner=user)
    account = AccountFactory(owner=user)
    limited = client_for(user)
    assert limited.get(f"/contacts/{contact.public_id}/").status_code == 200
    assert limited.get(f"/contacts/{contact.public_id}/edit/").status_code == 403
    assert limited.get(f"/accounts/{account.public_id}/edit/").status_code == 200
    assert limited.get("/api/v1/me").json()["rights"]["contact"]["update"] == "none"

    # Setting the cell back to "Default" gives the right back.
    role = Role.objects.get(slug="no-contact-edits")
    client.post("/settings/roles/no-contact-edits/edit/", role_post(role, **{"override__contact__update": ""}))
    assert client_for(user).get(f"/contacts/{contact.public_id}/edit/").status_code == 200


def test_changing_a_default_scope_changes_what_users_may_do(personas):
    """Read-only users may not create accounts; once the role grants create=own, they may."""
    viewer = client_for(personas.viewer)
    assert viewer.get("/accounts/new/").status_code == 403
    role = Role.objects.get(slug="read-only")
    response = client_for(personas.admin).post("/settings/roles/read-only/edit/", role_post(role, create_scope="own"))
    assert response.status_code == 302
    assert client_for(personas.viewer).get("/accounts/new/").status_code == 200


def test_an_admin_cannot_take_admin_rights_from_their_only_admin_role(personas):
    role = Role.objects.get(slug="admin")
    before = snapshot()
    response = client_for(personas.admin).post("/settings/roles/admin/edit/", role_post(role, is_admin=None))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"is_admin"}
    assert snapshot() == before


def test_an_admin_with_another_admin_role_may_turn_one_off(personas):
    client = client_for(personas.admin)
    client.post("/settings/roles/new/", role_post(slug="super", name="Super", is_admin="on"))
    personas.admin.roles.add(Role.objects.get(slug="super"))
    response = client.post("/settings/roles/super/edit/", role_post(Role.objects.get(slug="super"), is_admin=None))
    assert response.status_code == 302
    assert not Role.objects.get(slug="super").is_admin
    assert client_for(personas.admin).get("/settings/roles/").status_code == 200


def test_role_keys_are_stored_lower_case(personas):
    client_for(personas.admin).post("/settings/roles/new/", role_post(slug="Key-Accounts"))
    assert Role.objects.filter(slug="key-accounts").exists()
