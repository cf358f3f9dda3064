"""The contacts API: CRUD, lists, filters, validation, concurrency, duplicates, visibility."""

from __future__ import annotations

import pytest

from rapport.core.models import Visibility
from rapport.directory.models import Attribute, Contact
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def snapshot(contact: Contact) -> dict:
    return Contact.objects.filter(pk=contact.pk).values().get()


def test_create_read_update_delete_restore(api, personas):
    account = AccountFactory(owner=personas.owner, name="Acme")
    created = api.post("contacts", {"first_name": "Anna", "last_name": "Berg", "account": account.public_id,
                                    "email": "Anna@Acme.test", "remarks": "lang=sv"})
    assert created.status_code == 201
    body = created.json()
    assert body["full_name"] == "Anna Berg"
    assert body["account"] == {"id": account.public_id, "name": "Acme"}
    assert body["attributes"] == {"lang": "sv"}
    contact_id = body["id"]
    changed = api.patch(f"contacts/{contact_id}", {"version": 1, "title": "CTO", "account": ""})
    assert changed.status_code == 200
    assert changed.json()["title"] == "CTO" and changed.json()["account"] is None
    assert api.delete(f"contacts/{contact_id}").status_code == 204
    assert api.get(f"contacts/{contact_id}").status_code == 404
    assert api.post(f"contacts/{contact_id}/restore").status_code == 200
    assert api.get(f"contacts/{contact_id}").json()["title"] == "CTO"


def test_list_pages_without_repeats(api, personas):
    for _ in range(8):
        ContactFactory(owner=personas.owner, last_name="Same")
    seen, cursor = [], None
    while True:
        body = api.get("contacts", limit=3, **({"cursor": cursor} if cursor else {})).json()
        assert set(body) == {"items", "next"}
        seen += [c["id"] for c in body["items"]]
        if not (cursor := body["next"]):
            break
    assert len(seen) == len(set(seen)) == 8


@pytest.fixture
def people(personas):
    acme = AccountFactory(owner=personas.owner, name="Acme")
    anna = ContactFactory(owner=personas.owner, first_name="Anna", last_name="Berg", account=acme,
                          email="anna@acme.test")
    ContactFactory(owner=personas.teammate, first_name="Bo", last_name="Bergman")
    carl = ContactFactory(owner=personas.teammate, first_name="Carl", last_name="Ek")
    Attribute.objects.create(contact=carl, key="region", value="north")
    return acme, anna


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "berg"}, {"Anna Berg", "Bo Bergman"}),
    ({"q": "Anna Berg"}, {"Anna Berg"}),
    ({"q": "Berg, Anna"}, {"Anna Berg"}),
    ({"q": "berg,"}, {"Anna Berg", "Bo Bergman"}),
    ({"q": "anna@"}, {"Anna Berg"}),
    ({"owner": "me"}, {"Anna Berg"}),
    ({"attr": "region:north"}, {"Carl Ek"}),
])
def test_filters(api, people, params, expected):
    response = api.get("contacts", **params)
    assert response.status_code == 200
    assert {c["full_name"] for c in response.json()["items"]} == expected


def test_account_filter(api, people):
    acme, _anna = people
    names = {c["full_name"] for c in api.get("contacts", account=acme.public_id).json()["items"]}
    assert names == {"Anna Berg"}


@pytest.mark.parametrize(("params", "field"), [
    ({"stage": "mature"}, "stage"),
    ({"account": "nope"}, "account"),
    ({"ordering": "email"}, "ordering"),
    ({"cursor": "abc"}, "cursor"),
])
def test_bad_query_is_400_naming_the_parameter(api, params, field):
    response = api.get("contacts", **params)
    assert response.status_code == 400
    assert field in response.json()["errors"] and response.json()["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"first_name": "A"}, "last_name"),
    ({"last_name": "x" * 101}, "last_name"),
    ({"last_name": "A", "email": "nope"}, "email"),
    ({"last_name": "A", "secondary_email": "a@"}, "secondary_email"),
    ({"last_name": "A", "title": 5}, "title"),
    ({"last_name": "A", "uid": "mine"}, "uid"),
    ({"last_name": "A", "account": "missing"}, "account"),
    ({"last_name": "A", "role": "admin"}, "role"),
])
def test_bad_body_is_422_naming_the_field_and_stores_nothing(api, body, field):
    response = api.post("contacts", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Contact.objects.exists()


def test_html_is_stored_verbatim(api):
    body = api.post("contacts", {"last_name": "<b>Bold</b>", "title": "<script>x</script>"}).json()
    assert body["last_name"] == "<b>Bold</b>" and body["title"] == "<script>x</script>"


def test_stale_version_is_409_and_changes_nothing(api, personas):
    contact = ContactFactory(owner=personas.owner)
    api.patch(f"contacts/{contact.public_id}", {"version": 1, "title": "New"})
    before = snapshot(contact)
    response = api.patch(f"contacts/{contact.public_id}", {"version": 1, "title": "Older"})
    assert response.status_code == 409 and response.json()["current_version"] == 2
    assert snapshot(contact) == before


def test_duplicate_email_is_409_unless_confirmed(api, personas):
    existing = ContactFactory(owner=personas.owner, email="anna@acme.test")
    response = api.post("contacts", {"last_name": "Berg", "email": " ANNA@acme.test "})
    assert response.status_code == 409
    assert [d["id"] for d in response.json()["duplicates"]] == [existing.public_id]
    assert Contact.objects.count() == 1
    response = api.post("contacts", {"last_name": "Berg", "email": "anna@acme.test", "confirm_duplicate": True})
    assert response.status_code == 201


def test_account_the_caller_cannot_see_is_shown_as_null(personas, api_for):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE, name="Hidden Co")
    contact = ContactFactory(owner=personas.owner, account=hidden)
    client = api_for(personas.owner)
    assert client.get(f"contacts/{contact.public_id}").json()["account"] is None
    assert client.get("contacts").json()["items"][0]["account"] is None
    assert b"Hidden Co" not in client.get("contacts").content
    assert api_for(personas.outsider).get(f"contacts/{contact.public_id}").json()["account"]["name"] == "Hidden Co"


def test_editing_a_contact_keeps_a_hidden_account_link(personas, api_for):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    contact = ContactFactory(owner=personas.owner, account=hidden)
    response = api_for(personas.owner).patch(f"contacts/{contact.public_id}", {"version": 1, "title": "Boss"})
    assert response.status_code == 200
    assert Contact.objects.get(pk=contact.pk).account_id == hidden.pk


def test_an_account_the_caller_cannot_see_cannot_be_linked(personas, api_for):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = api_for(personas.owner).post("contacts", {"last_name": "X", "account": hidden.public_id})
    assert response.status_code == 422 and "account" in response.json()["errors"]


def test_hidden_contact_is_404_and_visible_one_403(personas, api_for):
    private = ContactFactory(owner=personas.owner, visibility=Visibility.PRIVATE, last_name="Private")
    shared = ContactFactory(owner=personas.owner, visibility=Visibility.TEAM, last_name="Shared")
    client = api_for(personas.teammate)
    assert client.get(f"contacts/{private.public_id}").status_code == 404
    assert client.patch(f"contacts/{private.public_id}", {"version": 1, "title": "x"}).status_code == 404
    assert client.delete(f"contacts/{private.public_id}").status_code == 404
    assert client.patch(f"contacts/{shared.public_id}", {"version": 1, "title": "x"}).status_code == 403
    assert client.delete(f"contacts/{shared.public_id}").status_code == 403
    assert {c["last_name"] for c in client.get("contacts").json()["items"]} == {"Shared"}
    assert Contact.objects.filter(title="x").count() == 0
    assert Contact.objects.filter(deleted_at__isnull=False).count() == 0


def test_marketing_cannot_delete_its_own_contact(personas, api_for):
    contact = ContactFactory(owner=personas.marketer)
    assert api_for(personas.marketer).delete(f"contacts/{contact.public_id}").status_code == 403
    assert Contact.objects.get(pk=contact.pk).deleted_at is None
