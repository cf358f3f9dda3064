"""Pinned query counts: a list or detail page costs the same for 5 rows as for 60 (no query per row).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.core.history import history_record
from rapport.directory.models import Account, Address, Attribute, Contact
from tests.conftest import client_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

# Session + user (2), the user's rights: roles with overrides and colleagues in one query (1), then the page;
# a full page also counts, for the top bar's badges, the support requests awaiting the user's answer and
# the user's pending email (1, counted together).
# Attributes are shown from the remarks text itself, so they cost no query.
PAGES = {
    "account_list": ("/accounts/", 6),  # + rows, owner choices (the count comes in its own request)
    "contact_list": ("/contacts/", 6),  # + rows, owner choices
    "account_count": ("/accounts/?part=count", 4),  # + the capped count
    "contact_count": ("/contacts/?part=count", 4),
    "account_detail": ("/accounts/{account}/", 8),  # + account with its sub-accounts, addresses, contacts, history
    "contact_detail": ("/contacts/{contact}/", 7),  # + contact, addresses, history
}
# Token (1), rights (1), then rows with their addresses prefetched (2).
API = {
    "accounts": ("accounts", 4),
    "contacts": ("contacts", 4),
    "account": ("accounts/{account}", 4),
    "contact": ("contacts/{contact}", 4),
}


def populate(personas, parent: Account, n: int) -> None:
    """n more accounts and n more contacts of `parent`, each with an attribute and an address,
    owned by several people, some hidden from the viewer."""
    owners = [personas.owner, personas.teammate, personas.outsider]
    accounts = []
    for i in range(n):
        account = Account(name=f"Firm {Account.objects.count() + i:03d}", owner=owners[i % 3],
                          visibility="team" if i % 4 else "everyone", parent=parent)
        account.derive()
        accounts.append(account)
    accounts = Account.objects.bulk_create(accounts)
    contacts = []
    for i, account in enumerate(accounts):
        contact = Contact(last_name=f"Person {account.name}", owner=owners[i % 3], account=account if i % 2 else parent)
        contact.derive()
        contacts.append(contact)
    contacts = Contact.objects.bulk_create(contacts)
    Attribute.objects.bulk_create([Attribute(account=a, key="region", value="north") for a in accounts]
                                  + [Attribute(contact=c, key="lang", value="sv") for c in contacts])
    Address.objects.bulk_create([Address(account=a, city="Oslo") for a in accounts]
                                + [Address(contact=c, city="Bergen") for c in contacts])
    for i in range(n):  # the parent's history grows too, written by several people
        history_record(record=parent, actor=owners[i % 3], kind="updated", changes={"name": [str(i), str(i + 1)]})


def count(call) -> int:
    call()  # warm: first use of content types, token last-used stamp
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def parent(personas):
    account = AccountFactory(owner=personas.owner, name="Parent")
    Attribute.objects.create(account=account, key="tier", value="gold")
    return account


@pytest.mark.parametrize("name", list(PAGES))
def test_page_query_count_is_pinned_and_flat(personas, parent, name, django_assert_num_queries):
    url_template, expected = PAGES[name]
    client = client_for(personas.owner)
    populate(personas, parent, 5)
    contact = Contact.objects.filter(account=parent).first()
    url = url_template.format(account=parent.public_id, contact=contact.public_id)
    small = count(lambda: client.get(url))
    populate(personas, parent, 55)
    assert count(lambda: client.get(url)) == small
    with django_assert_num_queries(expected):
        client.get(url)


@pytest.mark.parametrize("name", list(API))
def test_api_query_count_is_pinned_and_flat(personas, parent, api_for, name, django_assert_num_queries):
    path_template, expected = API[name]
    client = api_for(personas.owner)
    populate(personas, parent, 5)
    contact = Contact.objects.filter(account=parent).first()
    path = path_template.format(account=parent.public_id, contact=contact.public_id)
    small = count(lambda: client.get(path))
    populate(personas, parent, 55)
    assert count(lambda: client.get(path)) == small
    with django_assert_num_queries(expected):
        client.get(path)


def test_deep_list_page_costs_what_the_first_costs(personas, parent, api_for):
    populate(personas, parent, 60)
    client = api_for(personas.owner)
    first = client.get("accounts", limit=10).json()
    with CaptureQueriesContext(connection) as queries:
        client.get("accounts", limit=10, cursor=first["next"])
    assert len(queries) == API["accounts"][1]
    assert not any("OFFSET" in q["sql"].upper() for q in queries)
