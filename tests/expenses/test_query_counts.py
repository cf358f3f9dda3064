"""Pinned query counts of the expense pages and API: the same for two expenses as for twelve (no query per
row). If a change adds a query on purpose, update the number here and say why."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import ApiClient, client_for
from tests.expenses.factories import expense, project
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

# A page: session and user (2), rights (1), the top bar's badges (1, counted together); then its own queries.
COUNTS: dict[str, int] = {
    # + the rows (1), the owner picker (1), the categories (1)
    "page /expenses/": 7,
    "page /expenses/approvals/": 7,
    # + the groups (1), the projects' names (1), the owner picker (1), the categories (1)
    "page /expenses/totals/?by=project": 8,
    # + the expense with its links (1), its history (1), which linked project and account the reader sees (2),
    # its receipts (1)
    "page /expenses/{id}/": 9,
    # session, user, rights; the account (1), the rows (1), the totals per status and currency (1)
    "page /expenses/about/account:{account}/": 6,
    # token (1), rights (1), the rows with their links (1)
    "api expenses": 3,
    "api expenses?owner=me&status=approved": 3,
    # + the expense (1), its receipts (1)
    "api expenses/{id}": 4,
    # + the groups (1), the users' names (1)
    "api expenses/totals?by=user": 4,
}


def _world(personas, n: int) -> dict[str, str]:
    account = AccountFactory(owner=personas.owner)
    rollout = project(personas.owner, account=account)
    last = None
    for i in range(n):
        owner = personas.owner if i % 2 else personas.teammate
        last = expense(owner, amount=f"{10 + i}.00", currency="EUR" if i % 3 else "USD",
                       project=rollout if i % 2 else None, account=None if i % 2 else account,
                       status=("approved", "approved", "submitted", "rejected", "draft")[i % 5],
                       decider=personas.manager)
    return {"id": last.public_id, "account": account.public_id}


def _count(personas, key: str, ids: dict[str, str]) -> int:
    kind, path = key.split(" ", 1)
    path = path.format(**ids)
    if kind == "page":
        client = client_for(personas.manager)
        client.get("/expenses/")  # warm the session
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
    else:
        api = ApiClient(personas.manager)
        api.get("expenses")  # the token's first use is recorded once
        with CaptureQueriesContext(connection) as captured:
            response = api.get(path)
    assert response.status_code == 200, (key, response.content[:500])
    return len(captured)


@pytest.mark.parametrize("n", [2, 12])
def test_query_counts_do_not_grow_with_the_rows(personas, n):
    ids = _world(personas, n)
    found = {key: _count(personas, key, ids) for key in COUNTS}
    assert found == COUNTS
