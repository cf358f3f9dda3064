"""Who sees which records, and who may change them (visibility and role scopes)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rapport.core.access import can, forget_access
from rapport.core.models import Role, RolePermission, Visibility
from rapport.directory import services
from rapport.directory.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def visible_names(user) -> set[str]:
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


@pytest.fixture
def records(personas):
    """One account of each visibility owned by `owner`, plus one the outsider owns privately."""
    return {
        "private": AccountFactory(name="Private", owner=personas.owner, visibility=Visibility.PRIVATE),
        "team": AccountFactory(name="Team", owner=personas.owner, visibility=Visibility.TEAM),
        "everyone": AccountFactory(name="Everyone", owner=personas.owner, visibility=Visibility.EVERYONE),
        "outsider-private": AccountFactory(name="Elsewhere", owner=personas.outsider,
                                           visibility=Visibility.PRIVATE),
    }


def test_owner_sees_all_their_own_records(personas, records):
    assert visible_names(personas.owner) == {"Private", "Team", "Everyone"}


def test_teammate_sees_team_and_everyone_but_not_private(personas, records):
    assert visible_names(personas.teammate) == {"Team", "Everyone"}


def test_read_only_teammate_sees_what_the_team_shares(personas, records):
    assert visible_names(personas.viewer) == {"Team", "Everyone"}


def test_outsider_sees_only_what_is_shared_with_everyone(personas, records):
    assert visible_names(personas.outsider) == {"Everyone", "Elsewhere"}


def test_manager_sees_the_teams_records_including_private_ones(personas, records):
    assert visible_names(personas.manager) == {"Private", "Team", "Everyone"}


def test_admin_sees_everything(personas, records):
    assert visible_names(personas.admin) == {"Private", "Team", "Everyone", "Elsewhere"}


def test_soft_deleted_records_are_hidden_even_from_admin(personas, records):
    Account.objects.filter(pk=records["everyone"].pk).update(deleted_at=timezone.now())
    assert "Everyone" not in visible_names(personas.admin)
    assert "Everyone" not in visible_names(personas.owner)


def test_anonymous_sees_nothing(records):
    from django.contrib.auth.models import AnonymousUser

    assert visible_names(AnonymousUser()) == set()


def test_inactive_user_sees_nothing(personas, records):
    personas.owner.is_active = False
    personas.owner.save()
    forget_access(personas.owner)
    assert visible_names(personas.owner) == set()


# --- Role scopes --------------------------------------------------------------------


def test_sales_may_edit_their_own_record(personas, records):
    account = records["everyone"]
    services.account_update(actor=personas.owner, account=account, data={"name": "Renamed"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "Renamed"


def test_sales_may_not_edit_a_teammates_record(personas, records):
    account = records["team"]
    with pytest.raises(PermissionDenied):
        services.account_update(actor=personas.teammate, account=account, data={"name": "Mine"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "Team"


def test_manager_may_edit_and_delete_the_teams_records(personas, records):
    account = records["private"]
    services.account_update(actor=personas.manager, account=account, data={"name": "Checked"}, version=1)
    services.account_delete(actor=personas.manager, account=account)
    assert Account.objects.get(pk=account.pk).deleted_at is not None


def test_manager_may_not_edit_another_teams_record(personas):
    account = AccountFactory(owner=personas.outsider, name="B's")
    with pytest.raises(PermissionDenied):
        services.account_update(actor=personas.manager, account=account, data={"name": "Taken"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "B's"


def test_read_only_creates_nothing(personas):
    with pytest.raises(PermissionDenied):
        services.account_create(actor=personas.viewer, data={"name": "Nope"})
    assert not Account.objects.filter(name="Nope").exists()


def test_read_only_is_refused_before_a_possible_duplicate_is_reported(personas):
    AccountFactory(owner=personas.owner, email="info@acme.test")
    with pytest.raises(PermissionDenied):
        services.account_create(actor=personas.viewer, data={"name": "Acme", "email": "info@acme.test"})


def test_marketing_may_edit_own_but_delete_nothing(personas):
    account = AccountFactory(owner=personas.marketer, name="Campaign target")
    services.account_update(actor=personas.marketer, account=account, data={"industry": "Media"}, version=1)
    with pytest.raises(PermissionDenied):
        services.account_delete(actor=personas.marketer, account=account)
    assert Account.objects.get(pk=account.pk).deleted_at is None


def test_sales_may_not_give_a_new_record_to_someone_else(personas):
    with pytest.raises(PermissionDenied):
        services.account_create(actor=personas.owner, data={"name": "Gift", "owner": personas.teammate})
    assert not Account.objects.filter(name="Gift").exists()


def test_buttons_follow_the_rights(personas, records):
    account = records["team"]
    assert can(personas.owner, "account", "update", account)
    assert not can(personas.teammate, "account", "update", account)
    assert can(personas.manager, "account", "delete", account)
    assert not can(personas.viewer, "account", "create")


# --- Several roles and overrides ------------------------------------------------------


def test_several_roles_grant_the_widest_scope(personas):
    both = UserFactory(team=personas.owner.team, role_slugs=["read-only", "sales"])
    account = AccountFactory(owner=both)
    services.account_update(actor=both, account=account, data={"name": "Allowed"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "Allowed"


def test_role_permission_overrides_one_action_on_one_record_type(personas):
    sales = Role.objects.get(slug="sales")
    RolePermission.objects.create(role=sales, record_type="account", action="delete", scope="none")
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(PermissionDenied):
        services.account_delete(actor=personas.owner, account=account)
    assert can(personas.owner, "contact", "delete")  # other record types keep the default


def test_override_can_widen_a_scope(personas):
    sales = Role.objects.get(slug="sales")
    RolePermission.objects.create(role=sales, record_type="account", action="update", scope="team")
    account = AccountFactory(owner=personas.owner, visibility=Visibility.TEAM)
    services.account_update(actor=personas.teammate, account=account, data={"name": "Team edit"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "Team edit"


def test_an_override_narrowing_one_role_does_not_borrow_its_default_for_another(personas):
    """A role that grants delete=all but overrides accounts to none, plus sales (delete own):
    the user may delete their own accounts, not everyone's."""
    wide = Role.objects.create(slug="wide", name="Wide", delete_scope="all", read_scope="all")
    RolePermission.objects.create(role=wide, record_type="account", action="delete", scope="none")
    user = UserFactory(role_slugs=["sales", "wide"])
    theirs = AccountFactory(owner=personas.owner)
    with pytest.raises(PermissionDenied):
        services.account_delete(actor=user, account=theirs)
    assert Account.objects.get(pk=theirs.pk).deleted_at is None
    services.account_delete(actor=user, account=AccountFactory(owner=user))


def test_read_scope_none_hides_the_record_type(personas, records):
    sales = Role.objects.get(slug="sales")
    RolePermission.objects.create(role=sales, record_type="account", action="read", scope="none")
    assert visible_names(personas.teammate) == set()
