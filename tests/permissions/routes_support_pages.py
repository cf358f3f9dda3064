"""The permission matrix entries of the support pages. See routes.py for the form.

The item subject is `owner`'s, nobody holds it and no request awaits: those who may assign it do (302),
the rest see 403 where they see it; accepting or declining meets "nobody is being asked" (409) for whoever
sees it. The email links name a request to `teammate`: only they may open them; everyone else, 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from tests.permissions.routes import Call, Route, page, version_of
from tests.permissions.rules import (
    CHANGE_OWNERS_RECORD,
    CREATE,
    EVERYONE,
    OWNER_ONLY,
    PERSONAS,
    SEE_OWNERS_RECORD,
    everyone,
    table,
)
from tests.permissions.world import World

ITEM = "support item"
REQUEST = "support request to teammate"


@dataclass(frozen=True)
class AnswerRoute(Route):
    """support_answer takes the link's token and an action."""

    action: str = "accept"

    def url(self, world: World, *, value: str | None = None) -> str:
        from rapport.support.services import link_token

        if value is None:
            value = link_token(world.subject(self.subject))
        return reverse(self.key, args=[value, self.action])


def item_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    """The item form as the page posts it: a new item, or the record's own values with a new subject."""
    if record is None:
        return {"subject": "Matrix case", "category": "", "priority": "normal", "due_on": "", "account": "",
                "contact": "", "opportunity": "", "visibility": "everyone", "description": "", "assign_to": "",
                "message": ""}
    return {"subject": "Renamed by the matrix", "category": "", "priority": record.priority, "status": record.status,
            "due_on": "", "account": record.account.public_id if record.account else "", "contact": "",
            "opportunity": "", "visibility": record.visibility, "description": record.description,
            "version": str(record.version)}


def _assign(world: World, actor: str) -> dict[str, Any]:
    return {"assignee": world.user("teammate").public_id, "message": "Matrix request",
            "version": world.subject(ITEM).version}


def _copy(world: World, actor: str) -> dict[str, Any]:
    from rapport.support.models import PrivateCopy

    copy = PrivateCopy.objects.select_related("task").get(item=world.subject(ITEM), holder=world.user("owner"))
    return {"copy-due_on": "2027-02-01", "copy-reminder_minutes": "", "copy-status": "open",
            "copy-notes": "Matrix notes", "copy-version": str(copy.task.version)}


RECIPIENT_ONLY = {persona: (200 if persona == "teammate" else 403) for persona in PERSONAS}
RECIPIENT_ANSWERS = {persona: (302 if persona == "teammate" else 403) for persona in PERSONAS}

ROUTES: list[Route] = [
    page("support_list", Call("GET", table(EVERYONE, 200))),
    page("support_new", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=item_form)),
    page("support_awaiting", Call("GET", table(EVERYONE, 200))),
    page("record_support_items", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
    page("support_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=ITEM),
    page("support_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: item_form(w, a, w.subject(ITEM))),
         subject=ITEM),
    page("support_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(ITEM)),
         subject=ITEM),
    page("support_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {ITEM}"),
    # One's own copy: the owner holds one; to anyone else there is none (404).
    page("support_copy_edit", Call("GET", everyone(405)),
         Call("POST", table(OWNER_ONLY, 302), writes=True, body=_copy), subject=ITEM),
    # Assigning: the owner, the manager of the owner's team, administrators.
    page("support_assign", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_assign), subject=ITEM),
    page("support_accept", Call("GET", everyone(405)),
         Call("POST", table(SEE_OWNERS_RECORD, 409), writes=True), subject=ITEM),
    page("support_decline", Call("GET", everyone(405)),
         Call("POST", table(SEE_OWNERS_RECORD, 409), writes=True, body=lambda w, a: {"reason": "Matrix reason"}),
         subject=ITEM),
    # The email's links: the recipient's alone. A GET shows the form and changes nothing.
    AnswerRoute(key="support_answer", subject=REQUEST, calls=(
        Call("GET", RECIPIENT_ONLY),
        Call("POST", RECIPIENT_ANSWERS, writes=True),
    )),
]
