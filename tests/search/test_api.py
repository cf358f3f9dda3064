"""GET /api/v1/search: grouped JSON results with offsets for highlights; bad input answers 400 naming the
parameter, never a 500."""

from __future__ import annotations

import pytest

from rapport.core.models import Visibility
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    acme = AccountFactory(name="Acme <b>Corporation</b>", owner=personas.owner)
    ContactFactory(first_name="John", last_name="Smith", owner=personas.owner, account=acme, email="john@acme.test")
    ContactFactory(first_name="John", last_name="Hidden", owner=personas.owner, visibility=Visibility.PRIVATE)
    return personas


def test_results_are_grouped_with_ids_links_and_offsets(world, api_for):
    answer = api_for(world.owner).get("search", q="jonh smi")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["words"] == ["jonh", "smi"] and body["corrections"] == {"jonh": ["john"]}
    [group] = body["groups"]
    assert (group["type"], group["label"], group["more"]) == ("contact", "Contacts", False)
    [item] = group["items"]
    contact_id = item["id"]
    assert item["type"] == "contact" and item["title"] == "John Smith"
    assert item["url"] == f"/contacts/{contact_id}/"
    assert item["api_url"] == f"/api/v1/contacts/{contact_id}"
    assert [item["title"][s:e] for s, e in item["highlights"]["title"]] == ["John", "Smi"]
    assert api_for(world.owner).get(item["api_url"]).status_code == 200


def test_json_carries_text_not_html(world, api_for):
    body = api_for(world.owner).get("search", q="acme corp").json()
    item = body["groups"][0]["items"][0]
    assert item["title"] == "Acme <b>Corporation</b>"  # as stored; the client escapes it
    assert "<mark>" not in answer_text(body)


def answer_text(body) -> str:
    import json

    return json.dumps(body)


def test_types_and_limit(world, api_for):
    client = api_for(world.owner)
    assert [g["type"] for g in client.get("search", q="john").json()["groups"]] == ["contact"]
    assert client.get("search", q="corporation", types="contact").json()["groups"] == []
    assert [g["type"] for g in client.get("search", q="acme", types="contact,account").json()["groups"]] == [
        "account", "contact"]  # the contact's address is at acme.test
    body = client.get("search", q="john", limit=1).json()
    assert len(body["groups"][0]["items"]) == 1 and body["groups"][0]["more"] is True


def test_only_what_the_caller_may_see(world, api_for):
    body = api_for(world.outsider).get("search", q="john").json()
    assert [i["title"] for g in body["groups"] for i in g["items"]] == ["John Smith"]


def test_attribute_terms_come_back_parsed(world, api_for):
    body = api_for(world.owner).get("search", q='stage=Mature region="North  East" dental').json()
    assert body["attributes"] == [["stage", "mature"], ["region", "north east"]] and body["words"] == ["dental"]


@pytest.mark.parametrize(("params", "field"), [
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({}, "q"),
    ({"q": "x" * 5000}, "q"),
    ({"q": "acme", "types": "widget"}, "types"),
    ({"q": "acme", "limit": "0"}, "limit"),
    ({"q": "acme", "limit": "51"}, "limit"),
    ({"q": "acme", "limit": "ten"}, "limit"),
    ({"q": "acme", "sort": "name"}, "sort"),
])
def test_bad_input_is_a_400_naming_the_parameter(world, api_for, params, field):
    answer = api_for(world.owner).get("search", **params)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]


def test_a_long_query_says_the_limit(world, api_for):
    answer = api_for(world.owner).get("search", q="x" * 5000)
    assert "200" in answer.json()["errors"]["q"][0]


@pytest.mark.parametrize("q", ['"*()^:-NEAR AND OR', '"unbalanced', "'; SELECT 1; --", "NEAR(a b, 2)", "a:* & !b",
                               "title:acme", "{title} : acme", "%", "_", "\\", "ä" * 200, "🙂 acme"])
def test_operators_are_text_and_never_a_500(world, api_for, q):
    answer = api_for(world.owner).get("search", q=q)
    assert answer.status_code == 200, answer.content


def test_one_letter_is_too_short_yet(world, api_for):
    body = api_for(world.owner).get("search", q="j").json()
    assert body["too_short"] is True and body["groups"] == []


def test_anonymous_callers_are_refused(world, api_for):
    assert api_for(None).get("search", q="john").status_code == 401
