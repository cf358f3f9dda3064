"""The permission matrix entries of the sales area: sales_api. See routes.py for the form."""

from __future__ import annotations

from typing import Any

from rapport.sales.models import CommunicationType, PipelineStage
from tests.permissions.routes import Route, api, api_item_ids, version_of
from tests.permissions.rules import (
    ADMINS_ONLY,
    CHANGE_OWNERS_RECORD,
    CREATE,
    EVERYONE,
    SEE_OWNERS_RECORD,
    table,
)
from tests.permissions.world import World

LEAD, OPPORTUNITY, ORDER = "lead", "opportunity", "order"


def _account_id(world: World) -> str:
    """An account everyone sees (the everyone-visibility subject): what is tested is the call, not the link."""
    return world.cast.subjects["account", "everyone"].public_id


def _stage_id(name: str) -> str:
    return PipelineStage.objects.get(name=name).public_id


def _communication(world: World, actor: str) -> dict[str, Any]:
    return {"account": _account_id(world), "activity_type": "task", "due_on": "2027-01-05",
            "communication_type": CommunicationType.objects.get(name="Quarterly review").public_id}


ROUTES: list[Route] = [
    # Leads
    api("GET /api/v1/leads", table(EVERYONE, 200), lists=LEAD, list_ids=api_item_ids),
    api("POST /api/v1/leads", table(CREATE, 201), writes=True,
        body=lambda w, a: {"last_name": "Matrix", "company": "Matrix Leads"}),
    api("GET /api/v1/leads/{lead_id}", table(SEE_OWNERS_RECORD, 200), subject=LEAD),
    api("PATCH /api/v1/leads/{lead_id}", table(CHANGE_OWNERS_RECORD, 200), subject=LEAD, writes=True, version=True,
        body=lambda w, a: {"version": w.subject(LEAD).version, "status": "contacted"}),
    api("DELETE /api/v1/leads/{lead_id}", table(CHANGE_OWNERS_RECORD, 204), subject=LEAD, writes=True,
        version=True),
    api("POST /api/v1/leads/{lead_id}/restore", table(CHANGE_OWNERS_RECORD, 200), subject=f"deleted {LEAD}",
        writes=True),
    api("POST /api/v1/leads/{lead_id}/convert", table(CHANGE_OWNERS_RECORD, 200), subject=LEAD, writes=True,
        version=True, body=version_of(LEAD)),

    # Opportunities, their forecast and their stages
    api("GET /api/v1/opportunities", table(EVERYONE, 200), lists=OPPORTUNITY, list_ids=api_item_ids),
    api("POST /api/v1/opportunities", table(CREATE, 201), writes=True,
        body=lambda w, a: {"name": "Matrix deal", "account": _account_id(w), "amount": "500.00"}),
    api("GET /api/v1/opportunities/forecast", table(EVERYONE, 200)),
    api("GET /api/v1/opportunities/{opportunity_id}", table(SEE_OWNERS_RECORD, 200), subject=OPPORTUNITY),
    api("PATCH /api/v1/opportunities/{opportunity_id}", table(CHANGE_OWNERS_RECORD, 200), subject=OPPORTUNITY,
        writes=True, version=True,
        body=lambda w, a: {"version": w.subject(OPPORTUNITY).version, "next_step": "Matrix call"}),
    api("DELETE /api/v1/opportunities/{opportunity_id}", table(CHANGE_OWNERS_RECORD, 204), subject=OPPORTUNITY,
        writes=True, version=True),
    api("POST /api/v1/opportunities/{opportunity_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject=f"deleted {OPPORTUNITY}", writes=True),
    api("POST /api/v1/opportunities/{opportunity_id}/move", table(CHANGE_OWNERS_RECORD, 200), subject=OPPORTUNITY,
        writes=True, version=True,
        body=lambda w, a: {"stage": _stage_id("Proposal"), "version": w.subject(OPPORTUNITY).version}),

    # Pipeline stages: every signed-in user reads them, administrators change them
    api("GET /api/v1/pipeline-stages", table(EVERYONE, 200)),
    api("POST /api/v1/pipeline-stages", table(ADMINS_ONLY, 201), writes=True,
        body=lambda w, a: {"name": "Matrix stage", "probability": 70}),
    api("GET /api/v1/pipeline-stages/{stage_id}", table(EVERYONE, 200), subject="stage"),
    api("PATCH /api/v1/pipeline-stages/{stage_id}", table(ADMINS_ONLY, 200), subject="stage", writes=True,
        body=lambda w, a: {"probability": 65}),
    api("DELETE /api/v1/pipeline-stages/{stage_id}", table(ADMINS_ONLY, 204), subject="stage", writes=True),

    # Orders
    api("GET /api/v1/orders", table(EVERYONE, 200), lists=ORDER, list_ids=api_item_ids),
    api("POST /api/v1/orders", table(CREATE, 201), writes=True,
        body=lambda w, a: {"account": _account_id(w),
                           "lines": [{"product": "Matrix widget", "quantity": "3", "unit_price": "10.00"}]}),
    api("GET /api/v1/orders/{order_id}", table(SEE_OWNERS_RECORD, 200), subject=ORDER),
    api("PATCH /api/v1/orders/{order_id}", table(CHANGE_OWNERS_RECORD, 200), subject=ORDER, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(ORDER).version, "status": "fulfilled"}),
    api("DELETE /api/v1/orders/{order_id}", table(CHANGE_OWNERS_RECORD, 204), subject=ORDER, writes=True,
        version=True),
    api("POST /api/v1/orders/{order_id}/restore", table(CHANGE_OWNERS_RECORD, 200), subject=f"deleted {ORDER}",
        writes=True),

    # Workflow definitions: every signed-in user reads them, administrators change them
    api("GET /api/v1/workflow-definitions", table(EVERYONE, 200)),
    api("POST /api/v1/workflow-definitions", table(ADMINS_ONLY, 201), writes=True,
        body=lambda w, a: {"name": "Matrix workflow", "types": [{"name": "Call", "children": [{"name": "Cold"}]}]}),
    api("GET /api/v1/workflow-definitions/{workflow_id}", table(EVERYONE, 200), subject="workflow"),
    api("PATCH /api/v1/workflow-definitions/{workflow_id}", table(ADMINS_ONLY, 200), subject="workflow",
        writes=True, body=lambda w, a: {"description": "Changed by the matrix"}),
    api("DELETE /api/v1/workflow-definitions/{workflow_id}", table(ADMINS_ONLY, 204), subject="workflow",
        writes=True),

    # Communications: a task or event filed under a workflow branch, with an account everyone sees.
    # What the list carries is checked by tests/sales/test_api_communications.py.
    api("GET /api/v1/communications", table(EVERYONE, 200)),
    api("POST /api/v1/communications", table(CREATE, 201), writes=True, body=_communication),
]
