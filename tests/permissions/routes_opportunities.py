"""The permission matrix entries of the sales area: opportunities. See routes.py for the form."""

from __future__ import annotations

from typing import Any

from rapport.sales.models import PipelineStage
from tests.permissions.routes import Call, Route, linked_ids, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

OPPORTUNITY = "opportunity"


def opportunity_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The deal form as the page posts it: a new deal with the account of the cast's deal (everyone sees
    it), or the record's own values with a new name; no people (the subjects have none)."""
    subject = world.subject(OPPORTUNITY)
    data = {
        "name": "Renamed by the matrix" if record else "Matrix deal",
        "account": (record or subject).account.public_id,
        "stage": (record or subject).stage.public_id,
        "amount": str(record.amount) if record else "2500", "currency": "EUR",
        "probability": str(record.probability) if record else "",
        "expected_close_on": "2027-03-31", "source": "Matrix", "next_step": "", "outcome_reason": "",
        "description": "",
        "owner": record.owner.public_id if record else world.user(actor).public_id,
        "visibility": record.visibility if record else "everyone",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
    }
    if record is not None:
        data["version"] = str(record.version)
    return data


def move_body(world: World, actor: str) -> dict[str, Any]:
    """Dropping the deal (in Prospecting) on the Proposal column."""
    return {"stage": PipelineStage.objects.get(pipeline__is_default=True, name="Proposal").public_id,
            "version": world.subject(OPPORTUNITY).version, "next": "/opportunities/board/"}


ROUTES: list[Route] = [
    page("opportunity_list", Call("GET", table(EVERYONE, 200)), lists=OPPORTUNITY,
         list_ids=linked_ids("/opportunities/")),
    page("opportunity_board", Call("GET", table(EVERYONE, 200)), lists=OPPORTUNITY,
         list_ids=linked_ids("/opportunities/")),
    page("opportunity_forecast", Call("GET", table(EVERYONE, 200))),
    page("opportunity_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=opportunity_form)),
    page("opportunity_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=OPPORTUNITY),
    page("opportunity_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: opportunity_form(w, a, w.subject(OPPORTUNITY))),
         subject=OPPORTUNITY),
    page("opportunity_move", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=move_body),
         subject=OPPORTUNITY),
    page("opportunity_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(OPPORTUNITY)),
         subject=OPPORTUNITY),
    page("opportunity_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True),
         subject=f"deleted {OPPORTUNITY}"),
    page("record_opportunities", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
]
