"""Pinned query counts of global search: the results page, the suggestions and the API cost the same for
2 matching records of every type as for 12 (no query per result, per type's linked record or per note).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.core.models import Visibility
from tests.conftest import ApiClient, client_for
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EmailMessageFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    OrderFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db

# The search itself: the typo dictionary (1, for a word of four letters or more), the index (1, every type
# at once; on PostgreSQL wrapped in "SET LOCAL" to read the GIN index, and its RESET inside the test's
# transaction: 2), then per type with matches its records through visible_to (9), and the records the
# notes are about (1 per type of record they are about: 1 here).
POSTGRES = 2 if connection.vendor == "postgresql" else 0
SEARCH = 1 + 1 + POSTGRES + 9 + 1
# Pages: session + user (2), rights (1); a full page also draws the top bar's badges (support requests
# awaiting the user, their pending email: 1, counted together).
PAGES = {
    "results": ("/search/?q=orchid", 2 + 1 + 1 + SEARCH),
    "one_type": ("/search/?q=orchid&types=contact", 2 + 1 + 1 + 1 + 1 + POSTGRES + 1),
    "suggestions": ("/search/suggest/?q=orchid", 2 + 1 + SEARCH),
}
# Token (1), rights (1).
API = {"search": ("search?q=orchid", 2 + SEARCH)}


def _records(owner, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        account = AccountFactory(name=f"Orchid Farm {i}", owner=owner)
        ContactFactory(first_name="Orchid", last_name=f"Grower{i}", owner=owner, account=account)
        LeadFactory(company=f"Orchid Lead {i}", owner=owner)
        OpportunityFactory(name=f"Orchid deal {i}", owner=owner, account=account)
        OrderFactory(number=f"ORC-{i}", description="Orchid pots", owner=owner, account=account)
        SupportItemFactory(subject=f"Orchid wilted {i}", owner=owner, account=account)
        ActivityFactory(subject=f"Water the orchids {i}", owner=owner)
        NoteFactory(owner=owner, about=account, body=f"Orchid note {i}")
        EmailMessageFactory(subject=f"Orchid invoice {i}", owner=owner, visibility=Visibility.EVERYONE)


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content[:500]
    return len(queries)


@pytest.mark.parametrize("name", list(PAGES))
def test_pages(personas, name):
    url, expected = PAGES[name]
    client = client_for(personas.owner)
    _records(personas.owner, 2)
    client.get(url)
    few = _count(lambda: client.get(url))
    _records(personas.owner, 10, start=2)
    many = _count(lambda: client.get(url))
    assert (few, many) == (expected, expected)


@pytest.mark.parametrize("name", list(API))
def test_api(personas, name):
    url, expected = API[name]
    api = ApiClient(personas.owner)
    _records(personas.owner, 2)
    api.get(url)
    few = _count(lambda: api.get(url))
    _records(personas.owner, 10, start=2)
    many = _count(lambda: api.get(url))
    assert (few, many) == (expected, expected)
