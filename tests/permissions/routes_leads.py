"""The permission matrix entries of the sales area: leads. See routes.py for the form."""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Call, Route, linked_ids, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World


def lead_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The lead form as the page posts it (the record's own values, and one change, when editing)."""
    data = {"first_name": "Matrix", "last_name": "Lead", "company": "Matrix Co", "title": "Changed" if record else "",
            "email": "", "phone": "", "source": "Matrix", "status": "contacted" if record else "new",
            "account": "", "contact": "", "remarks": "",
            "owner": record.owner.public_id if record else world.user(actor).public_id,
            "visibility": record.visibility if record else "everyone"}
    if record is not None:
        data["version"] = str(record.version)
    return data


def convert_form(world: World, actor: str) -> dict[str, Any]:
    """Convert the lead into a new account, contact and opportunity (the page's defaults)."""
    return {"account_mode": "new", "contact_mode": "new", "create_opportunity": "on", "opportunity_name": "",
            "amount": "0", "currency": "EUR", "expected_close_on": "", "version": world.subject("lead").version}


ROUTES: list[Route] = [
    page("lead_list", Call("GET", table(EVERYONE, 200)), lists="lead", list_ids=linked_ids("/leads/")),
    page("lead_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=lead_form)),
    page("lead_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="lead"),
    page("lead_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: lead_form(w, a, w.subject("lead"))),
         subject="lead"),
    page("lead_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of("lead")),
         subject="lead"),
    page("lead_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject="deleted lead"),
    page("lead_convert", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=convert_form),
         subject="lead"),
]
