"""The permission matrix entries of the automation API. See routes.py for the form.

The subjects (world.py) are made by the manager, who manages team A: a task definition, an active rule
using it, a follow-up of the rule for `owner` (a task shared with team A), and an override that reroutes
the teammate's follow-ups to the owner. Everyone signed in reads definitions and rules; managers and
administrators write them. The definition is in use and the rule has made a follow-up, so deleting
either is refused (422) to those who may delete at all. Successes per role are tested in
tests/automation/test_api*.py.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Route, api, version_of
from tests.permissions.rules import EVERYONE, OK, PERSONAS, Table, table
from tests.permissions.world import World

DEFINITION, RULE, FOLLOW_UP, OVERRIDE = "task definition", "rule", "follow up", "override"

# Managers (of any team) and administrators set up automation; everyone else may only read.
MANAGERS: Table = {persona: (OK if persona in ("manager", "admin") else 403) for persona in PERSONAS}
# The follow-up's task is the owner's, shared with team A: read by the team, its manager, the administrator.
FOLLOW_UP_READERS: Table = {"owner": OK, "teammate": OK, "outsider": 404, "manager": OK, "viewer": OK, "admin": OK,
                            "marketer": OK}
# Its stage is set by its assignee (the owner), the manager of team A and the administrator.
FOLLOW_UP_HOLDERS: Table = {"owner": OK, "teammate": 403, "outsider": 404, "manager": OK, "viewer": 403,
                            "admin": OK, "marketer": 403}
# The override (the teammate away, the owner receiving): the two of them, team A's manager, the administrator.
OVERRIDE_READERS: Table = {"owner": OK, "teammate": OK, "outsider": 404, "manager": OK, "viewer": 404, "admin": OK,
                           "marketer": 404}
# Only the manager of the absent user and administrators reroute (and revert); the two users only see it.
OVERRIDE_MANAGERS: Table = {"owner": 403, "teammate": 403, "outsider": 404, "manager": OK, "viewer": 404,
                            "admin": OK, "marketer": 404}


def _rule_body(world: World, actor: str) -> dict[str, Any]:
    return {"name": "Matrix rule", "definition": world.subject(DEFINITION).public_id, "trigger": "created",
            "record_type": "contact", "assign_to": "owner", "due_in_days": 2}


def _override_body(world: World, actor: str) -> dict[str, Any]:
    return {"absent": world.user("teammate").public_id, "starts_on": "2027-03-01", "ends_on": "2027-03-12",
            "to_user": world.user("owner").public_id, "note": "Matrix leave"}


ROUTES: list[Route] = [
    # Task definitions
    api("GET /api/v1/task-definitions", table(EVERYONE, 200)),
    api("POST /api/v1/task-definitions", table(MANAGERS, 201), writes=True,
        body=lambda w, a: {"name": "Matrix definition", "contact_message": "Call them."}),
    api("GET /api/v1/task-definitions/{definition_id}", table(EVERYONE, 200), subject=DEFINITION),
    api("PATCH /api/v1/task-definitions/{definition_id}", table(MANAGERS, 200), subject=DEFINITION, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(DEFINITION).version, "instructions": "Matrix"}),
    # The rule uses it: refused (422) to those who may delete at all.
    api("DELETE /api/v1/task-definitions/{definition_id}", table(MANAGERS, 422), subject=DEFINITION, writes=True,
        version=True),

    # Rules
    api("GET /api/v1/rules", table(EVERYONE, 200)),
    api("POST /api/v1/rules", table(MANAGERS, 201), writes=True, body=_rule_body),
    api("GET /api/v1/rules/{rule_id}", table(EVERYONE, 200), subject=RULE),
    api("PATCH /api/v1/rules/{rule_id}", table(MANAGERS, 200), subject=RULE, writes=True, version=True,
        body=lambda w, a: {"version": w.subject(RULE).version, "due_in_days": 5}),
    # It made a follow-up: refused (422) to those who may delete at all (deactivate it instead).
    api("DELETE /api/v1/rules/{rule_id}", table(MANAGERS, 422), subject=RULE, writes=True, version=True),
    api("POST /api/v1/rules/{rule_id}/preview", table(MANAGERS, 200), subject=RULE),
    api("POST /api/v1/rules/{rule_id}/activate", table(MANAGERS, 200), subject=RULE, writes=True, version=True,
        body=version_of(RULE)),
    api("POST /api/v1/rules/{rule_id}/deactivate", table(MANAGERS, 200), subject=RULE, writes=True, version=True,
        body=version_of(RULE)),

    # Follow-ups. The version they carry is their task's (a follow-up has none of its own), so the matrix's
    # version game does not apply; tests/automation/test_api.py checks their 409s.
    api("GET /api/v1/follow-ups", table(EVERYONE, 200)),
    api("GET /api/v1/follow-ups/{follow_up_id}", table(FOLLOW_UP_READERS, 200), subject=FOLLOW_UP),
    api("POST /api/v1/follow-ups/{follow_up_id}/pending", table(FOLLOW_UP_HOLDERS, 200), subject=FOLLOW_UP,
        writes=True, body=lambda w, a: {"note": "Waiting for the matrix",
                                        "version": w.subject(FOLLOW_UP).task.version}),
    api("POST /api/v1/follow-ups/{follow_up_id}/complete", table(FOLLOW_UP_HOLDERS, 200), subject=FOLLOW_UP,
        writes=True, body=lambda w, a: {"version": w.subject(FOLLOW_UP).task.version}),

    # Overrides
    api("GET /api/v1/overrides", table(EVERYONE, 200)),
    # Rerouting the teammate (team A): the manager of team A and the administrator.
    api("POST /api/v1/overrides", table(MANAGERS, 201), writes=True, body=_override_body),
    api("GET /api/v1/overrides/{override_id}", table(OVERRIDE_READERS, 200), subject=OVERRIDE),
    api("POST /api/v1/overrides/{override_id}/revert", table(OVERRIDE_MANAGERS, 200), subject=OVERRIDE,
        writes=True),
]
