"""The permission matrix entries of the sales area: orders. See routes.py for the form."""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Call, Route, linked_ids, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World


def _lines(rows: list[Any]) -> dict[str, Any]:
    """The lines formset as the page posts it: the given (product, quantity, unit price) rows."""
    data: dict[str, Any] = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": str(len(rows)),
                            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "500"}
    for index, (product, quantity, price) in enumerate(rows):
        data.update({f"lines-{index}-product": product, f"lines-{index}-quantity": str(quantity),
                     f"lines-{index}-unit_price": str(price), f"lines-{index}-amount": ""})
    return data


def order_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The order form as the page posts it: a new order for an account everyone sees, or the record's own
    values (lines unchanged) with a new description."""
    if record is None:
        return {"account": world.subject("account").public_id, "number": "", "ordered_on": "2027-01-05",
                "status": "open", "currency": "EUR", "amount": "", "opportunity": "", "description": "",
                "owner": world.user(actor).public_id, "visibility": "everyone",
                **_lines([("Matrix widget", 2, 50)])}
    return {"account": record.account.public_id, "number": record.number, "ordered_on": record.ordered_on.isoformat(),
            "status": record.status, "currency": record.currency, "amount": "", "opportunity": "",
            "description": "Changed by the matrix", "owner": record.owner.public_id,
            "visibility": record.visibility, "version": str(record.version),
            **_lines([(line.product, line.quantity, line.unit_price) for line in record.lines.all()])}


ROUTES: list[Route] = [
    page("order_list", Call("GET", table(EVERYONE, 200)), lists="order", list_ids=linked_ids("/orders/")),
    page("order_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=order_form)),
    page("order_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="order"),
    page("order_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: order_form(w, a, w.subject("order"))),
         subject="order"),
    page("order_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of("order")),
         subject="order"),
    page("order_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject="deleted order"),
    page("record_orders", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
]
