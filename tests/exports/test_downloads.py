"""How an export is answered: streamed, named, limited, refused with a reason; the API's /export routes win
over /<resource>/{id}; an audit line in the server log."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.urls import resolve

from rapport.exports.resources import resources
from tests.conftest import client_for
from tests.exports.helpers import body, csv_ids
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_csv_and_vcard_stream_and_xlsx_comes_from_a_file(personas):
    ContactFactory(owner=personas.owner)
    client = client_for(personas.owner)
    csv_response = client.get("/exports/contacts/?format=csv")
    assert isinstance(csv_response, StreamingHttpResponse)
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert csv_response["X-Export-Rows"] == "1"
    assert csv_response["Cache-Control"] == "private, no-store"
    assert isinstance(client.get("/exports/contacts/?format=vcf"), StreamingHttpResponse)
    xlsx = client.get("/exports/contacts/?format=xlsx")
    assert isinstance(xlsx, FileResponse)
    assert xlsx["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert body(xlsx)[:2] == b"PK"  # a zip, as every XLSX


def test_the_csv_is_read_lazily_as_it_is_sent(personas, django_assert_num_queries):
    """The view answers before the rows are read: only the count runs before the first byte."""
    ContactFactory(owner=personas.owner)
    client = client_for(personas.owner)
    response = client.get("/exports/contacts/?format=csv")
    # The rows (with their first address): read as the response is sent; on PostgreSQL with the cursor's
    # planner setting set and put back around them.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 1):
        assert len(csv_ids(response)) == 1


@pytest.mark.parametrize("key", sorted(resources()))
def test_the_export_route_wins_over_the_record_route(key):
    """/api/v1/<resource>/export is the export, not a record whose id is "export"."""
    match = resolve(f"/api/v1/{key}/export")
    assert match.url_name == f"export_{key.replace('-', '_')}", match


@pytest.mark.parametrize("key", sorted(resources()))
def test_every_export_answers_every_user_and_refuses_the_anonymous(personas, api_for, key):
    assert api_for(personas.viewer).get(f"{key}/export").status_code == 200
    assert api_for(None).get(f"{key}/export").status_code == 401
    response = client_for(None).get(f"/exports/{key}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_record_routes_still_answer(personas, api_for):
    contact = ContactFactory(owner=personas.owner)
    response = api_for(personas.owner).get(f"contacts/{contact.public_id}")
    assert response.status_code == 200 and response.json()["id"] == contact.public_id


@pytest.mark.parametrize(("query", "field", "message"), [
    ("format=pdf", "format", "csv, xlsx, vcf"),
    ("stage=mature", "stage", "Unknown filter"),
    ("ordering=-email", "ordering", "Unknown ordering -email"),
    ("owner=nobody", "owner", "No such user"),
    ("q=" + "x" * 101, "q", "at most 100 characters"),
])
def test_bad_input_is_refused_naming_it(personas, api_for, query, field, message):
    response = client_for(personas.owner).get(f"/exports/contacts/?{query}")
    assert response.status_code == 400
    text = response.content.decode()
    assert f"<strong>{field}</strong>" in text and message in text
    params = dict([query.split("=", 1)])
    answer = api_for(personas.owner).get("contacts/export", **params)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert answer.json()["detail"]


def test_an_unknown_activity_filter_is_refused(personas, api_for):
    """The activity selector reads only the filters it knows; the export refuses the others by name."""
    answer = api_for(personas.owner).get("activities/export", subject="x")
    assert answer.status_code == 400
    assert "subject" in answer.json()["errors"]
    assert api_for(personas.owner).get("activities/export", start="2026-01-01T00:00:00Z").status_code == 400


def test_an_unknown_resource_is_404(personas):
    assert client_for(personas.owner).get("/exports/users/").status_code == 404


def test_only_get(personas):
    assert client_for(personas.owner).post("/exports/contacts/").status_code == 405


def test_too_many_rows_is_refused_with_the_count(personas, api_for, settings):
    settings.RAPPORT_EXPORT_MAX_ROWS = 2
    for i in range(3):
        ContactFactory(owner=personas.owner, last_name=f"Person {i}")
    page = client_for(personas.owner).get("/exports/contacts/?format=csv")
    assert page.status_code == 422
    assert "3 rows" in page.content.decode() and "at most 2" in page.content.decode()
    answer = api_for(personas.owner).get("contacts/export")
    assert answer.status_code == 422
    assert "3 rows" in answer.json()["detail"]
    narrowed = api_for(personas.owner).get("contacts/export", q="Person 1")
    assert narrowed.status_code == 200 and len(csv_ids(narrowed)) == 1


def test_an_audit_line_names_who_exported_what(personas, caplog):
    ContactFactory(owner=personas.owner)
    with caplog.at_level(logging.INFO, logger="rapport.exports"):
        body(client_for(personas.owner).get("/exports/contacts/?format=csv&q=person"))
    lines = [r.getMessage() for r in caplog.records if r.name == "rapport.exports"]
    assert len(lines) == 1
    assert "export done user=owner resource=contacts format=csv rows=1" in lines[0]
    assert "'q': ['person']" in lines[0]


def test_an_empty_list_exports_its_header(personas):
    text = body(client_for(personas.owner).get("/exports/leads/?format=csv")).decode("utf-8")
    assert text.startswith("\ufeffID,Last name,First name,Company")
    assert text.count("\r\n") == 1


def test_filters_named_like_python_words_reach_the_list(personas, api_for):
    """Orders' `from` and campaigns' `list` are filters like any other in the API."""
    import datetime as dt

    from tests.factories import CampaignFactory, DistributionListFactory, OrderFactory

    old = OrderFactory(owner=personas.owner, ordered_on=dt.date(2026, 1, 5))
    new = OrderFactory(owner=personas.owner, ordered_on=dt.date(2026, 3, 5))
    api = api_for(personas.owner)
    assert csv_ids(api.get("orders/export", **{"from": "2026-02-01"})) == [new.public_id]
    assert csv_ids(api.get("orders/export", to="2026-02-01")) == [old.public_id]
    wanted = DistributionListFactory(owner=personas.owner)
    campaign = CampaignFactory(owner=personas.owner, distribution_list=wanted)
    CampaignFactory(owner=personas.owner)
    assert csv_ids(api.get("campaigns/export", list=wanted.public_id)) == [campaign.public_id]


@pytest.mark.parametrize("key", ["accounts", "contacts"])
def test_a_record_exports_its_first_address_and_one_without_exports_empty_cells(personas, key):
    from rapport.directory.models import Address
    from tests.exports.helpers import csv_dicts, xlsx_dicts
    from tests.factories import AccountFactory

    make = AccountFactory if key == "accounts" else ContactFactory
    with_two, without = make(owner=personas.owner), make(owner=personas.owner)
    link = "account" if key == "accounts" else "contact"
    Address.objects.create(**{link: with_two}, street="Storgata 1", postal_code="0155", city="Oslo",
                           region="Oslo", country="NO")
    Address.objects.create(**{link: with_two}, street="Kaigaten 9", city="Bergen", country="NO")
    client = client_for(personas.owner)
    parts = ("Street", "Postal code", "City", "Region", "Country")
    for rows in (csv_dicts(client.get(f"/exports/{key}/?format=csv")),
                 xlsx_dicts(client.get(f"/exports/{key}/?format=xlsx"))):
        assert len(rows) == 2  # one row a record, however many addresses it has
        by_id = {row["ID"]: row for row in rows}
        assert [by_id[with_two.public_id][part] for part in parts] == ["Storgata 1", "0155", "Oslo", "Oslo", "NO"]
        assert all(by_id[without.public_id][part] in ("", None) for part in parts)
