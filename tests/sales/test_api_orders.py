"""The orders API: CRUD and restore, lines, numbers, lists and filters, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.core.models import HistoryEntry, Visibility
from rapport.sales import services
from rapport.sales.models import Order, OrderLine
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


@pytest.fixture
def account(personas):
    return AccountFactory(name="Acme", owner=personas.owner)


def stored() -> dict:
    return {"orders": list(Order.objects.order_by("pk").values()),
            "lines": list(OrderLine.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


def order(owner, account, **data) -> Order:
    return services.order_create(actor=owner, data={"account": account, "amount": "100", **data})


LINES = [{"product": "Widget", "quantity": "3", "unit_price": "19.99"},
         {"product": "Setup", "quantity": "1", "unit_price": "250.00", "amount": "250.00"}]


def test_create_read_update_delete_restore(api, personas, account):
    opportunity = services.opportunity_create(actor=personas.owner, data={"name": "Deal", "account": account})
    created = api.post("orders", {"account": account.public_id, "opportunity": opportunity.public_id,
                                  "ordered_on": "2031-01-15", "lines": LINES})
    assert created.status_code == 201, created.json()
    body = created.json()
    # The amount is the sum of the lines; the number the next of the series.
    assert (body["amount"], body["currency"], body["status"]) == ("309.97", "EUR", "open")
    assert body["number"].startswith("ORD-")
    assert body["lines"] == [
        {"product": "Widget", "quantity": "3.000", "unit_price": "19.99", "amount": "59.97"},
        {"product": "Setup", "quantity": "1.000", "unit_price": "250.00", "amount": "250.00"}]
    assert body["account"]["id"] == account.public_id and body["opportunity"]["id"] == opportunity.public_id
    order_id = body["id"]

    assert api.get(f"orders/{order_id}").json()["ordered_on"] == "2031-01-15"
    # Lines given in a change replace them all.
    changed = api.patch(f"orders/{order_id}", {"version": 1, "status": "fulfilled", "opportunity": "",
                                               "lines": [{"product": "Gadget", "quantity": "2", "unit_price": "5"}]})
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["status"], body["amount"], body["opportunity"], body["version"]) == ("fulfilled", "10.00", None, 2)
    assert [line["product"] for line in body["lines"]] == ["Gadget"]
    assert OrderLine.objects.count() == 1

    assert api.delete(f"orders/{order_id}?version=2").status_code == 204
    assert api.get(f"orders/{order_id}").status_code == 404
    restored = api.post(f"orders/{order_id}/restore")
    assert restored.status_code == 200 and restored.json()["amount"] == "10.00"


def test_an_order_without_lines_and_a_number_of_ones_own(api, account):
    body = api.post("orders", {"account": account.public_id, "amount": "99.5", "number": " PO-77 ",
                               "currency": "gbp"}).json()
    assert (body["number"], body["amount"], body["currency"], body["lines"]) == ("PO-77", "99.50", "GBP", [])
    again = api.post("orders", {"account": account.public_id, "amount": "1", "number": "PO-77"})
    assert again.status_code == 422 and "number" in again.json()["errors"]


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "-1"}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"currency": "ABC"}, "currency"),
    ({"status": "shipped"}, "status"),
    ({"ordered_on": "yesterday"}, "ordered_on"),
    ({"number": "N" * 41}, "number"),
    ({"account": "zzzzzzzzzzzzzzzz"}, "account"),
    ({"account": ""}, "account"),
    ({"opportunity": "zzzzzzzzzzzzzzzz"}, "opportunity"),
    ({"lines": [{"product": "A", "quantity": "2", "unit_price": "3", "amount": "7"}]}, "lines.0.amount"),
    ({"lines": [{"product": "A", "quantity": "2", "unit_price": "3"}], "amount": "7"}, "amount"),
    ({"lines": [{"product": "A", "quantity": "-2", "unit_price": "3"}]}, "lines.0.quantity"),
    ({"lines": [{"product": "A", "quantity": "1", "unit_price": "-3"}]}, "lines.0.unit_price"),
    ({"lines": [{"product": "", "quantity": "1", "unit_price": "3"}]}, "lines.0.product"),
    ({"lines": [{"product": "A", "quantity": "1.0001", "unit_price": "3"}]}, "lines.0.quantity"),
    ({"lines": [{"product": "A", "quantity": "1", "unit_price": "3", "colour": "red"}]}, "lines.0.colour"),
    ({"lines": [{"product": "A"}]}, "lines.0.quantity"),
    ({"lines": "many"}, "lines"),
    ({"deleted_at": None}, "deleted_at"),
])
def test_bad_input_is_refused_naming_the_field_and_saves_nothing(api, personas, account, change, field):
    existing = order(personas.owner, account)
    before = stored()
    created = api.post("orders", {"account": account.public_id, "amount": "6", **change})
    assert created.status_code == 422, created.json()
    assert field in created.json()["errors"] and created.json()["detail"]
    changed = api.patch(f"orders/{existing.public_id}", {"version": 1, **change})
    assert changed.status_code == 422 and field in changed.json()["errors"], changed.json()
    assert stored() == before


def test_an_order_needs_an_amount_or_lines(api, account):
    answer = api.post("orders", {"account": account.public_id})
    assert answer.status_code == 422 and "amount" in answer.json()["errors"]
    assert not Order.objects.exists()


def test_an_invisible_account_or_opportunity_is_no_such_one(api, personas, account):
    hidden = AccountFactory(name="Hidden Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    secret = services.opportunity_create(actor=personas.outsider, data={"name": "Secret deal", "account": hidden,
                                                                        "visibility": "private"})
    answer = api.post("orders", {"account": hidden.public_id, "amount": "1"})
    assert answer.json()["errors"] == {"account": ["No such account."]}
    answer = api.post("orders", {"account": account.public_id, "amount": "1", "opportunity": secret.public_id})
    assert answer.json()["errors"] == {"opportunity": ["No such opportunity."]}
    assert not Order.objects.exists()


def test_list_paging_and_filters(api, personas, account):
    other = AccountFactory(name="Other", owner=personas.teammate)
    for day in range(1, 6):
        order(personas.owner, account, ordered_on=dt.date(2031, 1, day), status="fulfilled" if day == 2 else "open")
    order(personas.teammate, other, ordered_on=dt.date(2031, 3, 1), number="PO-1")
    seen, cursor = [], None
    while True:
        body = api.get("orders", limit=4, **({"cursor": cursor} if cursor else {})).json()
        seen += body["items"]
        cursor = body["next"]
        if not cursor:
            break
    assert len({item["id"] for item in seen}) == 6
    assert [item["ordered_on"] for item in seen][:2] == ["2031-03-01", "2031-01-05"]  # newest first

    def numbers(**params) -> set[str]:
        answer = api.get("orders", **params)
        assert answer.status_code == 200, answer.json()
        return {item["number"] for item in answer.json()["items"]}

    assert numbers(account=other.public_id) == {"PO-1"}
    assert numbers(q="po-") == {"PO-1"}
    assert len(numbers(owner="me")) == 5
    assert len(numbers(status="fulfilled")) == 1
    assert len(numbers(**{"from": "2031-01-03", "to": "2031-01-04"})) == 2
    for params, field in (({"status": "x"}, "status"), ({"from": "x"}, "from"), ({"lines": "1"}, "lines"),
                          ({"ordering": "-status"}, "ordering")):
        answer = api.get("orders", **params)
        assert answer.status_code == 400 and field in answer.json()["errors"]


def test_someone_elses_order(personas, api_for, account):
    private = order(personas.owner, account, visibility="private")
    shared = order(personas.owner, account, visibility="everyone")
    outsider = api_for(personas.outsider)
    before = stored()
    assert outsider.get(f"orders/{private.public_id}").status_code == 404
    assert outsider.patch(f"orders/{shared.public_id}", {"version": 1, "status": "cancelled"}).status_code == 403
    assert outsider.delete(f"orders/{shared.public_id}").status_code == 403
    assert stored() == before
