"""The people of a small support desk, shared by the support tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapport.core.models import Role, RolePermission, User
from rapport.directory.models import Account, Contact
from rapport.support import services
from rapport.support.models import SupportItem
from tests.factories import AccountFactory, ContactFactory, TeamFactory, UserFactory


@dataclass
class Desk:
    """owner, asa, bo and cy work support in the desk team, which `manager` manages; `outsider`
    works support in another team; `viewer` is read-only in the desk team; `admin` administers."""

    owner: User
    asa: User
    bo: User
    cy: User
    manager: User
    outsider: User
    viewer: User
    admin: User
    account: Account
    contact: Contact


def build_desk() -> Desk:
    manager = UserFactory(username="deskmanager", role_slugs="manager")
    team = TeamFactory(name="Support desk", manager=manager)
    other = TeamFactory(name="Other desk")
    owner = UserFactory(username="owner", first_name="Olga", last_name="Owner", team=team, role_slugs="support")
    account = AccountFactory(owner=owner, name="Acme")
    return Desk(
        owner=owner,
        asa=UserFactory(username="asa", first_name="Åsa", last_name="Ask", team=team, role_slugs="support"),
        bo=UserFactory(username="bo", first_name="Bo", last_name="Berg", team=team, role_slugs="support"),
        cy=UserFactory(username="cy", first_name="Cy", last_name="Clark", team=team, role_slugs="support"),
        manager=manager,
        outsider=UserFactory(username="outsider", team=other, role_slugs="support"),
        viewer=UserFactory(username="viewer", team=team, role_slugs="read-only"),
        admin=UserFactory(username="admin", role_slugs="admin"),
        account=account,
        contact=ContactFactory(owner=owner, account=account, email="pat@acme.example"),
    )


def no_support_user(**kwargs: Any) -> User:
    """An active user whose role reads everything except support items."""
    role = Role.objects.create(slug="no-support", name="No support", create_scope="own", read_scope="all",
                               update_scope="own", delete_scope="own")
    RolePermission.objects.create(role=role, record_type=SupportItem.record_type, action="read", scope="none")
    return UserFactory(role_slugs="no-support", **kwargs)


def open_item(desk: Desk, *, actor: User | None = None, **data: Any) -> SupportItem:
    """A new item opened through the service (owner's private copy, reference, history)."""
    data.setdefault("subject", "Printer on fire")
    data.setdefault("account", desk.account)
    return services.support_item_create(actor=actor or desk.owner, data=data)


def fresh(item: SupportItem) -> SupportItem:
    return SupportItem.objects.get(pk=item.pk)
