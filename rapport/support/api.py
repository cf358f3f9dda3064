"""The support API: support items, the request cycle that assigns them (assign, reassign, accept,
decline) and the caller's own private copy.

Handlers parse, call a selector or service, answer. Each action answers the item as GET does. Records
a body names by public id (an account, a contact, an opportunity) are found through the caller's
visible_to: one they may not see is "No such ..." on that field, exactly as one that does not exist.
An item shows its requests (the chain: who asked whom, and how each was answered) and the caller's
own private copy, never anyone else's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.activities.models import ActivityStatus
from rapport.core.access import record_visible
from rapport.core.apitools import InputSchema, ListParams, api_page, ref_out, utc_time
from rapport.core.errors import StaleVersion
from rapport.core.models import Action, User, Visibility
from rapport.core.selectors import user_get, written
from rapport.sales import selectors as sales_selectors
from rapport.support import selectors, services
from rapport.support.filters import SUPPORT_ORDERINGS
from rapport.support.models import (
    PrivateCopy,
    RequestState,
    SupportItem,
    SupportPriority,
    SupportRequest,
    SupportSource,
    SupportStatus,
)

router = Router(tags=["support"])

VERSION_HELP = "The version you read; a stale one answers 409"
# An item without a due date sorts after every dated one (on SQLite and PostgreSQL alike), and a
# cursor never carries a null, which keyset pagination cannot compare with.



def _user(obj: Any) -> dict[str, str] | None:
    return {"id": obj.public_id, "name": obj.display_name} if obj is not None else None


def _seen(context: dict[str, Any], obj: Any) -> dict[str, str] | None:
    """A linked record, named only to a reader who may see it."""
    return ref_out(obj) if record_visible(context["request"].user, obj) else None



# --- Schemas out -----------------------------------------------------------------------------------


class Ref(Schema):
    id: str
    name: str


class PendingOut(Schema):
    id: str
    recipient: Ref = Field(..., description="Who is asked to handle the item")
    requested_by: Ref
    created_at: dt.datetime
    message: str

    @staticmethod
    def resolve_id(obj: SupportRequest) -> str:
        return obj.public_id

    @staticmethod
    def resolve_recipient(obj: SupportRequest) -> dict[str, str] | None:
        return _user(obj.recipient)

    @staticmethod
    def resolve_requested_by(obj: SupportRequest) -> dict[str, str] | None:
        return _user(obj.requested_by)

    @staticmethod
    def resolve_created_at(obj: SupportRequest) -> dt.datetime | None:
        return utc_time(obj.created_at)


class RequestOut(PendingOut):
    state: str = Field(..., description="pending, accepted, declined, passed_on or withdrawn")
    reason: str = Field(..., description="Why it was declined")
    answered_at: dt.datetime | None
    answered_by: Ref | None

    @staticmethod
    def resolve_answered_at(obj: SupportRequest) -> dt.datetime | None:
        return utc_time(obj.answered_at)

    @staticmethod
    def resolve_answered_by(obj: SupportRequest) -> dict[str, str] | None:
        return _user(obj.answered_by)


class PrivateCopyOut(Schema):
    due_on: dt.date | None
    reminder_minutes: int | None
    status: str = Field(..., description="open, pending, completed or cancelled")
    notes: str = Field(..., description="Notes only you read")
    version: int = Field(..., description="Send it back to change the copy")

    @staticmethod
    def resolve_due_on(obj: PrivateCopy) -> dt.date | None:
        return obj.task.due_on

    @staticmethod
    def resolve_reminder_minutes(obj: PrivateCopy) -> int | None:
        return obj.task.reminder_minutes

    @staticmethod
    def resolve_status(obj: PrivateCopy) -> str:
        return str(obj.task.status)

    @staticmethod
    def resolve_version(obj: PrivateCopy) -> int:
        return obj.task.version


class SupportItemOut(Schema):
    id: str
    reference: str = Field(..., description="Such as SUP-1001; an email naming it in [brackets] adds to it")
    subject: str
    description: str
    category: str | None
    priority: str
    status: str = Field(..., description="new and assigned follow the requests; in_progress, waiting, resolved "
                                         "and closed are chosen")
    due_on: dt.date | None
    account: Ref | None
    contact: Ref | None
    opportunity: Ref | None
    owner: Ref = Field(..., description="Who opened it, for good")
    assignee: Ref | None = Field(..., description="Who is asked to handle it, or handles it")
    pending_request: PendingOut | None = Field(..., description="The request awaiting an answer")
    requests: list[RequestOut] = Field(..., description="Every request, oldest first")
    private_copy: PrivateCopyOut | None = Field(..., description="Your own copy, if you hold one")
    overdue: bool
    source: str = Field(..., description="app, email or api")
    visibility: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_id(obj: SupportItem) -> str:
        return obj.public_id

    @staticmethod
    def resolve_category(obj: SupportItem) -> str | None:
        return obj.category.name if obj.category is not None else None

    @staticmethod
    def resolve_account(obj: SupportItem, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)

    @staticmethod
    def resolve_contact(obj: SupportItem, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.contact)

    @staticmethod
    def resolve_opportunity(obj: SupportItem, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.opportunity)

    @staticmethod
    def resolve_owner(obj: SupportItem) -> dict[str, str] | None:
        return _user(obj.owner)

    @staticmethod
    def resolve_assignee(obj: SupportItem) -> dict[str, str] | None:
        return _user(obj.assignee)

    @staticmethod
    def resolve_pending_request(obj: SupportItem) -> SupportRequest | None:
        return next((r for r in obj.chain if r.state == RequestState.PENDING), None)

    @staticmethod
    def resolve_requests(obj: SupportItem) -> list[SupportRequest]:
        return obj.chain

    @staticmethod
    def resolve_private_copy(obj: SupportItem) -> PrivateCopy | None:
        return obj.my_copies[0] if obj.my_copies else None

    @staticmethod
    def resolve_overdue(obj: SupportItem) -> bool:
        return obj.is_overdue(timezone.localdate())

    @staticmethod
    def resolve_created_at(obj: SupportItem) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: SupportItem) -> dt.datetime | None:
        return utc_time(obj.updated_at)

    @staticmethod
    def resolve_closed_at(obj: SupportItem) -> dt.datetime | None:
        return utc_time(obj.closed_at)


class SupportItemPage(Schema):
    items: list[SupportItemOut]
    next: str | None


# --- Query parameters ------------------------------------------------------------------------------


class SupportListParams(ListParams):
    q: str | None = Field(None, description="Words of the subject, or a reference (SUP-1001)")
    view: str | None = Field(None, description="mine (you own), assigned (you hold), awaiting (your answer), "
                                               "team, returned (declined back to you)")
    status: str | None = Field(None, description="open, closed, or one status")
    priority: str | None = Field(None, description="low, normal, high or urgent")
    category: str | None = Field(None, description="A category's name")
    account: str | None = Field(None, description="An account's id")
    contact: str | None = Field(None, description="A contact's id")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    assignee: str | None = Field(None, description="A user's id, or 'me'")
    overdue: str | None = Field(None, description="true: open items past their due date")
    older_than: str | None = Field(None, description="Opened more than this many days ago")


# --- Schemas in ------------------------------------------------------------------------------------


class SupportItemFields(InputSchema):
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    category: str | None = Field(None, max_length=80, description="A category's name; '' or null clears it")
    priority: SupportPriority | None = None
    due_on: dt.date | None = Field(None, description="null clears it")
    account: str | None = Field(None, description="Public id of the account; '' or null clears it")
    contact: str | None = Field(None, description="Public id of the contact; '' or null clears it")
    opportunity: str | None = Field(None, description="Public id of the opportunity; '' or null clears it")
    visibility: Visibility | None = None


class SupportItemCreate(SupportItemFields):
    subject: str = Field(..., min_length=1, max_length=200)
    assignee: str | None = Field(None, description="A user's id: ask them to handle it at once")
    message: str = Field("", max_length=2000, description="For the assignee")


class SupportItemUpdate(SupportItemFields):
    status: SupportStatus | None = Field(None, description="in_progress, waiting, resolved or closed (new and "
                                                           "assigned follow the requests)")
    version: int = Field(..., description=VERSION_HELP)


class AssignIn(InputSchema):
    assignee: str = Field(..., description="The id of the user asked to handle the item")
    message: str = Field("", max_length=2000, description="For the assignee (in the request and its email)")
    version: int | None = Field(None, description=VERSION_HELP)


class AcceptIn(InputSchema):
    version: int | None = Field(None, description="The item's version you read; a stale one answers 409")


class DeclineIn(AcceptIn):
    reason: str = Field(..., max_length=2000, description="Why; the owner is told")


class PrivateCopyIn(InputSchema):
    due_on: dt.date | None = None
    reminder_minutes: int | None = Field(None, ge=0, le=60 * 24 * 28)
    status: ActivityStatus | None = None
    notes: str | None = Field(None, max_length=20000)
    version: int = Field(..., description="The private copy's version you read; a stale one answers 409")


# --- Reading a body and showing items ----------------------------------------------------------------

LINKS = {"account": sales_selectors.api_account, "contact": sales_selectors.api_contact,
         "opportunity": sales_selectors.api_opportunity}
CLEARABLE = ("category", "due_on", "account", "contact", "opportunity")


def _data(request: HttpRequest, body: SupportItemFields, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields sent, with the records they name found through the caller's visible_to."""
    data = body.model_dump(exclude_unset=True)
    for name in ("version", *drop):
        data.pop(name, None)
    for name, value in list(data.items()):
        if value is None and name not in CLEARABLE:
            raise ValidationError({name: [_("This field may not be null.")]})
    for name, find in LINKS.items():
        if name in data:
            data[name] = find(user=request.user, public_id=data[name], field=name) if data[name] else None
    if "category" in data:
        data["category"] = _category(data["category"]) if data["category"] else None
    return data


def _category(name: str) -> Any:
    category = selectors.categories().filter(name__iexact=name.strip()).first()
    if category is None:
        raise ValidationError({"category": [_("No such category.")]})
    return category


def _assignee(request: HttpRequest, public_id: str) -> User:
    """Any user, active or not: the service says why an inactive one cannot be asked."""
    user = user_get(user=request.user, public_id=public_id) if public_id else None
    if user is None:
        raise ValidationError({"assignee": [_("No such user.")]})
    return user


def _shown(request: HttpRequest, items: list[SupportItem]) -> list[SupportItem]:
    """Items with their requests and the caller's own private copy, in two queries for any number."""
    chain = SupportRequest.objects.select_related("recipient", "requested_by", "answered_by").order_by(
        "created_at", "id")
    mine = PrivateCopy.objects.filter(holder_id=request.user.pk).select_related("task")
    prefetch_related_objects(items, Prefetch("requests", queryset=chain, to_attr="chain"),
                             Prefetch("private_copies", queryset=mine, to_attr="my_copies"))
    return items


def _item(request: HttpRequest, item_id: str) -> SupportItem:
    return _shown(request, [selectors.support_item_get(user=request.user, public_id=item_id)])[0]


def _written(request: HttpRequest, item: SupportItem) -> SupportItem:
    """The item as the answer to a write: read again while the writer still sees it (one who passed a
    private item on no longer does), else as written."""
    record = written(selectors.support_item_get, SupportItem, user=request.user, record=item)
    return _shown(request, [record])[0]


def _request_to_answer(request: HttpRequest, item: SupportItem, version: int | None) -> SupportRequest:
    if version is not None and version != item.version:
        raise StaleVersion(current_version=item.version)
    return selectors.request_to_answer(user=request.user, item=item)


# --- Items -----------------------------------------------------------------------------------------


@router.get("/support-items", response=SupportItemPage, summary="List support items",
            description="Filters: q (subject words or a reference), view (mine, assigned, awaiting, team, returned), "
                        "status (open, closed or one status), priority, category (name), account and contact (ids), "
                        "owner and assignee (user id or 'me'), overdue=true, older_than (days). Orderings: "
                        "created_at, due_on (undated last), updated_at, reference; default -created_at (newest "
                        "first).")
def list_support_items(request: HttpRequest, params: Query[SupportListParams]) -> dict:
    qs = selectors.support_item_list(user=request.user, params=request.GET).select_related("opportunity")
    page = api_page(qs, params=params, allowed_orderings=SUPPORT_ORDERINGS, default_ordering="-created_at")
    return {"items": _shown(request, page["items"]), "next": page["next"]}


@router.post("/support-items", response={201: SupportItemOut}, summary="Open a support item",
             description="You own it for good, with your own private copy on your task list. With an assignee, "
                         "they are asked to handle it at once (in the app and by email).")
def create_support_item(request: HttpRequest, payload: SupportItemCreate) -> Status:
    data = _data(request, payload, drop=("assignee", "message"))
    assignee = _assignee(request, payload.assignee) if payload.assignee is not None else None
    item = services.support_item_create(actor=request.user, data=data, assignee=assignee, message=payload.message,
                                        source=SupportSource.API)
    return Status(201, _written(request, item))


@router.get("/support-items/{item_id}", response=SupportItemOut, summary="Get a support item")
def get_support_item(request: HttpRequest, item_id: str) -> SupportItem:
    return _item(request, item_id)


@router.patch("/support-items/{item_id}", response=SupportItemOut, summary="Change a support item",
              description="Its owner (and whoever may change the owner's records) and its assignee may. The "
                          "assignee changes through the actions (assign, reassign, accept, decline).")
def update_support_item(request: HttpRequest, item_id: str, payload: SupportItemUpdate) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id, action=Action.UPDATE)
    data = _data(request, payload)
    item = services.support_item_update(actor=request.user, item=item, data=data, version=payload.version)
    return _written(request, item)


@router.delete("/support-items/{item_id}", response={204: None},
               summary="Delete a support item (it can be restored)",
               description="A request awaiting an answer is withdrawn.")
def delete_support_item(request: HttpRequest, item_id: str, version: int | None = None) -> Status:
    item = selectors.support_item_get(user=request.user, public_id=item_id, action=Action.DELETE)
    services.support_item_delete(actor=request.user, item=item, version=version)
    return Status(204, None)


@router.post("/support-items/{item_id}/restore", response=SupportItemOut, summary="Restore a deleted support item")
def restore_support_item(request: HttpRequest, item_id: str) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id, action=Action.DELETE, deleted=True)
    services.support_item_restore(actor=request.user, item=item)
    return _item(request, item_id)


# --- The request cycle -----------------------------------------------------------------------------


@router.post("/support-items/{item_id}/assign", response=SupportItemOut, summary="Assign a support item",
             description="Asks the user to handle an item nobody holds: a request in the app and by email, which "
                         "they accept or decline. Its owner, their manager and administrators may. 409 when someone "
                         "holds it already (reassign it instead).")
def assign_support_item(request: HttpRequest, item_id: str, payload: AssignIn) -> SupportItem:
    return _assign(request, item_id, payload, reassign=False)


@router.post("/support-items/{item_id}/reassign", response=SupportItemOut, summary="Reassign a support item",
             description="Asks another user to handle an item someone holds or is asked to handle: the open "
                         "request is withdrawn, or passed on when the one asked does this. The chain of requests is "
                         "kept. 409 when nobody holds it (assign it instead).")
def reassign_support_item(request: HttpRequest, item_id: str, payload: AssignIn) -> SupportItem:
    return _assign(request, item_id, payload, reassign=True)


def _assign(request: HttpRequest, item_id: str, payload: AssignIn, *, reassign: bool) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id)
    recipient = _assignee(request, payload.assignee)
    services.support_assign(actor=request.user, item=item, recipient=recipient, message=payload.message,
                            version=payload.version, reassign=reassign)
    return _written(request, item)


@router.post("/support-items/{item_id}/accept", response=SupportItemOut,
             summary="Accept the request to handle a support item",
             description="Only the one asked. The item becomes theirs, in progress, with a private copy on their "
                         "task list. 409 when the request was meanwhile answered, withdrawn or reassigned.")
def accept_support_item(request: HttpRequest, item_id: str, payload: AcceptIn) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id)
    services.support_accept(actor=request.user, request=_request_to_answer(request, item, payload.version))
    return _written(request, item)


@router.post("/support-items/{item_id}/decline", response=SupportItemOut,
             summary="Decline the request to handle a support item",
             description="Only the one asked, saying why: the item goes back to its owner, who is told by email. "
                         "409 when the request was meanwhile answered, withdrawn or reassigned.")
def decline_support_item(request: HttpRequest, item_id: str, payload: DeclineIn) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id)
    services.support_decline(actor=request.user, request=_request_to_answer(request, item, payload.version),
                             reason=payload.reason)
    return _written(request, item)


# --- The caller's private copy ---------------------------------------------------------------------


@router.patch("/support-items/{item_id}/private-copy", response=SupportItemOut,
              summary="Change your private copy of a support item",
              description="Your own due date, reminder (minutes before), status and notes; nobody else reads them. "
                          "404 when you hold no copy of the item.")
def update_private_copy(request: HttpRequest, item_id: str, payload: PrivateCopyIn) -> SupportItem:
    item = selectors.support_item_get(user=request.user, public_id=item_id)
    copy = selectors.private_copy_for(user=request.user, item=item)
    if copy is None:
        raise Http404
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    for name in ("due_on", "status"):
        if name in data and data[name] is None:
            raise ValidationError({name: [_("This field may not be null.")]})
    services.private_copy_update(actor=request.user, copy=copy, data=data, version=payload.version)
    return _item(request, item_id)
