"""The permission matrix entries of the sales area: workflows (the Communications pane of an account, the
pipeline and workflow settings) and the relationship cycle of accounts. See routes.py for the form."""

from __future__ import annotations

from typing import Any

from rapport.sales.forms.workflows import tree_outline
from rapport.sales.models import PipelineStage
from rapport.sales.selectors import workflow_tree
from tests.permissions.routes import Call, Route, page
from tests.permissions.rules import ADMINS_ONLY, EVERYONE, OK, SEE_OWNERS_RECORD, Table, everyone, table
from tests.permissions.world import World

# Registering a communication with an account writes an activity about it: whoever sees the account and
# may create activities (every role but read-only).
#                                  private  team   everyone
COMMUNICATE_WITH_OWNERS_ACCOUNT: Table = {
    "owner": (OK, OK, OK),
    "teammate": (404, OK, OK),
    "outsider": (404, 404, OK),
    "manager": (OK, OK, OK),
    "viewer": (404, 403, 403),
    "admin": (OK, OK, OK),
    "marketer": (404, OK, OK),
}


def communication_form(world: World, actor: str) -> dict[str, Any]:
    """A meeting registered under Customer Relationship → Meeting → Quarterly review, as the pane posts it."""
    branch = world.subject("workflow").types.get(name="Quarterly review")
    return {"contact": "", "communication_type": branch.public_id, "kind": "meeting", "date": "2027-01-05",
            "time": "10:00", "subject": "", "notes": "Matrix meeting"}


def new_stage_form(world: World, actor: str) -> dict[str, Any]:
    pipeline = world.subject("stage").pipeline
    return {"pipeline": pipeline.public_id, "name": "Matrix stage", "probability": "33", "outcome": "open",
            "place": "2", "is_active": "on"}


def stage_form(world: World, actor: str) -> dict[str, Any]:
    """The stage's own values with another probability and place."""
    stage: PipelineStage = world.subject("stage")
    return {"name": stage.name, "probability": str((stage.probability + 7) % 100), "outcome": stage.outcome,
            "place": "1", "is_active": "on"}


def workflow_form(world: World, actor: str, *, new: bool = False) -> dict[str, Any]:
    """A new workflow, or the subject's with another description and its tree as it is."""
    if new:
        return {"name": "Matrix workflow", "description": "", "is_active": "on", "outline": "Visit\n  Follow-up"}
    workflow = world.subject("workflow")
    return {"name": workflow.name, "description": "Changed by the matrix", "position": str(workflow.position),
            "is_active": "on", "outline": tree_outline(workflow_tree(workflow))}


ROUTES: list[Route] = [
    # The Communications pane of an account page: read by whoever sees the account.
    page("record_communications", Call("GET", table(SEE_OWNERS_RECORD, 200)),
         Call("POST", table(COMMUNICATE_WITH_OWNERS_ACCOUNT, 302), writes=True, body=communication_form),
         subject="account", arg="ref"),

    # Pipeline stages and workflow definitions: configuration only administrators change.
    page("settings_pipeline", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=new_stage_form)),
    page("settings_stage_edit", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=stage_form),
         subject="stage"),
    page("settings_workflows", Call("GET", table(ADMINS_ONLY, 200))),
    page("settings_workflow_create", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=lambda w, a: workflow_form(w, a, new=True))),
    page("settings_workflow_edit", Call("GET", table(ADMINS_ONLY, 200)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True, body=workflow_form),
         subject="workflow"),
    page("settings_workflow_delete", Call("GET", everyone(405)),
         Call("POST", table(ADMINS_ONLY, 302), writes=True),
         subject="workflow"),

    # The relationship cycle: counts of the accounts each user may see.
    page("account_stages", Call("GET", table(EVERYONE, 200))),
]
