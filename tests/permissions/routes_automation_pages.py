"""The permission matrix entries of the automation pages. See routes.py for the form.

Task definitions, rules and overrides are set up by managers and administrators (everyone else: 403). The
follow-up subject is `owner`'s task, shared with the team: whoever sees the task sees the follow-up (the
outsider, in team B, gets 404); its assignee, and who may change the task (the manager of team A, the
administrator), set its stage. The status dashboard is everyone's: each sees the counts they may.

The delete buttons are refused for the subjects (the definition is used by the rule, the rule made a
follow-up), so they change nothing: they are not marked as writes, which the matrix would expect to change
the database; tests/automation/test_pages.py deletes unused ones.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Call, Route, page
from tests.permissions.rules import EVERYONE, OK, PERSONAS, Table, everyone, table
from tests.permissions.world import World

MANAGERS: Table = {persona: (OK if persona in ("manager", "admin") else 403) for persona in PERSONAS}
# The follow-up's task: the owner's, shared with team A (the viewer and the marketer are in team A).
SEE_FOLLOW_UP: Table = {"owner": OK, "teammate": OK, "outsider": 404, "manager": OK, "viewer": OK, "admin": OK,
                        "marketer": OK}
SET_FOLLOW_UP: Table = {"owner": OK, "teammate": 403, "outsider": 404, "manager": OK, "viewer": 403, "admin": OK,
                        "marketer": 403}


def definition_form(world: World, actor: str, *, new: bool = False) -> dict[str, Any]:
    if new:
        return {"name": "Matrix definition", "contact_message": "Call them.", "pending_message": "",
                "complete_message": "", "instructions": "", "is_active": "on"}
    definition = world.subject("task definition")
    return {"name": definition.name, "contact_message": "Changed by the matrix", "pending_message": "",
            "complete_message": "", "instructions": "", "is_active": "on", "version": str(definition.version)}


def rule_form(world: World, actor: str, *, new: bool = False) -> dict[str, Any]:
    rule = world.subject("rule")
    data = {"name": "Matrix rule" if new else rule.name, "description": "Changed by the matrix",
            "definition": rule.definition.public_id, "trigger": "created", "record_type": "account",
            "time_zone": "UTC", "due_in_days": "2", "assign_to": "owner"}
    if not new:
        data["version"] = str(rule.version)
    return data


def stage_form(world: World, actor: str) -> dict[str, Any]:
    follow_up = world.subject("follow up")
    return {"status": "completed", "note": "", "version": str(follow_up.task.version)}


def override_form(world: World, actor: str) -> dict[str, Any]:
    return {"absent": world.user("teammate").public_id, "starts_on": "2030-03-01", "ends_on": "2030-03-10",
            "to_user": world.user("owner").public_id, "to_team": "", "note": "Matrix"}


ROUTES: list[Route] = [
    page("definition_list", Call("GET", table(MANAGERS, 200))),
    page("definition_new", Call("GET", table(MANAGERS, 200)),
         Call("POST", table(MANAGERS, 302), writes=True, body=lambda w, a: definition_form(w, a, new=True))),
    page("definition_edit", Call("GET", table(MANAGERS, 200)),
         Call("POST", table(MANAGERS, 302), writes=True, version=True, body=definition_form),
         subject="task definition"),
    page("definition_delete", Call("GET", everyone(405)), Call("POST", table(MANAGERS, 302)),
         subject="task definition"),

    page("rule_list", Call("GET", table(MANAGERS, 200))),
    page("rule_new", Call("GET", table(MANAGERS, 200)),
         Call("POST", table(MANAGERS, 302), writes=True, body=lambda w, a: rule_form(w, a, new=True))),
    page("rule_detail", Call("GET", table(MANAGERS, 200)), subject="rule"),
    page("rule_edit", Call("GET", table(MANAGERS, 200)),
         Call("POST", table(MANAGERS, 302), writes=True, version=True, body=rule_form), subject="rule"),
    page("rule_preview", Call("GET", table(MANAGERS, 200)), subject="rule"),
    page("rule_activate", Call("GET", everyone(405)), Call("POST", table(MANAGERS, 302), writes=True),
         subject="rule"),
    page("rule_deactivate", Call("GET", everyone(405)), Call("POST", table(MANAGERS, 302), writes=True),
         subject="rule"),
    page("rule_delete", Call("GET", everyone(405)), Call("POST", table(MANAGERS, 302)), subject="rule"),

    page("follow_up_detail", Call("GET", table(SEE_FOLLOW_UP, 200)),
         Call("POST", table(SET_FOLLOW_UP, 302), writes=True, body=stage_form), subject="follow up"),
    page("follow_up_dashboard", Call("GET", table(EVERYONE, 200))),

    page("override_list", Call("GET", table(MANAGERS, 200))),
    page("override_new", Call("GET", table(MANAGERS, 200)),
         Call("POST", table(MANAGERS, 302), writes=True, body=override_form)),
    page("override_revert", Call("GET", everyone(405)), Call("POST", table(MANAGERS, 302), writes=True),
         subject="override"),
]
