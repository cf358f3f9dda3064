"""The accounts API: CRUD, lists, filters, validation, concurrency, duplicates, visibility."""

from __future__ import annotations

import pytest
from django.test import Client

from rapport.core.models import HistoryEntry, Visibility
from rapport.directory.models import Account, Attribute
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def snapshot(account: Account) -> dict:
    return Account.objects.filter(pk=account.pk).values().get()


# --- CRUD -------------------------------------------------------------------------------


def test_create_read_update_delete_restore(api, personas):
    created = api.post("accounts", {"name": "Acme", "website": "acme.test", "stage": "growing",
                                    "remarks": "region=north", "addresses": [{"city": "Oslo"}]})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Acme" and body["version"] == 1
    assert body["website"] == "https://acme.test"
    assert body["owner"] == {"id": personas.owner.public_id, "name": personas.owner.display_name}
    # The stage is written into the remarks, so the two never disagree.
    assert body["attributes"] == {"region": "north", "stage": "growing"}
    assert body["remarks"] == "region=north\nstage=growing"
    assert body["addresses"][0]["city"] == "Oslo"
    assert body["stage_changed_on"]
    account_id = body["id"]
    assert not account_id.isdigit()
    assert body["created_at"].endswith(("Z", "+00:00"))

    assert api.get(f"accounts/{account_id}").json()["name"] == "Acme"

    changed = api.patch(f"accounts/{account_id}", {"version": 1, "industry": "Tools"})
    assert changed.status_code == 200
    assert changed.json()["industry"] == "Tools" and changed.json()["version"] == 2

    assert api.delete(f"accounts/{account_id}").status_code == 204
    assert api.get(f"accounts/{account_id}").status_code == 404
    assert Account.objects.filter(public_id=account_id).exists()  # soft

    restored = api.post(f"accounts/{account_id}/restore")
    assert restored.status_code == 200
    assert api.get(f"accounts/{account_id}").json()["industry"] == "Tools"


def test_list_shape_and_paging_without_repeats(api, personas):
    for i in range(7):
        AccountFactory(name=f"Same name {i % 2}", owner=personas.owner)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get("accounts", **params).json()
        assert set(body) == {"items", "next"}
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7


def test_limit_over_200_is_capped(api, personas):
    rows = [Account(name=f"A{i:03d}", owner=personas.owner) for i in range(205)]
    for row in rows:
        row.derive()
    Account.objects.bulk_create(rows)
    body = api.get("accounts", limit=1000).json()
    assert len(body["items"]) == 200 and body["next"]


def test_ordering_descending(api, personas):
    for name in ("Beta", "alpha", "Gamma"):
        AccountFactory(name=name, owner=personas.owner)
    names = [a["name"] for a in api.get("accounts", ordering="-name").json()["items"]]
    assert names == ["Gamma", "Beta", "alpha"]


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def filterable(personas):
    acme = AccountFactory(name="Acme Tools", owner=personas.owner, stage="mature", email="info@acme.test")
    AccountFactory(name="Acorn", owner=personas.teammate, stage="growing")
    north = AccountFactory(name="Northwind", owner=personas.teammate, website="https://northwind.test")
    Attribute.objects.create(account=north, key="region", value="north")
    return acme, north


@pytest.mark.parametrize(("params", "expected"), [
    ({"q": "ac"}, {"Acme Tools", "Acorn"}),
    ({"q": "ACME t"}, {"Acme Tools"}),
    ({"q": "info@acme"}, {"Acme Tools"}),
    ({"q": "northwind.test"}, {"Northwind"}),
    ({"q": "%"}, set()),
    ({"q": "_"}, set()),
    ({"owner": "me"}, {"Acme Tools"}),
    ({"stage": "growing"}, {"Acorn"}),
    ({"attr": "region:north"}, {"Northwind"}),
    ({"attr": "Region:NORTH"}, {"Northwind"}),
    ({"attr": "region:south"}, set()),
])
def test_filters(api, filterable, params, expected):
    response = api.get("accounts", **params)
    assert response.status_code == 200
    assert {a["name"] for a in response.json()["items"]} == expected


def test_search_ignores_accents_and_case(api, personas):
    AccountFactory(name="Émile Zoë AB", owner=personas.owner)
    assert [a["name"] for a in api.get("accounts", q="EMILE zo").json()["items"]] == ["Émile Zoë AB"]


def test_owner_filter_by_public_id(api, personas, filterable):
    names = {a["name"] for a in api.get("accounts", owner=personas.teammate.public_id).json()["items"]}
    assert names == {"Acorn", "Northwind"}


@pytest.mark.parametrize(("params", "field"), [
    ({"colour": "red"}, "colour"),
    ({"account": "x"}, "account"),
    ({"ordering": "password"}, "ordering"),
    ({"ordering": "owner__password"}, "ordering"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"stage": "booming"}, "stage"),
    ({"owner": "nobody"}, "owner"),
    ({"attr": "no-separator"}, "attr"),
    ({"limit": "lots"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"q": "x" * 101}, "q"),
])
def test_bad_query_is_400_naming_the_parameter(api, params, field):
    response = api.get("accounts", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert field in body["errors"]


# --- Bad bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x" * 201}, "name"),
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": 12}, "name"),
    ({"name": "A", "email": "not-an-email"}, "email"),
    ({"name": "A", "website": "not a url"}, "website"),
    ({"name": "A", "website": "javascript:alert(1)"}, "website"),
    ({"name": "A", "website": "javascript://acme.test/%0aalert(1)"}, "website"),
    ({"name": "A", "stage": "booming"}, "stage"),
    ({"name": "A", "visibility": "secret"}, "visibility"),
    ({"name": "A", "is_superuser": True}, "is_superuser"),
    ({"name": "A", "version": 7}, "version"),
    ({"name": "A", "id": "abc"}, "id"),
    ({"name": "A", "created_by": "abc"}, "created_by"),
    ({"name": "A", "owner": "nobody"}, "owner"),
    ({"name": "A", "parent": "nothing"}, "parent"),
    ({"name": "A", "phone": ["1"]}, "phone"),
    ({"name": "A", "remarks": "r" * 10001}, "remarks"),
    ({"name": "A", "addresses": [{"city": "Oslo", "planet": "Earth"}]}, "addresses.0.planet"),
    ({"name": "A", "addresses": [{"kind": "moon"}]}, "addresses.0.kind"),
    ({"name": "A", "industry": None}, "industry"),
])
def test_bad_body_is_422_naming_the_field_and_stores_nothing(api, body, field):
    response = api.post("accounts", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert response.json()["detail"]
    assert not Account.objects.exists()


def test_body_that_is_not_json_is_a_clear_4xx(personas, api_for):
    client = api_for(personas.owner)
    response = client.client.post("/api/v1/accounts", data="{oops", content_type="application/json",
                                  headers=client.headers)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
    assert not Account.objects.exists()


def test_bad_patch_changes_nothing(api, personas):
    account = AccountFactory(owner=personas.owner, name="Kept")
    before = snapshot(account)
    response = api.patch(f"accounts/{account.public_id}", {"version": 1, "name": "New", "email": "bad"})
    assert response.status_code == 422 and "email" in response.json()["errors"]
    assert snapshot(account) == before


def test_patch_without_version_is_refused(api, personas):
    account = AccountFactory(owner=personas.owner)
    response = api.patch(f"accounts/{account.public_id}", {"name": "New"})
    assert response.status_code == 422 and "version" in response.json()["errors"]


def test_html_is_stored_verbatim_and_returned_as_data(api):
    name = '<script>alert("x")</script> & <b>Co</b>'
    body = api.post("accounts", {"name": name, "remarks": "<img src=x onerror=alert(1)>"}).json()
    assert body["name"] == name
    assert api.get(f"accounts/{body['id']}").json()["remarks"] == "<img src=x onerror=alert(1)>"
    assert Account.objects.get().name == name


# --- Concurrency ------------------------------------------------------------------------------


def test_stale_version_is_409_with_the_current_version(api, personas):
    account = AccountFactory(owner=personas.owner, name="Original")
    assert api.patch(f"accounts/{account.public_id}", {"version": 1, "name": "First"}).status_code == 200
    before = snapshot(account)
    response = api.patch(f"accounts/{account.public_id}", {"version": 1, "name": "Second"})
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert "version" in body["errors"] and body["detail"]
    assert snapshot(account) == before


def test_two_people_saving_the_same_version_cannot_both_win(personas):
    from rapport.core.errors import StaleVersion
    from rapport.directory import services

    account = AccountFactory(owner=personas.owner, name="Original")
    mine, theirs = Account.objects.get(pk=account.pk), Account.objects.get(pk=account.pk)
    services.account_update(actor=personas.manager, account=theirs, data={"name": "Manager's"}, version=1)
    with pytest.raises(StaleVersion) as info:
        services.account_update(actor=personas.owner, account=mine, data={"name": "Mine"}, version=1)
    assert info.value.current_version == 2
    assert Account.objects.get(pk=account.pk).name == "Manager's"


def test_delete_with_a_stale_version_is_409(api, personas):
    account = AccountFactory(owner=personas.owner)
    api.patch(f"accounts/{account.public_id}", {"version": 1, "name": "Changed"})
    response = api.delete(f"accounts/{account.public_id}?version=1")
    assert response.status_code == 409
    assert Account.objects.get(pk=account.pk).deleted_at is None


def test_bad_version_in_the_query_string_is_400(api, personas):
    account = AccountFactory(owner=personas.owner)
    response = api.delete(f"accounts/{account.public_id}?version=abc")
    assert response.status_code == 400 and "version" in response.json()["errors"]
    assert Account.objects.get(pk=account.pk).deleted_at is None


def test_a_deleted_record_cannot_be_changed_and_a_live_one_not_restored(api, personas):
    account = AccountFactory(owner=personas.owner)
    assert api.post(f"accounts/{account.public_id}/restore").status_code == 404
    api.delete(f"accounts/{account.public_id}")
    assert api.patch(f"accounts/{account.public_id}", {"version": 2, "name": "Zombie"}).status_code == 404
    assert api.delete(f"accounts/{account.public_id}").status_code == 404
    assert Account.objects.get(pk=account.pk).name != "Zombie"


# --- Duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"email": "INFO@acme.test"}, {"website": "http://www.acme.test/about"}])
def test_duplicate_is_409_unless_confirmed(api, personas, body):
    existing = AccountFactory(name="Acme", owner=personas.teammate, email="info@acme.test",
                              website="https://acme.test")
    response = api.post("accounts", {"name": "Acme again", **body})
    assert response.status_code == 409
    assert response.json()["duplicates"] == [{"id": existing.public_id, "name": "Acme"}]
    assert Account.objects.count() == 1
    confirmed = api.post("accounts", {"name": "Acme again", **body, "confirm_duplicate": True})
    assert confirmed.status_code == 201
    assert Account.objects.count() == 2


def test_duplicate_check_does_not_reveal_hidden_accounts(api, personas):
    AccountFactory(name="Secret", owner=personas.outsider, visibility=Visibility.PRIVATE, email="x@secret.test")
    assert api.post("accounts", {"name": "Mine", "email": "x@secret.test"}).status_code == 201


# --- Parents --------------------------------------------------------------------------------


def test_parent_cycles_are_refused(api, personas):
    top = AccountFactory(owner=personas.owner, name="Top")
    child = AccountFactory(owner=personas.owner, name="Child", parent=top)
    response = api.patch(f"accounts/{top.public_id}", {"version": 1, "parent": child.public_id})
    assert response.status_code == 422 and "parent" in response.json()["errors"]
    response = api.patch(f"accounts/{top.public_id}", {"version": 1, "parent": top.public_id})
    assert response.status_code == 422 and "parent" in response.json()["errors"]
    assert Account.objects.get(pk=top.pk).parent_id is None


def test_a_parent_the_caller_cannot_see_is_shown_as_null(api, personas, api_for):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    child = AccountFactory(owner=personas.owner, parent=hidden)
    assert api.get(f"accounts/{child.public_id}").json()["parent"] is None
    assert api.get("accounts").json()["items"][0]["parent"] is None
    assert api_for(personas.outsider).get(f"accounts/{child.public_id}").json()["parent"]["id"] == hidden.public_id


def test_a_parent_the_caller_cannot_see_cannot_be_chosen(api, personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = api.post("accounts", {"name": "Sub", "parent": hidden.public_id})
    assert response.status_code == 422 and "parent" in response.json()["errors"]


# --- Visibility and rights ----------------------------------------------------------------------


def test_a_record_the_caller_may_not_see_is_404_everywhere(personas, api_for):
    hidden = AccountFactory(owner=personas.owner, visibility=Visibility.PRIVATE, name="Hidden")
    client = api_for(personas.teammate)
    assert client.get(f"accounts/{hidden.public_id}").status_code == 404
    assert client.patch(f"accounts/{hidden.public_id}", {"version": 1, "name": "X"}).status_code == 404
    assert client.delete(f"accounts/{hidden.public_id}").status_code == 404
    assert client.post(f"accounts/{hidden.public_id}/restore").status_code == 404
    assert client.get("accounts").json()["items"] == []
    assert Account.objects.get(pk=hidden.pk).name == "Hidden"


def test_a_visible_record_the_caller_may_not_change_is_403_and_unchanged(personas, api_for):
    account = AccountFactory(owner=personas.owner, visibility=Visibility.TEAM, name="Theirs")
    before = snapshot(account)
    client = api_for(personas.teammate)
    response = client.patch(f"accounts/{account.public_id}", {"version": 1, "name": "Mine"})
    assert response.status_code == 403 and response.json()["detail"]
    assert client.delete(f"accounts/{account.public_id}").status_code == 403
    assert snapshot(account) == before
    assert not HistoryEntry.objects.exists()


def test_read_only_user_cannot_create(personas, api_for):
    response = api_for(personas.viewer).post("accounts", {"name": "Nope"})
    assert response.status_code == 403
    assert not Account.objects.exists()


def test_owner_cannot_be_changed_to_someone_outside_the_scope(personas, api_for):
    account = AccountFactory(owner=personas.owner)
    response = api_for(personas.owner).patch(f"accounts/{account.public_id}",
                                             {"version": 1, "owner": personas.outsider.public_id})
    assert response.status_code == 403
    assert Account.objects.get(pk=account.pk).owner_id == personas.owner.pk


def test_manager_may_hand_a_record_to_a_teammate(personas, api_for):
    account = AccountFactory(owner=personas.owner)
    response = api_for(personas.manager).patch(f"accounts/{account.public_id}",
                                               {"version": 1, "owner": personas.teammate.public_id})
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == personas.teammate.public_id


# --- Session auth and CSRF ------------------------------------------------------------------------


def test_session_write_needs_the_csrf_token(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)
    response = client.post("/api/v1/accounts", {"name": "Via session"}, content_type="application/json")
    assert response.status_code == 403
    assert not Account.objects.exists()
    client.get("/accounts/")  # sets the CSRF cookie, as a page would
    token = client.cookies["csrftoken"].value
    response = client.post("/api/v1/accounts", {"name": "Via session"}, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_session_reads_work_without_a_token(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)
    assert client.get("/api/v1/accounts").status_code == 200
