"""Every list exports with its filters and its ordering honoured, from its page and from the API.

For each list: two records the filter keeps, in the order asked for, and one it leaves out (which must not
be in the file). The filters are the list's own (the export calls the list's selector), so one filter per
list is enough here; tests/exports/test_visibility.py checks who sees what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for
from tests.exports.helpers import csv_ids, xlsx_dicts
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

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)

# A scenario builds the records for `owner` and answers (query string, ids expected in order, id left out).
Scenario = Callable[[Any], tuple[str, list[str], str]]


def accounts(owner: Any) -> tuple[str, list[str], str]:
    alpha = AccountFactory(owner=owner, name="Alpha", stage="mature")
    beta = AccountFactory(owner=owner, name="Beta", stage="mature")
    gamma = AccountFactory(owner=owner, name="Gamma", stage="growing")
    return "stage=mature&ordering=-name", [beta.public_id, alpha.public_id], gamma.public_id


def contacts(owner: Any) -> tuple[str, list[str], str]:
    account = AccountFactory(owner=owner, name="Nordwind")
    adams = ContactFactory(owner=owner, account=account, last_name="Adams")
    baker = ContactFactory(owner=owner, account=account, last_name="Baker")
    other = ContactFactory(owner=owner, account=AccountFactory(owner=owner), last_name="Aaron")
    return f"account={account.public_id}&ordering=-name", [baker.public_id, adams.public_id], other.public_id


def leads(owner: Any) -> tuple[str, list[str], str]:
    ahn = LeadFactory(owner=owner, last_name="Ahn", status="qualified")
    bo = LeadFactory(owner=owner, last_name="Bo", status="qualified")
    cy = LeadFactory(owner=owner, last_name="Cy", status="new")
    return "status=qualified&ordering=-name", [bo.public_id, ahn.public_id], cy.public_id


def opportunities(owner: Any) -> tuple[str, list[str], str]:
    account = AccountFactory(owner=owner)
    small = OpportunityFactory(owner=owner, account=account, name="Deal small", amount=100)
    big = OpportunityFactory(owner=owner, account=account, name="Deal big", amount=900)
    other = OpportunityFactory(owner=owner, account=account, name="Other deal", amount=500)
    return "q=deal&ordering=-amount", [big.public_id, small.public_id], other.public_id


def orders(owner: Any) -> tuple[str, list[str], str]:
    fifty = OrderFactory(owner=owner, amount=50, status="fulfilled")
    twenty = OrderFactory(owner=owner, amount=20, status="fulfilled")
    open_order = OrderFactory(owner=owner, amount=10, status="open")
    return "status=fulfilled&ordering=amount", [twenty.public_id, fifty.public_id], open_order.public_id


def support_items(owner: Any) -> tuple[str, list[str], str]:
    first = SupportItemFactory(owner=owner, priority="high")
    second = SupportItemFactory(owner=owner, priority="high")
    normal = SupportItemFactory(owner=owner, priority="normal")
    return "priority=high&ordering=-reference", [second.public_id, first.public_id], normal.public_id


def emails(owner: Any) -> tuple[str, list[str], str]:
    early = EmailMessageFactory(owner=owner, subject="Invoice 1", received_at=NOW)
    late = EmailMessageFactory(owner=owner, subject="Your invoice 2", received_at=NOW + dt.timedelta(hours=1))
    other = EmailMessageFactory(owner=owner, subject="Hello", received_at=NOW)
    return "q=invoice&ordering=received_at", [early.public_id, late.public_id], other.public_id


def templates(owner: Any) -> tuple[str, list[str], str]:
    letter_a = TemplateFactory(owner=owner, name="A letter", kind="letter")
    letter_b = TemplateFactory(owner=owner, name="B letter", kind="letter")
    email = TemplateFactory(owner=owner, name="An email")
    return "kind=letter&ordering=-name", [letter_b.public_id, letter_a.public_id], email.public_id


def distribution_lists(owner: Any) -> tuple[str, list[str], str]:
    news_a = DistributionListFactory(owner=owner, name="News A", category="Newsletter")
    news_b = DistributionListFactory(owner=owner, name="News B", category="Newsletter")
    events = DistributionListFactory(owner=owner, name="Events", category="Events")
    return "category=Newsletter&ordering=-name", [news_b.public_id, news_a.public_id], events.public_id


def campaigns(owner: Any) -> tuple[str, list[str], str]:
    spring_b = CampaignFactory(owner=owner, name="Spring B")
    spring_a = CampaignFactory(owner=owner, name="Spring A")
    autumn = CampaignFactory(owner=owner, name="Autumn")
    return "q=spring&ordering=name", [spring_a.public_id, spring_b.public_id], autumn.public_id


def activities(owner: Any) -> tuple[str, list[str], str]:
    first = ActivityFactory(owner=owner, task=True, subject="Call back", due_on=dt.date(2027, 1, 5))
    second = ActivityFactory(owner=owner, task=True, subject="Send offer", due_on=dt.date(2027, 1, 9))
    event = ActivityFactory(owner=owner, subject="Meeting")
    return "type=task&ordering=-starts_at", [second.public_id, first.public_id], event.public_id


def expenses(owner: Any) -> tuple[str, list[str], str]:
    from tests.expenses.factories import expense

    manager = owner.team.manager
    fifty = expense(owner, amount="50.00", status="approved", decider=manager)
    twenty = expense(owner, amount="20.00", status="approved", decider=manager)
    draft = expense(owner, amount="10.00")
    return "status=approved&ordering=amount", [twenty.public_id, fifty.public_id], draft.public_id


def projects(owner: Any) -> tuple[str, list[str], str]:
    from tests.projects.factories import make_project

    later = make_project(owner, name="Later rollout", status="active", due_on=dt.date(2030, 9, 1))
    sooner = make_project(owner, name="Sooner rollout", status="active", due_on=dt.date(2030, 6, 1))
    planned = make_project(owner, name="Planned rollout", status="planned", due_on=dt.date(2030, 4, 1))
    return "status=active&ordering=due_on", [sooner.public_id, later.public_id], planned.public_id


SCENARIOS: dict[str, Scenario] = {
    "accounts": accounts, "contacts": contacts, "leads": leads, "opportunities": opportunities, "orders": orders,
    "support-items": support_items, "emails": emails, "templates": templates,
    "distribution-lists": distribution_lists, "campaigns": campaigns, "activities": activities,
    "projects": projects, "expenses": expenses,
}


def test_every_resource_has_a_scenario():
    from rapport.exports.resources import resources

    assert set(SCENARIOS) == set(resources())


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_the_page_export_keeps_the_lists_filters_and_order(personas, key):
    query, expected, left_out = SCENARIOS[key](personas.owner)
    response = client_for(personas.owner).get(f"/exports/{key}/?format=csv&{query}")
    assert response.status_code == 200, response
    ids = csv_ids(response)
    assert ids == expected
    assert left_out not in ids


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_the_api_export_keeps_the_lists_filters_and_order(personas, api_for, key):
    query, expected, left_out = SCENARIOS[key](personas.owner)
    params = dict(part.split("=", 1) for part in query.split("&"))
    response = api_for(personas.owner).get(f"{key}/export", format="xlsx", **params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ids = [row["ID"] for row in xlsx_dicts(response)]
    assert ids == expected
    assert left_out not in ids


def test_without_an_ordering_the_lists_default_order_holds(personas):
    """Orders: newest first, as their list shows them."""
    old = OrderFactory(owner=personas.owner, ordered_on=dt.date(2026, 1, 1))
    new = OrderFactory(owner=personas.owner, ordered_on=dt.date(2026, 3, 1))
    response = client_for(personas.owner).get("/exports/orders/?format=csv")
    assert csv_ids(response) == [new.public_id, old.public_id]


def test_paging_parameters_of_the_list_page_are_ignored(personas):
    """The Export link carries the page's query string: its cursor and limit do not cut the file."""
    made = [ContactFactory(owner=personas.owner, last_name=f"Person {i}") for i in range(3)]
    response = client_for(personas.owner).get("/exports/contacts/?format=csv&limit=1&cursor=xyz&part=count")
    assert sorted(csv_ids(response)) == sorted(c.public_id for c in made)


def test_attribute_filters_repeat(personas, api_for):
    from rapport.directory.services import contact_create

    owner = personas.owner
    north_gold = contact_create(actor=owner, data={"last_name": "Gold", "remarks": "region=north\ntier=gold"})
    contact_create(actor=owner, data={"last_name": "North", "remarks": "region=north"})
    response = api_for(personas.owner).get("contacts/export", attr=["region:north", "tier:gold"])
    assert csv_ids(response) == [north_gold.public_id]
