"""The order pages: the list, the form with its lines, the order's page, delete and undo, and the Orders
panel of an account page. What a user sees; who may open which page is the permission matrix's."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest

from rapport.core.models import Visibility
from rapport.sales import services
from rapport.sales.models import Order, OrderLine
from tests.conftest import client_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def order(actor, account, **data) -> Order:
    lines = data.pop("lines", None)
    data = {"account": account, "ordered_on": dt.date(2026, 5, 1), **data}
    if lines is None:
        data.setdefault("amount", Decimal("100"))
    return services.order_create(actor=actor, data=data, lines=lines or ())


def listed(response) -> list[str]:
    """Order numbers linked from a page, in page order."""
    ids = re.findall(r'href="/orders/([a-z2-7]{16})/"', response.content.decode())
    by_id = dict(Order.objects.filter(public_id__in=ids).values_list("public_id", "number"))
    return [by_id[i] for i in ids]


def link(response, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def lines_data(*rows: tuple, initial: int = 0, total: int | None = None) -> dict:
    """The lines formset as the page posts it: (product, quantity, unit price[, line amount]) per row."""
    data = {"lines-TOTAL_FORMS": str(total if total is not None else len(rows)),
            "lines-INITIAL_FORMS": str(initial), "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "500"}
    for index, row in enumerate(rows):
        product, quantity, price, *amount = row
        data.update({f"lines-{index}-product": product, f"lines-{index}-quantity": quantity,
                     f"lines-{index}-unit_price": price, f"lines-{index}-amount": amount[0] if amount else ""})
    return data


def order_form(user, customer, *rows: tuple, **fields) -> dict:
    return {"account": customer.public_id, "number": "", "ordered_on": "2026-06-01", "status": "open",
            "currency": "EUR", "amount": "", "description": "", "opportunity": "", "owner": user.public_id,
            "visibility": "everyone", **lines_data(*rows), **fields}


@pytest.fixture
def acme(personas):
    return AccountFactory(owner=personas.owner, name="Acme")


# --- The list ------------------------------------------------------------------------------------


@pytest.fixture
def orders(personas, acme):
    beta = AccountFactory(owner=personas.owner, name="Beta")
    order(personas.owner, acme, number="A-1", ordered_on=dt.date(2026, 1, 10), amount=Decimal("300"))
    order(personas.owner, acme, number="A-2", ordered_on=dt.date(2026, 3, 5), amount=Decimal("50"),
          status="fulfilled")
    order(personas.teammate, beta, number="B-1", ordered_on=dt.date(2026, 2, 1), amount=Decimal("1200"))
    order(personas.outsider, beta, number="B-2", ordered_on=dt.date(2026, 4, 1), visibility=Visibility.PRIVATE)
    return acme, beta


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["A-2", "B-1", "A-1"]),
    ({"q": "a-"}, ["A-2", "A-1"]),
    ({"status": "fulfilled"}, ["A-2"]),
    ({"owner": "me"}, ["A-2", "A-1"]),
    ({"from": "2026-02-01", "to": "2026-03-01"}, ["B-1"]),
    ({"ordering": "number"}, ["A-1", "A-2", "B-1"]),
    ({"ordering": "-amount"}, ["B-1", "A-1", "A-2"]),
    ({"ordering": "ordered_on"}, ["A-1", "B-1", "A-2"]),
])
def test_order_list_filters_and_sorts(personas, orders, query, expected):
    response = client_for(personas.owner).get("/orders/", query)
    assert response.status_code == 200
    assert listed(response) == expected


def test_order_list_filters_by_account_and_names_it(personas, orders):
    _acme, beta = orders
    response = client_for(personas.owner).get("/orders/", {"account": beta.public_id})
    assert listed(response) == ["B-1"]
    assert f'<option value="{beta.public_id}" selected>Beta</option>' in text(response)
    assert f"/orders/new/?account={beta.public_id}" in text(response)


def test_order_list_shows_amounts_and_visible_accounts_only(personas):
    hidden = AccountFactory(owner=personas.outsider, name="Secret Co", visibility=Visibility.PRIVATE)
    order(personas.owner, hidden, number="S-1", amount=Decimal("1234.5"), currency="USD")
    page = text(client_for(personas.owner).get("/orders/"))
    assert "S-1" in page and "1,234.50 USD" in page and "Secret Co" not in page


def test_order_list_pages_forwards_and_back(personas, acme):
    for i in range(5):
        order(personas.owner, acme, number=f"P-{i}", ordered_on=dt.date(2026, 1, 1 + i))
    client = client_for(personas.owner)
    first = client.get("/orders/", {"limit": 2, "q": "p-"})
    assert listed(first) == ["P-4", "P-3"] and link(first, "prev") is None
    second = client.get("/orders/" + link(first, "next"))
    assert listed(second) == ["P-2", "P-1"]
    third = client.get("/orders/" + link(second, "next"))
    assert listed(third) == ["P-0"] and link(third, "next") is None
    assert listed(client.get("/orders/" + link(third, "prev"))) == ["P-2", "P-1"]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"from": "yesterday"}, {"account": "zzzzzzzzzzzzzzzz"},
                                   {"ordering": "owner"}, {"cursor": "forged"}])
def test_bad_order_list_query_shows_a_message(personas, orders, query):
    response = client_for(personas.owner).get("/orders/", query)
    assert response.status_code == 400 and b'role="alert"' in response.content


def test_htmx_refresh_gets_only_the_results(personas, orders):
    client = client_for(personas.owner)
    response = client.get("/orders/", {"q": "b"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in response.content.decode() and listed(response) == ["B-1"]
    assert "1 found" in text(client.get("/orders/", {"q": "b", "part": "count"}))


# --- Create and edit -------------------------------------------------------------------------------


def test_create_an_order_with_lines_gets_a_number_and_the_sum(personas, acme):
    client = client_for(personas.owner)
    page = text(client.get("/orders/new/", {"account": acme.public_id}))
    assert f'<option value="{acme.public_id}" selected>Acme</option>' in page
    assert 'name="lines-TOTAL_FORMS" value="3"' in page
    response = client.post("/orders/new/", order_form(personas.owner, acme, ("Widget", "2", "50"),
                                                      ("Gadget", "1.5", "10", "15.00"), ("", "", "")))
    created = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{created.public_id}/"
    assert created.number.startswith("ORD-") and created.amount == Decimal("115.00")
    assert [(line.product, line.amount) for line in created.lines.all()] == [
        ("Widget", Decimal("100.00")), ("Gadget", Decimal("15.00"))]
    detail = text(client.get(response["Location"]))
    assert f"Order {created.number} was created." in detail
    assert "Widget" in detail and "115.00 EUR" in detail and "Total" in detail


def test_create_an_order_without_lines(personas, acme):
    response = client_for(personas.owner).post("/orders/new/", order_form(
        personas.owner, acme, number="MY-7", amount="990.00", currency="nok"))
    assert response.status_code == 302
    created = Order.objects.get()
    assert (created.number, created.amount, created.currency) == ("MY-7", Decimal("990.00"), "NOK")


def test_the_form_offers_the_accounts_opportunities_and_refuses_anothers(personas, acme):
    other = AccountFactory(owner=personas.owner, name="Other")
    deal = services.opportunity_create(actor=personas.owner, data={"name": "Acme deal", "account": acme})
    foreign = services.opportunity_create(actor=personas.owner, data={"name": "Other deal", "account": other})
    client = client_for(personas.owner)
    page = text(client.get("/orders/new/", {"account": acme.public_id}))
    assert "Acme deal" in page and "Other deal" not in page
    response = client.post("/orders/new/", order_form(personas.owner, acme, amount="10",
                                                      opportunity=foreign.public_id))
    assert response.status_code == 400 and 'id="id_opportunity_error"' in text(response)
    assert not Order.objects.exists()
    response = client.post("/orders/new/", order_form(personas.owner, acme, amount="10", opportunity=deal.public_id))
    assert response.status_code == 302 and Order.objects.get().opportunity == deal
    assert "Acme deal" in text(client.get(response["Location"]))


@pytest.mark.parametrize(("rows", "fields", "field", "message"), [
    ((), {}, "amount", "Give the order's amount, or its lines."),
    ((), {"amount": "10", "account": ""}, "account", "This field is required."),
    ((), {"amount": "10", "currency": "XYZ"}, "currency", "XYZ is not a currency code"),
    ((), {"amount": "-1"}, "amount", "greater than or equal to 0"),
    ((("Widget", "2", "50"),), {"amount": "99"}, "amount", "The lines add up to 100.00, not 99"),
    ((), {"amount": "10", "ordered_on": "tomorrow"}, "ordered_on", "Enter a valid date."),
    ((), {"amount": "10", "status": "lost"}, "status", "Select a valid choice."),
])
def test_bad_order_input_is_shown_on_its_field_and_nothing_is_saved(personas, acme, rows, fields, field, message):
    response = client_for(personas.owner).post("/orders/new/", order_form(personas.owner, acme, *rows, **fields))
    page = text(response)
    assert response.status_code == 400 and f'id="id_{field}_error"' in page and message in page
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_a_line_that_does_not_add_up_is_shown_on_its_row(personas, acme):
    response = client_for(personas.owner).post("/orders/new/", order_form(
        personas.owner, acme, ("Widget", "2", "50"), ("", "", ""), ("Gadget", "3", "10", "31")))
    page = text(response)
    assert response.status_code == 400
    assert 'id="id_lines-2-amount_error"' in page and "3 × 10 makes 30.00, not 31" in page
    assert "Line 3, Line amount" in page
    assert not Order.objects.exists()


def test_a_line_needs_a_product(personas, acme):
    response = client_for(personas.owner).post("/orders/new/", order_form(personas.owner, acme, ("", "2", "50")))
    assert response.status_code == 400 and 'id="id_lines-0-product_error"' in text(response)
    assert not Order.objects.exists()


def test_a_negative_quantity_is_refused_on_its_row(personas, acme):
    response = client_for(personas.owner).post("/orders/new/", order_form(personas.owner, acme, ("W", "-2", "50")))
    assert response.status_code == 400 and 'id="id_lines-0-quantity_error"' in text(response)
    assert not Order.objects.exists()


def test_a_duplicate_number_is_refused(personas, acme):
    order(personas.owner, acme, number="ORD-X")
    response = client_for(personas.owner).post("/orders/new/", order_form(personas.owner, acme, number="ORD-X",
                                                                          amount="5"))
    assert response.status_code == 400 and 'id="id_number_error"' in text(response)
    assert "Another order has the number ORD-X." in text(response)
    assert Order.objects.count() == 1


def test_add_rows_shows_more_empty_rows_and_saves_nothing(personas, acme):
    response = client_for(personas.owner).post("/orders/new/", {
        **order_form(personas.owner, acme, ("Widget", "2", "50")), "more_lines": "1", "account": ""})
    page = text(response)
    assert response.status_code == 200 and 'name="lines-TOTAL_FORMS" value="4"' in page
    assert 'value="Widget"' in page and "has-error" not in page
    assert not Order.objects.exists()


def test_edit_an_order_and_its_lines(personas, acme):
    record = order(personas.owner, acme, number="E-1", lines=[{"product": "Widget", "quantity": "2",
                                                                 "unit_price": "50"}])
    client = client_for(personas.owner)
    page = text(client.get(f"/orders/{record.public_id}/edit/"))
    assert 'value="Widget"' in page and 'name="version" value="1"' in page and 'placeholder="100.00"' in page
    assert 'name="lines-TOTAL_FORMS" value="4"' in page  # the stored line and three empty rows
    response = client.post(f"/orders/{record.public_id}/edit/", order_form(
        personas.owner, acme, ("Widget", "3", "50"), ("Gadget", "1", "5"), number="E-1", status="fulfilled",
        version=1, description="Rush"))
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.amount, record.status, record.description, record.version) == (
        Decimal("155.00"), "fulfilled", "Rush", 2)
    assert list(record.lines.values_list("product", "quantity")) == [("Widget", Decimal("3")),
                                                                       ("Gadget", Decimal("1"))]
    history = text(client.get(f"/orders/{record.public_id}/"))
    assert "Widget @ 50.00" in history and "3 × Widget" in history


def test_removing_a_line_on_the_form(personas, acme):
    record = order(personas.owner, acme, lines=[{"product": "Widget", "quantity": "1", "unit_price": "5"},
                                                {"product": "Gadget", "quantity": "1", "unit_price": "7"}])
    data = order_form(personas.owner, acme, ("Widget", "1", "5"), ("Gadget", "1", "7"), number=record.number,
                      version=1)
    data["lines-1-DELETE"] = "on"
    response = client_for(personas.owner).post(f"/orders/{record.public_id}/edit/", data)
    assert response.status_code == 302
    record.refresh_from_db()
    assert list(record.lines.values_list("product", flat=True)) == ["Widget"] and record.amount == Decimal("5.00")


def test_edit_with_a_stale_version_is_a_conflict(personas, acme):
    record = order(personas.owner, acme, number="C-1")
    services.order_update(actor=personas.manager, order=record, data={"description": "Manager's"}, version=1)
    response = client_for(personas.owner).post(f"/orders/{record.public_id}/edit/", order_form(
        personas.owner, acme, number="C-1", amount="100", description="Mine", version=1))
    assert response.status_code == 409 and "changed by someone else" in text(response)
    record.refresh_from_db()
    assert (record.description, record.version) == ("Manager's", 2)


def test_renaming_to_a_taken_number_is_refused(personas, acme):
    order(personas.owner, acme, number="T-1")
    record = order(personas.owner, acme, number="T-2")
    response = client_for(personas.owner).post(f"/orders/{record.public_id}/edit/", order_form(
        personas.owner, acme, number="T-1", amount="100", version=1))
    assert response.status_code == 400 and 'id="id_number_error"' in text(response)
    assert Order.objects.get(pk=record.pk).number == "T-2"


# --- The order's page, delete, undo ----------------------------------------------------------------


def test_order_page_links_only_what_the_user_may_see(personas):
    hidden = AccountFactory(owner=personas.owner, name="Private Co", visibility=Visibility.PRIVATE)
    deal = services.opportunity_create(actor=personas.owner, data={"name": "Private deal", "account": hidden,
                                                                  "visibility": Visibility.PRIVATE})
    record = order(personas.owner, hidden, number="V-1", opportunity=deal)
    mine = text(client_for(personas.owner).get(f"/orders/{record.public_id}/"))
    assert "Private Co" in mine and "Private deal" in mine
    theirs = text(client_for(personas.teammate).get(f"/orders/{record.public_id}/"))
    assert "V-1" in theirs and "Private Co" not in theirs and "Private deal" not in theirs
    assert "/edit/" not in theirs and "/delete/" not in theirs


def test_delete_then_undo(personas, acme):
    record = order(personas.owner, acme, number="D-1")
    client = client_for(personas.owner)
    response = client.post(f"/orders/{record.public_id}/delete/", {"version": 1})
    assert response["Location"] == "/orders/"
    listing = text(client.get("/orders/"))
    assert "Order D-1 is in the trash." in listing
    assert client.get(f"/orders/{record.public_id}/").status_code == 404
    assert client.post(f"/orders/{record.public_id}/restore/")["Location"] == f"/orders/{record.public_id}/"
    assert Order.objects.get(pk=record.pk).deleted_at is None


def test_delete_with_a_stale_version_is_refused(personas, acme):
    record = order(personas.owner, acme)
    services.order_update(actor=personas.owner, order=record, data={"description": "x"}, version=1)
    response = client_for(personas.owner).post(f"/orders/{record.public_id}/delete/", {"version": 1}, follow=True)
    assert "changed by someone else" in text(response)
    assert Order.objects.get(pk=record.pk).deleted_at is None


# --- The Orders panel on an account page -----------------------------------------------------------


def test_the_account_panel_shows_only_visible_orders_newest_first(personas, acme):
    order(personas.owner, acme, number="P-OLD", ordered_on=dt.date(2026, 1, 1))
    order(personas.owner, acme, number="P-NEW", ordered_on=dt.date(2026, 6, 1), status="cancelled")
    order(personas.owner, acme, number="P-MID", ordered_on=dt.date(2026, 3, 1), currency="USD",
          amount=Decimal("42"))
    order(personas.outsider, acme, number="P-SECRET", ordered_on=dt.date(2026, 7, 1),
          visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    account_page = text(client.get(f"/accounts/{acme.public_id}/"))
    assert f"/orders/about/account:{acme.public_id}/" in account_page
    response = client.get(f"/orders/about/account:{acme.public_id}/")
    panel = text(response)
    assert listed(response) == ["P-NEW", "P-MID", "P-OLD"] and "P-SECRET" not in panel
    assert "42.00 USD" in panel and "Cancelled" in panel
    assert "Last order: <time datetime=\"2026-03-01\">" in panel  # the newest that was not cancelled
    assert f"/orders/new/?account={acme.public_id}" in panel
    assert f"/orders/new/?account={acme.public_id}" not in text(
        client_for(personas.viewer).get(f"/orders/about/account:{acme.public_id}/"))
    outsider_panel = client_for(personas.outsider).get(f"/orders/about/account:{acme.public_id}/")
    assert listed(outsider_panel) == ["P-SECRET", "P-NEW", "P-MID", "P-OLD"]


def test_the_panel_is_404_for_a_record_the_user_may_not_see(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    for ref in (f"account:{hidden.public_id}", "account:zzzzzzzzzzzzzzzz", "nonsense", "planet:x"):
        assert client.get(f"/orders/about/{ref}/").status_code == 404, ref


def test_the_list_shows_exactly_the_orders_each_persona_may_see(personas):
    """Until the matrix's list test builds orders: an order of every persona per visibility and a deleted one,
    all for an account only the outsider sees (whose name no one else may read in the list)."""
    from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

    secret = AccountFactory(owner=personas.outsider, name="Outsider's secret", visibility=Visibility.PRIVATE)
    made = {}
    for persona in PERSONAS:
        for visibility in (*VISIBILITIES, "gone"):
            record = order(personas.admin, secret, number=f"O-{persona}-{visibility}",
                           owner=getattr(personas, persona),
                           visibility="everyone" if visibility == "gone" else visibility)
            if visibility == "gone":
                services.order_delete(actor=personas.admin, order=record)
            made[persona, visibility] = record
    for viewer in PERSONAS:
        response = client_for(getattr(personas, viewer)).get("/orders/", {"limit": 200})
        expected = {f"O-{p}-{v}" for (p, v) in made if v != "gone" and sees(viewer, p, v)}
        assert set(listed(response)) == expected, viewer
        page = response.content.decode()
        assert not [r.number for r in made.values() if r.number not in expected and r.number in page], viewer
        assert ("Outsider's secret" in html.unescape(page)) == sees(viewer, "outsider", "private"), viewer


def test_the_list_and_the_panel_cost_the_same_queries_for_few_and_many_orders(personas, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.owner)
    counts = []
    for n in (2, 20):
        while Order.objects.count() < n:
            other = AccountFactory(owner=personas.teammate)
            order(personas.admin, other if Order.objects.count() % 2 else acme, owner=personas.teammate)
        row = []
        for url in ("/orders/", f"/orders/about/account:{acme.public_id}/"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            row.append(len(queries))
        counts.append(row)
    assert counts[0] == counts[1]
