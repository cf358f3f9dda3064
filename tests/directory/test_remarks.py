"""key=value pairs in remarks become attributes that lists can filter on."""

from __future__ import annotations

import pytest

from rapport.directory import services
from rapport.directory.models import Attribute
from rapport.directory.remarks import parse_attribute_filter, parse_attributes
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("text", "expected"), [
    ("stage=mature region=north", {"stage": "mature", "region": "north"}),
    ('Met at the fair. budget="50 k" owner-note=call', {"budget": "50 k", "owner-note": "call"}),
    ("Region=NORTH", {"region": "north"}),
    ("region=north and later region=south", {"region": "south"}),
    ("Met them, region=north. Budget=big!", {"region": "north", "budget": "big"}),
    ("(region=north) size=large;", {"region": "north", "size": "large"}),
    ("region=north,stage=mature", {"region": "north", "stage": "mature"}),
    ("q3.target=100 version=1.2", {"q3.target": "100", "version": "1.2"}),
    ("city=Zürich", {"city": "zürich"}),
    ('note="  many   spaces  "', {"note": "many spaces"}),
    ("empty= and quoted=\"\"", {}),
    ("no pairs here, just text", {}),
    ("", {}),
])
def test_parsing(text, expected):
    assert parse_attributes(text) == expected


@pytest.mark.parametrize("text", [
    "See http://x.test?a=b for details",
    "Form at https://example.test/path/?utm_source=mail&utm_medium=web.",
    "Docs: <https://example.test/?page=2>",
])
def test_urls_in_text_do_not_become_attributes(text):
    assert parse_attributes(text) == {}


def test_a_url_as_a_value_is_kept_whole():
    assert parse_attributes("site=https://acme.test/?a=b region=north") == {
        "site": "https://acme.test/?a=b", "region": "north"}


def test_overlong_keys_are_ignored_and_values_are_capped():
    assert parse_attributes("k" * 51 + "=v") == {}
    assert parse_attributes("long=" + "v" * 250) == {"long": "v" * 200}


@pytest.mark.parametrize(("raw", "expected"), [
    ("region:north", ("region", "north")),
    ("Region=North", ("region", "north")),
    ("site:https://acme.test", ("site", "https://acme.test")),
    (" budget : 50  k ", ("budget", "50 k")),
    ("novalue:", None),
    (":north", None),
    ("plain", None),
])
def test_attribute_filter_syntax(raw, expected):
    assert parse_attribute_filter(raw) == expected


def attributes_of(account) -> dict[str, str]:
    return dict(Attribute.objects.filter(account=account).values_list("key", "value"))


def test_attribute_rows_follow_the_remarks(personas):
    account = services.account_create(actor=personas.owner, data={"name": "A", "remarks": "region=north tier=1"})
    assert attributes_of(account) == {"region": "north", "tier": "1"}
    account = services.account_update(actor=personas.owner, account=account, version=1,
                                      data={"remarks": "region=south size=xl"})
    assert attributes_of(account) == {"region": "south", "size": "xl"}
    services.account_update(actor=personas.owner, account=account, version=2, data={"remarks": "nothing"})
    assert attributes_of(account) == {}


def test_contact_attribute_rows_follow_the_remarks(personas):
    contact = services.contact_create(actor=personas.owner, data={"last_name": "X", "remarks": "lang=sv"})
    services.contact_update(actor=personas.owner, contact=contact, version=1, data={"remarks": "lang=en"})
    assert dict(Attribute.objects.filter(contact=contact).values_list("key", "value")) == {"lang": "en"}


def test_attributes_show_in_the_api(personas, api_for):
    account = services.account_create(actor=personas.owner, data={"name": "A", "remarks": "Region=North"})
    body = api_for(personas.owner).patch(f"accounts/{account.public_id}",
                                         {"version": 1, "remarks": "region=north vip=yes"}).json()
    assert body["attributes"] == {"region": "north", "vip": "yes"}


@pytest.fixture
def regions(personas):
    north = services.account_create(actor=personas.owner, data={"name": "Northwind", "remarks": "region=north"})
    services.account_create(actor=personas.owner, data={"name": "Southco", "remarks": "region=south"})
    services.contact_create(actor=personas.owner, data={"last_name": "Nord", "remarks": "region=north",
                                                        "account": north})
    services.contact_create(actor=personas.owner, data={"last_name": "Sud", "remarks": "region=south"})
    return north


def test_attribute_filter_on_the_account_page(personas, regions):
    page = client_for(personas.owner).get("/accounts/", {"attr": "region:north"})
    assert page.status_code == 200
    assert b"Northwind" in page.content and b"Southco" not in page.content


def test_attribute_filter_on_the_contact_page_and_api(personas, regions, api_for):
    page = client_for(personas.owner).get("/contacts/", {"attr": "Region:North"})
    assert b"Nord" in page.content and b"Sud" not in page.content
    body = api_for(personas.owner).get("contacts", attr="region:north").json()
    assert [c["last_name"] for c in body["items"]] == ["Nord"]


def test_two_attribute_filters_combine(personas, api_for):
    services.account_create(actor=personas.owner, data={"name": "Both", "remarks": "region=north vip=yes"})
    services.account_create(actor=personas.owner, data={"name": "One", "remarks": "region=north"})
    client = api_for(personas.owner)
    response = client.client.get("/api/v1/accounts?attr=region:north&attr=vip:yes", headers=client.headers)
    assert [a["name"] for a in response.json()["items"]] == ["Both"]


def test_attributes_of_hidden_records_do_not_leak_through_the_filter(personas, api_for):
    services.account_create(actor=personas.outsider, data={"name": "Hidden North", "visibility": "private",
                                                           "remarks": "region=north"})
    services.contact_create(actor=personas.outsider, data={"last_name": "Hidden", "visibility": "private",
                                                           "remarks": "region=north"})
    for path in ("accounts", "contacts"):
        # The owner of the records finds them by the attribute (so the filter works) ...
        assert len(api_for(personas.outsider).get(path, attr="region:north").json()["items"]) == 1
        # ... and someone who may not see them finds nothing.
        assert api_for(personas.owner).get(path, attr="region:north").json()["items"] == []
