"""The services behind the Settings pages, called as another surface (API, CLI, job) would call them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.core import services
from rapport.core.models import ApiToken, Role, RolePermission, Team, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def roles(*slugs: str) -> list[Role]:
    return list(Role.objects.filter(slug__in=slugs))


def test_only_admins_write_users_teams_and_roles(personas):
    for actor in (personas.owner, personas.manager, personas.viewer):
        with pytest.raises(PermissionDenied):
            services.user_save(actor=actor, user=actor, data={"username": actor.username}, roles=roles("admin"))
        with pytest.raises(PermissionDenied):
            services.team_save(actor=actor, team=None, name="Mine", manager=actor, members=[actor])
        with pytest.raises(PermissionDenied):
            services.role_save(actor=actor, role=Role.objects.get(slug="sales"), data={"is_admin": True},
                               overrides={})
    assert not Role.objects.get(slug="sales").is_admin
    assert not Team.objects.filter(name="Mine").exists()
    assert not personas.owner.roles.filter(slug="admin").exists()


@pytest.mark.parametrize("field", ["is_superuser", "is_staff", "password", "public_id", "date_joined"])
def test_user_save_refuses_fields_it_may_not_set(personas, field):
    with pytest.raises(ValidationError) as caught:
        services.user_save(actor=personas.admin, user=personas.owner,
                           data={"username": "owner", field: True}, roles=roles("sales"))
    assert field in caught.value.message_dict
    personas.owner.refresh_from_db()
    assert not personas.owner.is_superuser and not personas.owner.is_staff


def test_profile_update_refuses_username_and_rights(personas):
    for field in ("username", "is_active", "team", "is_superuser"):
        with pytest.raises(ValidationError) as caught:
            services.user_profile_update(user=personas.owner, data={field: "x"})
        assert field in caught.value.message_dict


def test_profile_update_does_not_touch_the_callers_object_on_bad_input(personas):
    user = personas.owner
    with pytest.raises(ValidationError):
        services.user_profile_update(user=user, data={"time_zone": "Nowhere/Land", "first_name": "Changed"})
    assert user.first_name != "Changed"
    user.refresh_from_db()
    assert user.time_zone == "UTC"


def test_user_save_validates_the_password_against_the_users_own_details(personas):
    with pytest.raises(ValidationError) as caught:
        services.user_save(actor=personas.admin, user=None,
                           data={"username": "margaret", "first_name": "Margaret", "time_zone": "UTC"},
                           roles=[], password="margaret1")
    assert "password" in caught.value.message_dict
    assert not User.objects.filter(username="margaret").exists()


def test_user_password_change_sets_a_valid_password_only(personas):
    user = personas.owner
    with pytest.raises(ValidationError) as caught:
        services.user_password_change(user=user, password="123")
    assert "password" in caught.value.message_dict
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    services.user_password_change(user=user, password="a perfectly fine phrase")
    user.refresh_from_db()
    assert user.check_password("a perfectly fine phrase")


def test_team_save_moves_members_between_teams(personas):
    team_b = Team.objects.get(name="Team B")
    services.team_save(actor=personas.admin, team=team_b, name="Team B", manager=None,
                       members=[personas.outsider, personas.owner])
    personas.owner.refresh_from_db()
    assert personas.owner.team == team_b


def test_role_save_refuses_unknown_record_types_actions_and_scopes(personas):
    sales = Role.objects.get(slug="sales")
    for key, scope in ((("spaceship", "update"), "all"), (("contact", "fly"), "all"),
                       (("contact", "update"), "galaxy")):
        with pytest.raises(ValidationError) as caught:
            services.role_save(actor=personas.admin, role=sales, data={}, overrides={key: scope})
        assert "overrides" in caught.value.message_dict
    assert not RolePermission.objects.filter(role=sales).exists()


def test_role_save_keeps_an_override_equal_to_the_default(personas):
    sales = Role.objects.get(slug="sales")
    services.role_save(actor=personas.admin, role=sales, data={}, overrides={("contact", "update"): "own"})
    assert list(sales.permissions.values_list("record_type", "action", "scope")) == [("contact", "update", "own")]


def test_a_superuser_may_turn_off_the_admin_role(personas):
    root = UserFactory(username="root", is_superuser=True, role_slugs="admin")
    services.role_save(actor=root, role=Role.objects.get(slug="admin"), data={"is_admin": False}, overrides={})
    assert not Role.objects.get(slug="admin").is_admin


def test_token_revoke_by_prefix_is_idempotent_and_only_for_the_owner(personas):
    new = services.token_create(user=personas.owner, name="script")
    with pytest.raises(ValidationError):
        services.token_revoke(user=personas.teammate, prefix=new.token.prefix)
    first = services.token_revoke(user=personas.owner, prefix=new.token.prefix)
    second = services.token_revoke(user=personas.owner, prefix=new.token.prefix)
    assert first.revoked_at == second.revoked_at is not None
    assert services.token_authenticate(new.plaintext) is None
    assert ApiToken.objects.get(pk=new.token.pk).revoked_at is not None


def test_token_revoke_takes_exactly_one_way_to_name_the_token(personas):
    with pytest.raises(TypeError):
        services.token_revoke(user=personas.owner)
    with pytest.raises(TypeError):
        services.token_revoke(user=personas.owner, token_id=1, prefix="abc")


def test_only_a_superuser_may_change_a_superuser(personas):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(PermissionDenied):
        services.user_save(actor=personas.admin, user=root, data={"is_active": False}, roles=[],
                                password="a-new-long-password-1")
    root.refresh_from_db()
    assert root.is_active and root.check_password(PASSWORD)
