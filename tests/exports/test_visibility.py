"""An export holds exactly what its user may see: never another user's private record, never the name of a
linked record they may not see, never a deleted one; a read-only user exports what they may read.

As the permission matrix's list checks do: for every persona a record of each persona's in each visibility
(and a deleted one), every record linked to the outsider's private account (or list and template). The
expected rows come from tests/permissions/rules.py (`sees`), never from the app's own `visible_to`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from rapport.core.models import Visibility
from tests.conftest import client_for
from tests.exports.helpers import body, csv_ids, xlsx_dicts
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignFactory,
    ContactFactory,
    DistributionListFactory,
    EmailMessageFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportItemFactory,
    TemplateFactory,
)
from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

pytestmark = pytest.mark.django_db

HIDDEN_NAME = "Outsiders-private-link"


def _deleted(record: Any) -> Any:
    type(record).objects.filter(pk=record.pk).update(deleted_at=timezone.now())
    return record


# Per resource: make(owner user, visibility, label, the outsider's private linked records) -> record.
Make = Callable[[Any, str, str, dict[str, Any]], Any]
BUILDERS: dict[str, Make] = {
    "accounts": lambda o, v, label, link: AccountFactory(owner=o, visibility=v, name=label, parent=link["account"]),
    "contacts": lambda o, v, label, link: ContactFactory(owner=o, visibility=v, last_name=label,
                                                         account=link["account"]),
    "leads": lambda o, v, label, link: LeadFactory(owner=o, visibility=v, last_name=label, account=link["account"]),
    "opportunities": lambda o, v, label, link: OpportunityFactory(owner=o, visibility=v, name=label,
                                                                  account=link["account"]),
    "orders": lambda o, v, label, link: OrderFactory(owner=o, visibility=v, number=label, account=link["account"]),
    "support-items": lambda o, v, label, link: SupportItemFactory(owner=o, visibility=v, subject=label,
                                                                  account=link["account"]),
    "emails": lambda o, v, label, link: EmailMessageFactory(owner=o, visibility=v, subject=label),
    "templates": lambda o, v, label, link: TemplateFactory(owner=o, visibility=v, name=label),
    "distribution-lists": lambda o, v, label, link: DistributionListFactory(owner=o, visibility=v, name=label),
    "campaigns": lambda o, v, label, link: CampaignFactory(owner=o, visibility=v, name=label,
                                                           distribution_list=link["list"], template=link["template"]),
    "activities": lambda o, v, label, link: ActivityFactory(owner=o, visibility=v, subject=label, actor=link["admin"],
                                                            regarding=[link["account"]], assignees=[o]),
}


# Lists whose linked record is of their own type, so in the export of those who may see it.
SAME_TYPE_LINK = {"accounts": "account", "distribution-lists": "list", "templates": "template"}


def _world(personas: Any, key: str) -> tuple[list[tuple[str, str, Any, bool]], Any]:
    outsider = personas.outsider
    link = {
        "account": AccountFactory(owner=outsider, visibility=Visibility.PRIVATE, name=HIDDEN_NAME),
        "list": DistributionListFactory(owner=outsider, visibility=Visibility.PRIVATE, name=HIDDEN_NAME),
        "template": TemplateFactory(owner=outsider, visibility=Visibility.PRIVATE, name=f"{HIDDEN_NAME} template"),
        "admin": personas.admin,
    }
    rows = []
    for persona in PERSONAS:
        owner = getattr(personas, persona)
        for visibility in VISIBILITIES:
            label = f"Rec-{persona}-{visibility}"
            rows.append((persona, visibility, BUILDERS[key](owner, visibility, label, link), False))
        gone = _deleted(BUILDERS[key](owner, Visibility.EVERYONE, f"Rec-{persona}-gone", link))
        rows.append((persona, "everyone", gone, True))
    return rows, link


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", list(BUILDERS))
def test_an_export_holds_exactly_what_the_user_may_see(personas, key, persona):
    rows, link = _world(personas, key)
    response = client_for(getattr(personas, persona)).get(f"/exports/{key}/?format=csv")
    assert response.status_code == 200
    expected = {record.public_id for owner, visibility, record, deleted in rows
                if not deleted and sees(persona, owner, visibility)}
    exported = csv_ids(response)
    if key in SAME_TYPE_LINK and sees(persona, "outsider", "private"):  # the linked record is one of the list's too
        expected.add(link[SAME_TYPE_LINK[key]].public_id)
    assert set(exported) == expected
    assert len(exported) == len(expected), "a record exported twice"
    text = body(client_for(getattr(personas, persona)).get(f"/exports/{key}/?format=csv")).decode()
    hidden = [record for owner, visibility, record, deleted in rows if deleted or not sees(persona, owner, visibility)]
    leaks = [r.public_id for r in hidden if r.public_id in text]
    if not sees(persona, "outsider", "private"):
        assert HIDDEN_NAME not in text, f"{key} as {persona} names the outsider's private record"
    assert not leaks


def test_a_read_only_user_exports_what_they_may_read(personas, api_for):
    """The viewer (read-only, team A): their team's shared records and everyone's, by page and API, never a
    private one of the owner's (their teammate)."""
    mine = ContactFactory(owner=personas.owner, visibility=Visibility.TEAM, last_name="Team contact")
    public = ContactFactory(owner=personas.outsider, visibility=Visibility.EVERYONE, last_name="Public contact")
    private = ContactFactory(owner=personas.owner, visibility=Visibility.PRIVATE, last_name="Private contact")
    other_team = ContactFactory(owner=personas.outsider, visibility=Visibility.TEAM, last_name="Other team")
    viewer = personas.viewer
    page = client_for(viewer).get("/exports/contacts/?format=csv")
    api = api_for(viewer).get("contacts/export", format="xlsx")
    assert set(csv_ids(page)) == {mine.public_id, public.public_id}
    assert {row["ID"] for row in xlsx_dicts(api)} == {mine.public_id, public.public_id}
    vcards = body(client_for(viewer).get("/exports/contacts/?format=vcf")).decode()
    assert "Team contact" in vcards and "Public contact" in vcards
    assert private.last_name not in vcards and other_team.last_name not in vcards


def test_a_filter_naming_a_hidden_record_finds_nothing_and_says_so(personas, api_for):
    """Filtering by an account the user may not see is "no such account", not the account's contacts."""
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    ContactFactory(owner=personas.outsider, visibility=Visibility.EVERYONE, account=hidden)
    response = api_for(personas.owner).get("contacts/export", account=hidden.public_id)
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["No such account."]}


def test_a_user_without_the_read_right_gets_403(personas, api_for):
    from rapport.core.models import Role, RolePermission

    role = Role.objects.create(slug="no-orders", name="No orders", read_scope="all", create_scope="none",
                               update_scope="none", delete_scope="none")
    RolePermission.objects.create(role=role, record_type="order", action="read", scope="none")
    personas.viewer.roles.set([role])
    OrderFactory(owner=personas.owner)
    assert client_for(personas.viewer).get("/exports/orders/?format=csv").status_code == 403
    assert api_for(personas.viewer).get("orders/export").status_code == 403


def test_times_are_in_the_users_time_zone(personas, api_for):
    personas.owner.time_zone = "Europe/Oslo"
    personas.owner.save()
    made = dt.datetime(2026, 7, 1, 10, 30, 15, 123456, tzinfo=dt.UTC)
    contact = ContactFactory(owner=personas.owner)
    type(contact).objects.filter(pk=contact.pk).update(created_at=made)
    for response in (client_for(personas.owner).get("/exports/contacts/?format=csv"),
                     api_for(personas.owner).get("contacts/export")):  # a token request passes no middleware zone
        from tests.exports.helpers import csv_dicts

        assert csv_dicts(response)[0]["Created"] == "2026-07-01T12:30:15+02:00"
    row = xlsx_dicts(api_for(personas.owner).get("contacts/export", format="xlsx"))[0]
    assert row["Created"] == dt.datetime(2026, 7, 1, 12, 30, 15)  # Excel has no zones: the user's local time


@pytest.mark.parametrize(("stored", "written"), [
    # Whole seconds, never rounded up (the last microsecond of a second stays in it).
    (dt.datetime(2026, 7, 1, 10, 30, 15, 999999, tzinfo=dt.UTC), "2026-07-01T12:30:15+02:00"),
    # Winter time, and the hour the clocks go back: the offset of that moment, not of today.
    (dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC), "2026-01-15T09:00:00+01:00"),
    (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), "2026-10-25T02:30:00+02:00"),
    (dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC), "2026-10-25T02:30:00+01:00"),
    # Before 1970.
    (dt.datetime(1969, 12, 31, 22, 59, 59, 500000, tzinfo=dt.UTC), "1969-12-31T23:59:59+01:00"),
])
def test_a_time_is_written_to_the_second_in_the_zone_it_had_then(personas, stored, written):
    from tests.exports.helpers import csv_dicts

    personas.owner.time_zone = "Europe/Oslo"
    personas.owner.save()
    contact = ContactFactory(owner=personas.owner)
    type(contact).objects.filter(pk=contact.pk).update(created_at=stored)
    assert csv_dicts(client_for(personas.owner).get("/exports/contacts/?format=csv"))[0]["Created"] == written
    row = xlsx_dicts(client_for(personas.owner).get("/exports/contacts/?format=xlsx"))[0]
    assert row["Created"] == dt.datetime.fromisoformat(written).replace(tzinfo=None)
