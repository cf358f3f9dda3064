"""Pinned query counts of the duplicates list (page and API): the same for 3 groups as for 20, for groups
of 2 records as of 8 (no query per group or per record).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.directory.models import Account, Contact
from tests.conftest import ApiClient, client_for

pytestmark = pytest.mark.django_db

# Session + user (2), rights (1), the top bar's badges (1); then per reason walked: the window's bound and
# its groups (2) - for contacts' email, the other emails' matches too (1) - and the records of the groups
# (by email: one query per email field; by name: the rows walked, then the records); the "not a duplicate"
# marks (1). Every reason: each reason's queries in turn.
PAGES = {
    "contact": ("/contacts/duplicates/", 12),
    "contact email": ("/contacts/duplicates/?reason=email", 10),
    "contact name": ("/contacts/duplicates/?reason=name", 7),
    "account": ("/accounts/duplicates/", 14),
    "account website": ("/accounts/duplicates/?reason=website", 8),
}
# Token (1), rights (1), then as above.
API = {
    "contact": ("contacts/duplicates", 10),
    "contact email": ("contacts/duplicates?reason=email", 8),
    "account": ("accounts/duplicates", 12),
}


def populate(owners, groups: int, size: int) -> None:
    account = Account(name="Acme", owner=owners[0])
    account.derive()
    account.save()
    contacts, accounts = [], []
    for g in range(groups):
        for i in range(size):
            owner = owners[(g + i) % len(owners)]
            contact = Contact(first_name=f"Pat{g}", last_name="Person", email=f"g{g}@example.com", owner=owner,
                              account=account, secondary_email=f"h{g}@example.com" if i == 0 else "")
            contact.derive()
            contacts.append(contact)
            if i == 1:
                other = Contact(last_name=f"Other {g} {i}", secondary_email=f"h{g}@example.com", owner=owner)
                other.derive()
                contacts.append(other)
            company = Account(name=f"Firm {g}", website=f"https://www.firm{g}.example", email=f"info@firm{g}.example",
                              owner=owner)
            company.derive()
            accounts.append(company)
    Contact.objects.bulk_create(contacts)
    Account.objects.bulk_create(accounts)


def count(call) -> int:
    call()  # warm: content types, the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("kind", list(PAGES))
def test_duplicates_page_query_count_is_pinned(personas, kind):
    owners = [personas.owner, personas.teammate, personas.outsider]
    client = client_for(personas.owner)
    path, expected = PAGES[kind]
    populate(owners, 3, 2)
    small = count(lambda: client.get(path))
    populate(owners, 9, 8)  # 9 + 3 groups by each email field: the page (25 groups) is not full
    large = count(lambda: client.get(path))
    assert (small, large) == (expected, expected)


@pytest.mark.parametrize("kind", list(API))
def test_duplicates_api_query_count_is_pinned(personas, kind):
    owners = [personas.owner, personas.teammate, personas.outsider]
    api = ApiClient(personas.owner)
    path, expected = API[kind]
    populate(owners, 3, 2)
    small = count(lambda: api.get(path))
    populate(owners, 9, 8)  # 9 + 3 groups by each email field: the page (25 groups) is not full
    large = count(lambda: api.get(path))
    assert (small, large) == (expected, expected)
