"""A duplicates list's cursor goes on with that list only: the accounts' cursor given to the contacts' list
(or a position of the wrong shape) is a 400 naming `cursor`, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(personas):
    for name in ("Acme", "Acme", "Bolt", "Bolt"):
        AccountFactory(name=name, owner=personas.owner)
    for company, names in (("Cobalt Works", ("Smithson", "Smithsen")), ("Delta Mills", ("Walters", "Walters"))):
        account = AccountFactory(name=company, owner=personas.owner)
        for last in names:
            ContactFactory(first_name="Jo", last_name=last, account=account, owner=personas.owner)
    return personas


def test_the_accounts_cursor_is_refused_by_the_contacts_list(lists, api_for):
    api = api_for(lists.owner)
    first = api.get("accounts/duplicates", limit=1, reason="name").json()
    assert first["items"][0]["key"] == "acme" and first["next"]
    answer = api.get("contacts/duplicates", cursor=first["next"])
    assert answer.status_code == 400, answer.content
    assert "cursor" in answer.json()["errors"]
    page = client_for(lists.owner).get("/contacts/duplicates/", {"cursor": first["next"]})
    assert page.status_code == 400
    assert "start again" in page.content.decode()


def test_the_contacts_cursor_is_refused_by_the_accounts_list(lists, api_for):
    api = api_for(lists.owner)
    first = api.get("contacts/duplicates", limit=1, reason="name").json()
    assert first["items"][0]["reason"] == "name" and first["next"]
    answer = api.get("accounts/duplicates", cursor=first["next"])
    assert answer.status_code == 400, answer.content
    assert "cursor" in answer.json()["errors"]


def test_each_list_goes_on_with_its_own_cursor(lists, api_for):
    api = api_for(lists.owner)
    for kind, keys in (("accounts", ["acme", "bolt"]), ("contacts", ["smithson jo", "walters jo"])):
        first = api.get(f"{kind}/duplicates", limit=1, reason="name").json()
        second = api.get(f"{kind}/duplicates", limit=1, reason="name", cursor=first["next"]).json()
        assert [first["items"][0]["key"], second["items"][0]["key"]] == keys
