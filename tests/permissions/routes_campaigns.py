"""The permission matrix entries of distribution lists and campaigns: pages and API. See routes.py for the form.

Lists and campaigns are read as any record of their owner's (SEE_OWNERS_RECORD); changing them, their people,
starting and cancelling a campaign take the update right on the owner's records, deleting the delete right
(CHANGE_OWNERS_RECORD: the marketer, who may not delete, is refused as the sales teammate is). "Add to list" on
a contact's page is about the contact (404 where it is hidden) and changes the owner's list (403 for those who
may not). The unsubscribe page is public: its random token is the credential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

LIST = "distribution list"
FILLED = "filled distribution list"
CAMPAIGN = "campaign"
SENDING = "sending campaign"


def _everyone_contact(world: World) -> Any:
    return world.cast.subjects["contact", "everyone"]


@dataclass(frozen=True)
class MemberRoute(Route):
    """DELETE /distribution-lists/{list_id}/members/{contact_id}: the list subject (or `value` in its place)
    and the contact on it."""

    def url(self, world: World, *, value: str | None = None) -> str:
        list_id = value if value is not None else world.subject(self.subject).public_id
        return re.sub(r"\{contact_id\}", _everyone_contact(world).public_id,
                      re.sub(r"\{list_id\}", list_id, self.path))


def list_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    data = {"name": "Renamed by the matrix" if record else "Matrix list", "category": "Matrix",
            "kind": record.kind if record else "static", "description": "",
            "owner": record.owner.public_id if record else world.user(actor).public_id,
            "visibility": record.visibility if record else "everyone",
            "filter_q": "", "filter_account": "", "filter_owner": "", "filter_attrs": ""}
    if record is not None:
        data["version"] = str(record.version)
    return data


def campaign_form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    data = {"name": "Renamed by the matrix" if record else "Matrix campaign",
            "distribution_list": (record.distribution_list if record else world.subject("open distribution list"))
            .public_id,
            "template": world.subject("campaign template").public_id, "rate_per_minute": "60", "from_email": "",
            "owner": record.owner.public_id if record else world.user(actor).public_id,
            "visibility": record.visibility if record else "everyone"}
    if record is not None:
        data["version"] = str(record.version)
    return data


def _add_contact(world: World, actor: str) -> dict[str, Any]:
    return {"contact": _everyone_contact(world).public_id}


PAGES: list[Route] = [
    page("distribution_list_list", Call("GET", table(EVERYONE, 200))),
    page("distribution_list_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=list_form)),
    page("distribution_list_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=LIST),
    page("distribution_list_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: list_form(w, a, w.subject(LIST))),
         subject=LIST),
    page("distribution_list_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(LIST)),
         subject=LIST),
    page("distribution_list_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {LIST}"),
    page("distribution_list_member_add", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, body=_add_contact), subject=LIST),
    page("distribution_list_member_remove", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, body=_add_contact), subject=FILLED),
    # The panel of a contact's page: read as the contact; "Add to list" puts the contact on the owner's list.
    page("record_distribution_lists", Call("GET", table(SEE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True,
              body=lambda w, a: {"distribution_list": w.subject("open distribution list").public_id}),
         subject="contact", arg="ref"),
    page("campaign_list", Call("GET", table(EVERYONE, 200))),
    page("campaign_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=campaign_form)),
    page("campaign_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=CAMPAIGN),
    page("campaign_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True,
              body=lambda w, a: campaign_form(w, a, w.subject(CAMPAIGN))),
         subject=CAMPAIGN),
    page("campaign_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(CAMPAIGN)),
         subject=CAMPAIGN),
    page("campaign_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {CAMPAIGN}"),
    page("campaign_start", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(CAMPAIGN)),
         subject=CAMPAIGN),
    page("campaign_cancel", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(SENDING)),
         subject=SENDING),
    # Without a contact chosen, the preview is for the first person on the list (the cast's shared contact).
    page("campaign_preview", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=CAMPAIGN),
    # Public: the link in every campaign message. The recipient has unsubscribed already: nothing changes.
    page("campaign_unsubscribe", Call("GET", everyone(200)), Call("POST", everyone(200)),
         subject="campaign recipient", arg="token", anonymous={"GET": 200, "POST": 200}),
]

API: list[Route] = [
    api("GET /api/v1/distribution-lists", table(EVERYONE, 200)),
    api("POST /api/v1/distribution-lists", table(CREATE, 201), writes=True, body=lambda w, a: {"name": "Matrix"}),
    api("GET /api/v1/distribution-lists/{list_id}", table(SEE_OWNERS_RECORD, 200), subject=LIST),
    api("PATCH /api/v1/distribution-lists/{list_id}", table(CHANGE_OWNERS_RECORD, 200), subject=LIST,
        writes=True, version=True, body=lambda w, a: {"version": w.subject(LIST).version, "description": "Matrix"}),
    api("DELETE /api/v1/distribution-lists/{list_id}", table(CHANGE_OWNERS_RECORD, 204), subject=LIST,
        writes=True, version=True),
    api("POST /api/v1/distribution-lists/{list_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject=f"deleted {LIST}", writes=True),
    api("GET /api/v1/distribution-lists/{list_id}/members", table(SEE_OWNERS_RECORD, 200), subject=FILLED),
    api("POST /api/v1/distribution-lists/{list_id}/members", table(CHANGE_OWNERS_RECORD, 200), subject=LIST,
        writes=True, body=lambda w, a: {"contacts": [_everyone_contact(w).public_id]}),
    MemberRoute(key="DELETE /api/v1/distribution-lists/{list_id}/members/{contact_id}",
                calls=(Call("DELETE", table(CHANGE_OWNERS_RECORD, 204), writes=True),), subject=FILLED),
    api("GET /api/v1/campaigns", table(EVERYONE, 200)),
    api("POST /api/v1/campaigns", table(CREATE, 201), writes=True,
        body=lambda w, a: {"name": "Matrix", "distribution_list": w.subject("open distribution list").public_id,
                           "template": w.subject("campaign template").public_id}),
    api("GET /api/v1/campaigns/{campaign_id}", table(SEE_OWNERS_RECORD, 200), subject=CAMPAIGN),
    api("PATCH /api/v1/campaigns/{campaign_id}", table(CHANGE_OWNERS_RECORD, 200), subject=CAMPAIGN,
        writes=True, version=True, body=lambda w, a: {"version": w.subject(CAMPAIGN).version, "name": "Matrix"}),
    api("DELETE /api/v1/campaigns/{campaign_id}", table(CHANGE_OWNERS_RECORD, 204), subject=CAMPAIGN,
        writes=True, version=True),
    api("POST /api/v1/campaigns/{campaign_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject=f"deleted {CAMPAIGN}", writes=True),
    api("POST /api/v1/campaigns/{campaign_id}/start", table(CHANGE_OWNERS_RECORD, 200), subject=CAMPAIGN,
        writes=True, version=True, body=version_of(CAMPAIGN)),
    api("POST /api/v1/campaigns/{campaign_id}/cancel", table(CHANGE_OWNERS_RECORD, 200), subject=SENDING,
        writes=True, version=True, body=version_of(SENDING)),
    api("GET /api/v1/campaigns/{campaign_id}/recipients", table(SEE_OWNERS_RECORD, 200), subject=SENDING),
    api("POST /api/v1/campaigns/{campaign_id}/preview", table(SEE_OWNERS_RECORD, 200), subject=CAMPAIGN,
        body=lambda w, a: {"contact": _everyone_contact(w).public_id}),
]

ROUTES: list[Route] = [*PAGES, *API]
