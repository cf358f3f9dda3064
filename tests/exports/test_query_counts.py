"""Pinned query counts of the exports: the same for 3 rows of each list as for 15 (no query per row, per
address, per linked record or per filed record), and each row type with what its columns read.

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.directory.models import Address
from rapport.mail.services import email_file
from tests.conftest import client_for
from tests.exports.helpers import body
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


def _contact(owner: Any, i: int) -> Any:
    contact = ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    Address.objects.create(contact=contact, city=f"City {i}")
    return contact


def _account(owner: Any, i: int) -> Any:
    account = AccountFactory(owner=owner, parent=AccountFactory(owner=owner))
    Address.objects.create(account=account, city=f"City {i}")
    return account


def _email(owner: Any, i: int) -> Any:
    email = EmailMessageFactory(owner=owner, received_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i))
    account = AccountFactory(owner=owner)
    email_file(actor=owner, email=email, records=[account, ContactFactory(owner=owner, account=account)])
    return email


def _activity(owner: Any, i: int) -> Any:
    account = AccountFactory(owner=owner)
    return ActivityFactory(owner=owner, regarding=[account], attendees=[ContactFactory(owner=owner, account=account)],
                           assignees=[owner])


MAKERS: dict[str, Callable[[Any, int], Any]] = {
    "accounts": _account,
    "contacts": _contact,
    "leads": lambda owner, i: LeadFactory(owner=owner, account=AccountFactory(owner=owner),
                                          contact=ContactFactory(owner=owner)),
    "opportunities": lambda owner, i: OpportunityFactory(owner=owner, account=AccountFactory(owner=owner)),
    "orders": lambda owner, i: OrderFactory(owner=owner, account=AccountFactory(owner=owner),
                                            opportunity=OpportunityFactory(owner=owner)),
    "support-items": lambda owner, i: SupportItemFactory(owner=owner, account=AccountFactory(owner=owner),
                                                         contact=ContactFactory(owner=owner), assignee=owner),
    "emails": _email,
    "templates": lambda owner, i: TemplateFactory(owner=owner),
    "distribution-lists": lambda owner, i: DistributionListFactory(owner=owner),
    "campaigns": lambda owner, i: CampaignFactory(owner=owner),
    "activities": _activity,
}

# PostgreSQL: the cursor planned for every row, set and put back (2; exports.selectors._planned_for_every_row).
PLANNER = 2 if connection.vendor == "postgresql" else 0
# Session + user (2), rights (1), the capped count (1), then the rows with what they name of related
# records and their owners' names (1, one joined query), and what a batch reads from other tables:
BASE = 5 + PLANNER
QUERIES: dict[str, int] = {
    "accounts": BASE,  # the first address in the rows' query
    "contacts": BASE,
    "leads": BASE,
    "opportunities": BASE,
    "orders": BASE,
    "support-items": BASE,
    # + the messages with their activities (1), links (1) and attendees (1), the records filed to (contacts,
    # accounts: 2)
    "emails": BASE + 5,
    "templates": BASE,
    "distribution-lists": BASE,
    "campaigns": BASE,
    # + the activities (1), links (1), attendees (1), assignments (1) with their users (1), the linked
    # records (contacts, accounts: 2)
    "activities": BASE + 7,
}


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        body(client.get(url))
    return len(queries)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("key", list(MAKERS))
def test_an_export_costs_the_same_for_3_rows_as_for_15(personas, key, fmt):
    owner = personas.owner
    client = client_for(owner)
    url = f"/exports/{key}/?format={fmt}"
    for i in range(3):
        MAKERS[key](owner, i)
    few = _count(client, url)
    for i in range(3, 15):
        MAKERS[key](owner, i)
    many = _count(client, url)
    assert few == many, f"{key}: {few} queries for 3 rows, {many} for 15"
    assert many == QUERIES[key], f"{key}: {many} queries"


def test_a_vcard_export_costs_the_same_for_3_rows_as_for_15(personas):
    """+ every address of the batch's contacts (1)."""
    owner = personas.owner
    client = client_for(owner)
    for i in range(3):
        _contact(owner, i)
    few = _count(client, "/exports/contacts/?format=vcf")
    for i in range(3, 15):
        _contact(owner, i)
    assert few == _count(client, "/exports/contacts/?format=vcf") == QUERIES["contacts"] + 1


def test_rows_are_read_in_batches(personas, monkeypatch):
    """Past CHUNK_SIZE rows, a batch costs its own few queries: the rows stream, one batch in memory.
    (Emails: the messages and what they are filed to, per batch.)"""
    from rapport.exports import selectors

    owner = personas.owner
    for i in range(7):
        _email(owner, i)
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 3)
    client = client_for(owner)
    # 7 rows in batches of 3: 3 batches, each with its 5 queries (the rows are one query, read by one cursor:
    # fetchmany on SQLite, a server-side cursor on PostgreSQL).
    assert _count(client, "/exports/emails/?format=csv") == BASE + 3 * 5


def _planner_setting() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return cursor.fetchone()[0]


def test_the_planner_setting_is_put_back_as_soon_as_the_rows_are_opened(personas, monkeypatch):
    """A list page after an export on the same connection wants its first rows fast again, even while the
    export is still being sent, or when its download is abandoned half-way."""
    from rapport.exports import selectors

    monkeypatch.setattr(selectors, "CHUNK_SIZE", 2)
    client = client_for(personas.owner)
    for i in range(5):
        _contact(personas.owner, i)
    before = _planner_setting()
    body(client.get("/exports/contacts/?format=csv&ordering=-updated_at"))
    assert _planner_setting() == before
    response = client.get("/exports/contacts/?format=csv&ordering=-updated_at")
    first = next(iter(response.streaming_content))
    assert first and _planner_setting() == before
    response.close()


def test_the_api_export_costs_as_the_page(personas, api_for):
    """Token with its user (1), its last use (1), rights (1), the capped count (1), the rows (1), and on
    PostgreSQL the cursor's planner setting (2)."""
    owner = personas.owner
    api = api_for(owner)
    for i in range(5):
        _contact(owner, i)
    with CaptureQueriesContext(connection) as queries:
        body(api.get("contacts/export", format="csv"))
    assert len(queries) == 5 + PLANNER, [q["sql"][:80] for q in queries.captured_queries]
