"""The permission matrix entries of the support API. See routes.py for the form.

The subject is an item of `owner`'s that nobody holds and no request awaits: those who may act get the
conflict the action meets on it (nothing to reassign, no request to answer: 409) and nothing changes;
the actions' successes, per role, are tested in tests/support/test_api_actions.py.
"""

from __future__ import annotations

from typing import Any

from rapport.support.models import PrivateCopy
from tests.permissions.routes import Route, api, api_item_ids, version_of
from tests.permissions.rules import (
    CHANGE_OWNERS_RECORD,
    CREATE,
    EVERYONE,
    OWNER_ONLY,
    SEE_OWNERS_RECORD,
    table,
)
from tests.permissions.world import World

ITEM = "support item"


def _assign(world: World, actor: str) -> dict[str, Any]:
    return {"assignee": world.user("teammate").public_id, "message": "Matrix request",
            "version": world.subject(ITEM).version}


def _private_copy(world: World, actor: str) -> dict[str, Any]:
    copy = PrivateCopy.objects.select_related("task").get(item=world.subject(ITEM), holder=world.user("owner"))
    return {"version": copy.task.version, "due_on": "2027-02-01", "notes": "Matrix notes"}


ROUTES: list[Route] = [
    api("GET /api/v1/support-items", table(EVERYONE, 200), lists="support item", list_ids=api_item_ids),
    api("POST /api/v1/support-items", table(CREATE, 201), writes=True, body=lambda w, a: {"subject": "Matrix case"}),
    api("GET /api/v1/support-items/{item_id}", table(SEE_OWNERS_RECORD, 200), subject=ITEM),
    api("PATCH /api/v1/support-items/{item_id}", table(CHANGE_OWNERS_RECORD, 200), subject=ITEM, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(ITEM).version, "priority": "high"}),
    api("DELETE /api/v1/support-items/{item_id}", table(CHANGE_OWNERS_RECORD, 204), subject=ITEM, writes=True,
        version=True),
    api("POST /api/v1/support-items/{item_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject=f"deleted {ITEM}", writes=True),
    # Assigning: the owner, the manager of the owner's team, administrators.
    api("POST /api/v1/support-items/{item_id}/assign", table(CHANGE_OWNERS_RECORD, 200), subject=ITEM,
        writes=True, version=True, body=_assign),
    # The same people reassign; nobody holds the subject, so they meet 409 (assign it instead).
    api("POST /api/v1/support-items/{item_id}/reassign", table(CHANGE_OWNERS_RECORD, 409), subject=ITEM,
        writes=True, version=True, body=_assign),
    # Only the one asked answers; no request awaits on the subject: 409 to whoever sees it.
    api("POST /api/v1/support-items/{item_id}/accept", table(SEE_OWNERS_RECORD, 409), subject=ITEM, writes=True,
        version=True, body=version_of(ITEM)),
    api("POST /api/v1/support-items/{item_id}/decline", table(SEE_OWNERS_RECORD, 409), subject=ITEM, writes=True,
        version=True, body=lambda w, a: {"reason": "Matrix reason", "version": w.subject(ITEM).version}),
    # A private copy is its holder's alone: the owner holds one; to anyone else it does not exist.
    api("PATCH /api/v1/support-items/{item_id}/private-copy", table(OWNER_ONLY, 200), subject=ITEM, writes=True,
        version=True, body=_private_copy),
]
