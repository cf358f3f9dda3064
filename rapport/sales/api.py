"""The sales API: leads, opportunities (and their forecast), pipeline stages, orders, workflow
definitions and communications.

Handlers parse, call a selector or service, answer. Records a body names by public id (an account,
a contact, an opportunity) are found through the caller's visible_to: one they may not see is "No
such ..." on that field, exactly as one that does not exist. Amounts go out as decimal strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from rapport.activities import selectors as activity_selectors
from rapport.activities.models import ActivityStatus, ActivityType
from rapport.core.access import record_visible
from rapport.core.apitools import (
    InputSchema,
    ListParams,
    api_page,
    ref_out,
    refuse_nulls,
    refuse_unknown_params,
    utc_time,
)
from rapport.core.models import Action, User, Visibility
from rapport.core.selectors import user_get, written
from rapport.sales import selectors, services
from rapport.sales.filters import LEAD_ORDERINGS, OPPORTUNITY_ORDERINGS, ORDER_ORDERINGS
from rapport.sales.models import (
    Communication,
    Lead,
    LeadStatus,
    Opportunity,
    Order,
    OrderStatus,
    PipelineStage,
    StageOutcome,
    WorkflowDefinition,
)

router = Router(tags=["sales"])

CENT = Decimal("0.01")
STAGE_ORDERINGS = {"position": "position", "name": "name"}
WORKFLOW_ORDERINGS = {"position": "position", "name": "name"}
COMMUNICATION_ORDERINGS = {"starts_at": "starts_at"}
DEFAULT_KINDS = {ActivityType.TASK: "todo", ActivityType.EVENT: "meeting"}
MAX_POSITION = 1_000_000
VERSION_HELP = "The version you read; a stale one answers 409"



def _seen(context: dict[str, Any], obj: Any) -> dict[str, str] | None:
    """A linked record, named only to a reader who may see it."""
    return ref_out(obj) if record_visible(context["request"].user, obj) else None


def _money(value: Any) -> str:
    return str(Decimal(str(value if value is not None else 0)).quantize(CENT))



# --- Schemas out -----------------------------------------------------------------------------------


class Ref(Schema):
    id: str
    name: str


class RecordOut(Schema):
    id: str
    version: int
    owner: Ref
    visibility: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.public_id

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, str] | None:
        return ref_out(obj.owner)

    @staticmethod
    def resolve_created_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class LeadOut(RecordOut):
    name: str = Field(..., description="The person and the company, as lists show the lead")
    first_name: str
    last_name: str
    company: str
    title: str
    email: str
    phone: str
    source: str
    status: str
    remarks: str
    account: Ref | None = Field(..., description="The account it is about, or became")
    contact: Ref | None = Field(..., description="The contact it is, or became")
    opportunity: Ref | None = Field(..., description="The opportunity its conversion opened")
    converted_at: dt.datetime | None

    @staticmethod
    def resolve_name(obj: Lead) -> str:
        return obj.display_name

    @staticmethod
    def resolve_account(obj: Lead, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)

    @staticmethod
    def resolve_contact(obj: Lead, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.contact)

    @staticmethod
    def resolve_opportunity(obj: Lead, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.opportunity)

    @staticmethod
    def resolve_converted_at(obj: Lead) -> dt.datetime | None:
        return utc_time(obj.converted_at)


class StageBrief(Schema):
    id: str
    name: str
    outcome: str
    pipeline: Ref

    @staticmethod
    def resolve_id(obj: PipelineStage) -> str:
        return obj.public_id

    @staticmethod
    def resolve_pipeline(obj: PipelineStage) -> dict[str, str] | None:
        return ref_out(obj.pipeline)


class StageOut(StageBrief):
    position: int
    probability: int = Field(..., description="The probability (%) a deal entering the stage gets")
    is_active: bool


class ContactRoleOut(Schema):
    contact: Ref
    role: str


class OpportunityOut(RecordOut):
    name: str
    account: Ref | None
    stage: StageBrief
    amount: str = Field(..., description="A decimal string, such as 1200.00")
    currency: str
    probability: int
    weighted_amount: str = Field(..., description="amount × probability / 100")
    expected_close_on: dt.date
    is_open: bool
    closed_on: dt.date | None
    stage_changed_at: dt.datetime | None
    source: str
    next_step: str
    outcome_reason: str
    description: str
    contacts: list[ContactRoleOut] = Field(..., description="The people of the deal you may see, with their roles")
    warnings: list[str] = Field(..., description="What looks wrong but was accepted (a close date long past)")

    @staticmethod
    def resolve_account(obj: Opportunity, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)

    @staticmethod
    def resolve_amount(obj: Opportunity) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_weighted_amount(obj: Opportunity) -> str:
        return _money(obj.weighted_amount)

    @staticmethod
    def resolve_stage_changed_at(obj: Opportunity) -> dt.datetime | None:
        return utc_time(obj.stage_changed_at)

    @staticmethod
    def resolve_contacts(obj: Opportunity, context: dict[str, Any]) -> list[dict[str, Any]]:
        user = context["request"].user
        return [{"contact": ref_out(row.contact), "role": row.role} for row in obj.contact_roles.all()
                if record_visible(user, row.contact)]

    @staticmethod
    def resolve_warnings(obj: Opportunity) -> list[str]:
        warning = services.close_date_warning(obj)
        return [str(warning)] if warning else []


class OrderLineOut(Schema):
    product: str
    quantity: str
    unit_price: str
    amount: str

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        return _money(obj.unit_price)

    @staticmethod
    def resolve_amount(obj: Any) -> str:
        return _money(obj.amount)


class OrderOut(RecordOut):
    number: str
    account: Ref | None
    opportunity: Ref | None
    ordered_on: dt.date
    amount: str = Field(..., description="A decimal string: the sum of the lines, when there are lines")
    currency: str
    status: str
    description: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_account(obj: Order, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)

    @staticmethod
    def resolve_opportunity(obj: Order, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.opportunity)

    @staticmethod
    def resolve_amount(obj: Order) -> str:
        return _money(obj.amount)

    @staticmethod
    def resolve_lines(obj: Order) -> list[Any]:
        return list(obj.lines.all())


class BranchOut(BaseModel):
    """A plain pydantic model, as BranchIn."""

    id: str
    name: str
    children: list[BranchOut]


class WorkflowOut(Schema):
    id: str
    name: str
    description: str
    position: int
    is_active: bool
    types: list[BranchOut] = Field(..., description="The tree of communication types")

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.public_id


class CommunicationTypeRef(Schema):
    id: str
    name: str
    path: str = Field(..., description="The branch under its parents, such as Meeting → Quarterly review")


class CommunicationOut(Schema):
    id: str = Field(..., description="The activity's id (see /api/v1/activities)")
    activity_type: str = Field(..., description="task or event")
    subject: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    type: CommunicationTypeRef
    workflow: Ref
    account: Ref
    contact: Ref | None

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.activity.public_id

    @staticmethod
    def resolve_activity_type(obj: Any) -> str:
        return str(obj.activity.activity_type)

    @staticmethod
    def resolve_subject(obj: Any) -> str:
        return obj.activity.subject

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.activity.status)

    @staticmethod
    def resolve_starts_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.activity.starts_at)

    @staticmethod
    def resolve_ends_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.activity.ends_at)

    @staticmethod
    def resolve_type(obj: Any) -> dict[str, str]:
        node = obj.communication_type
        return {"id": node.public_id, "name": node.name, "path": obj.type_path}

    @staticmethod
    def resolve_workflow(obj: Any) -> dict[str, str] | None:
        return ref_out(obj.communication_type.workflow)

    @staticmethod
    def resolve_account(obj: Any) -> dict[str, str] | None:
        return ref_out(obj.account)

    @staticmethod
    def resolve_contact(obj: Any, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.contact)


class LeadPage(Schema):
    items: list[LeadOut]
    next: str | None


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next: str | None


class OrderPage(Schema):
    items: list[OrderOut]
    next: str | None


class StagePage(Schema):
    items: list[StageOut]
    next: str | None


class WorkflowPage(Schema):
    items: list[WorkflowOut]
    next: str | None


class CommunicationPage(Schema):
    items: list[CommunicationOut]
    next: str | None


class ForecastMonth(Schema):
    month: str = Field(..., description="YYYY-MM")
    currency: str
    count: int
    amount: str
    weighted: str = Field(..., description="The amount weighted by each deal's probability")


class ForecastOwner(Schema):
    owner: Ref
    currency: str
    count: int
    amount: str
    weighted: str


class ForecastTotal(Schema):
    currency: str
    count: int
    amount: str
    weighted: str


class ForecastOut(Schema):
    from_: str = Field(..., alias="from", description="The first month, YYYY-MM")
    to: str = Field(..., description="The last month, YYYY-MM")
    by_month: list[ForecastMonth]
    by_owner: list[ForecastOwner]
    totals: list[ForecastTotal] = Field(..., description="Per currency: amounts in different currencies are "
                                                         "never added up")


# --- Query parameters ------------------------------------------------------------------------------


class LeadListParams(ListParams):
    q: str | None = Field(None, description="Start of the name or company; an email address (with @) its email")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    status: str | None = Field(None, description="new, contacted, qualified, unqualified or converted")
    source: str | None = None


class OpportunityListParams(ListParams):
    q: str | None = Field(None, description="Start of the name")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    stage: str | None = Field(None, description="A stage's id")
    pipeline: str | None = Field(None, description="A pipeline's id")
    account: str | None = Field(None, description="An account's id")
    open: str | None = Field(None, description="true (open deals) or false (won and lost)")
    close_from: str | None = Field(None, description="Expected to close on or after this date (YYYY-MM-DD)")
    close_to: str | None = Field(None, description="Expected to close on or before this date")


class OrderListParams(ListParams):
    q: str | None = Field(None, description="Start of the number")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    account: str | None = Field(None, description="An account's id")
    status: str | None = Field(None, description="open, fulfilled or cancelled")
    from_: str | None = Field(None, alias="from", description="Ordered on or after this date (YYYY-MM-DD)")
    to: str | None = Field(None, description="Ordered on or before this date")


class StageListParams(ListParams):
    pipeline: str | None = Field(None, description="A pipeline's id")


class CommunicationListParams(ListParams):
    account: str | None = Field(None, description="An account's id: its communications (without it, every "
                                                  "communication you may see)")


class ForecastParams(Schema):
    from_: str | None = Field(None, alias="from", description="The first month, YYYY-MM (default: this month)")
    to: str | None = Field(None, description="The last month, YYYY-MM (default: five months on); at most 36")
    owner: str | None = Field(None, description="A user's id, or 'me'")


# --- Schemas in ------------------------------------------------------------------------------------


class RecordIn(InputSchema):
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None


class LeadIn(RecordIn):
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    source: str | None = Field(None, max_length=100)
    status: LeadStatus | None = Field(None, description="converted only by converting the lead")
    remarks: str | None = Field(None, max_length=10000)
    account: str | None = Field(None, description="Public id of an existing account it is about; '' clears it")
    contact: str | None = Field(None, description="Public id of an existing contact it is; '' clears it")


class LeadUpdate(LeadIn):
    version: int = Field(..., description=VERSION_HELP)


class OpportunityFields(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    stage: str | None = Field(None, description="A stage's id; default: the first stage of the default pipeline")
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    currency: str | None = Field(None, max_length=10, description="An ISO 4217 code; default: the site's")
    probability: int | None = Field(None, ge=0, le=100, description="Default: the stage's")
    expected_close_on: dt.date | None = Field(None, description="Default on create: 90 days from today")
    source: str | None = Field(None, max_length=100)
    next_step: str | None = Field(None, max_length=200)
    outcome_reason: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=10000)
    visibility: Visibility | None = None


class ContactRoleIn(InputSchema):
    contact: str = Field(..., description="A contact's id")
    role: str = Field("", max_length=100, description="Decision maker, champion, ...")


class OpportunityIn(OpportunityFields):
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    account: str | None = Field(None, description="Public id of the account")
    contacts: list[ContactRoleIn] | None = Field(None, max_length=services.MAX_CONTACT_ROLES,
                                                 description="The people of the deal; replaces all you may see")


class OpportunityCreate(OpportunityIn):
    name: str = Field(..., min_length=1, max_length=200)
    account: str = Field(..., description="Public id of the account")


class OpportunityUpdate(OpportunityIn):
    version: int = Field(..., description=VERSION_HELP)


class OpportunityMove(InputSchema):
    stage: str = Field(..., description="A stage of the opportunity's pipeline")
    version: int = Field(..., description=VERSION_HELP)


class LeadConvert(InputSchema):
    version: int = Field(..., description=VERSION_HELP)
    account: str | None = Field(None, description="Link this existing account instead of creating one; null "
                                                  "creates a new one even when the lead is about an account")
    contact: str | None = Field(None, description="Link this existing contact instead of creating one; null "
                                                  "creates a new one even when the lead is about a contact")
    create_opportunity: bool = True
    opportunity: OpportunityFields | None = Field(
        None, description="The new opportunity's fields; by default named after the account (after the lead's "
                          "company when the account is not shared with everyone)")


class OrderLineIn(InputSchema):
    product: str = Field(..., min_length=1, max_length=200)
    quantity: Decimal = Field(..., max_digits=12, decimal_places=3)
    unit_price: Decimal = Field(..., max_digits=14, decimal_places=2)
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2,
                                   description="If given, it must be quantity × unit_price")


class OrderIn(RecordIn):
    account: str | None = Field(None, description="Public id of the account")
    opportunity: str | None = Field(None, description="Public id of the opportunity it closes; '' clears it")
    number: str | None = Field(None, max_length=40, description="Default: the next of the series")
    ordered_on: dt.date | None = Field(None, description="Default: today")
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2, description="Default: the sum of the lines")
    currency: str | None = Field(None, max_length=10)
    status: OrderStatus | None = None
    description: str | None = Field(None, max_length=10000)
    lines: list[OrderLineIn] | None = Field(None, max_length=services.MAX_ORDER_LINES,
                                            description="Given in a change, they replace all lines")


class OrderCreate(OrderIn):
    account: str = Field(..., description="Public id of the account")


class OrderUpdate(OrderIn):
    version: int = Field(..., description=VERSION_HELP)


class StageIn(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    position: int | None = Field(None, ge=0, le=MAX_POSITION)
    probability: int | None = Field(None, ge=0, le=100)
    outcome: StageOutcome | None = None
    is_active: bool | None = None


class StageCreate(StageIn):
    pipeline: str | None = Field(None, description="A pipeline's id; default: the default pipeline")
    name: str = Field(..., min_length=1, max_length=100)


class BranchIn(BaseModel):
    """A branch of a workflow tree. A plain pydantic model: ninja's Schema validates each level of a
    recursive model twice over, which doubles the work with every level of nesting."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=40, description="An existing branch's id, to keep it (and its "
                                                             "communications); without: a new branch")
    name: str = Field(..., max_length=100)
    children: list[BranchIn] = Field(default_factory=list)

    @field_validator("id", "name", mode="after")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("A NUL character is not allowed.")
        return value


class WorkflowIn(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=300)
    position: int | None = Field(None, ge=0, le=MAX_POSITION)
    is_active: bool | None = None
    types: list[BranchIn] | None = Field(None, description="The whole tree; given in a change, it replaces "
                                                           "the tree (branches kept by id)")


class WorkflowCreate(WorkflowIn):
    name: str = Field(..., min_length=1, max_length=100)


class CommunicationCreate(InputSchema):
    account: str = Field(..., description="The account's id")
    contact: str | None = Field(None, description="A contact working at the account")
    communication_type: str = Field(..., description="A branch of a workflow")
    subject: str | None = Field(None, min_length=1, max_length=200, description="Default: the workflow and branch")
    activity_type: ActivityType = Field(ActivityType.TASK, description="task or event")
    kind: str | None = Field(None, max_length=30, description="An activity kind's key; default: todo for a task, "
                                                              "meeting for an event")
    status: ActivityStatus | None = None
    description: str | None = Field(None, max_length=20000)
    due_on: dt.date | None = Field(None, description="A task's due date")
    starts_at: AwareDatetime | None = Field(None, description="An event's start, ISO 8601 with an offset")
    ends_at: AwareDatetime | None = Field(None, description="An event's end; default: an hour later")
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None


BranchIn.model_rebuild()
BranchOut.model_rebuild()


# --- Reading a body --------------------------------------------------------------------------------

Finder = Callable[..., Any]
LINKS: dict[str, Finder] = {"account": selectors.api_account, "contact": selectors.api_contact,
                            "opportunity": selectors.api_opportunity}


def _owner(request: HttpRequest, public_id: str) -> User:
    owner = user_get(user=request.user, public_id=public_id, active_only=True) if public_id else None
    if owner is None:
        raise ValidationError({"owner": [_("No such active user.")]})
    return owner


def _data(request: HttpRequest, body: InputSchema, *, drop: tuple[str, ...] = (),
          clearable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields sent, with the records they name found through the caller's visible_to.

    A link in `clearable` is cleared by '' or null; every other field refuses null.
    """
    data = body.model_dump(exclude_unset=True)
    for name in ("version", *drop):
        data.pop(name, None)
    for name, value in list(data.items()):
        if value is None and name not in clearable:
            raise ValidationError({name: [_("This field may not be null.")]})
    if "owner" in data:
        data["owner"] = _owner(request, data["owner"])
    for name, find in LINKS.items():
        if name in data:
            if not data[name]:
                if name not in clearable:
                    raise ValidationError({name: [_("This field is required.")]})
                data[name] = None
            else:
                data[name] = find(user=request.user, public_id=data[name], field=name)
    if data.get("stage"):
        data["stage"] = selectors.api_stage(public_id=data["stage"])
    elif "stage" in data:
        raise ValidationError({"stage": [_("This field is required.")]})
    return data


def _contact_roles(request: HttpRequest, rows: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    return [(selectors.api_contact(user=request.user, public_id=row["contact"], field=f"contacts.{index}.contact"),
             row.get("role") or "") for index, row in enumerate(rows)]


# --- Leads -----------------------------------------------------------------------------------------


def _lead_written(request: HttpRequest, lead: Lead) -> Lead:
    return written(selectors.lead_get, Lead, user=request.user, record=lead)


@router.get("/leads", response=LeadPage, summary="List leads",
            description="Filters: q (name or company prefix, or an email), owner (user id or 'me'), status, "
                        "source. Orderings: name (default), created_at, updated_at (prefix - to reverse).")
def list_leads(request: HttpRequest, params: Query[LeadListParams]) -> dict:
    qs = selectors.lead_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=LEAD_ORDERINGS, default_ordering="name")


@router.post("/leads", response={201: LeadOut}, summary="Create a lead",
             description="It needs a name, a company, or the account or contact it is about.")
def create_lead(request: HttpRequest, payload: LeadIn) -> Status:
    data = _data(request, payload, clearable=("account", "contact"))
    lead = services.lead_create(actor=request.user, data=data)
    return Status(201, _lead_written(request, lead))


@router.get("/leads/{lead_id}", response=LeadOut, summary="Get a lead")
def get_lead(request: HttpRequest, lead_id: str) -> Lead:
    return selectors.lead_get(user=request.user, public_id=lead_id)


@router.patch("/leads/{lead_id}", response=LeadOut, summary="Change a lead")
def update_lead(request: HttpRequest, lead_id: str, payload: LeadUpdate) -> Lead:
    lead = selectors.lead_get(user=request.user, public_id=lead_id, action=Action.UPDATE)
    data = _data(request, payload, clearable=("account", "contact"))
    lead = services.lead_update(actor=request.user, lead=lead, data=data, version=payload.version)
    return _lead_written(request, lead)


@router.delete("/leads/{lead_id}", response={204: None}, summary="Delete a lead (it can be restored)")
def delete_lead(request: HttpRequest, lead_id: str, version: int | None = None) -> Status:
    lead = selectors.lead_get(user=request.user, public_id=lead_id, action=Action.DELETE)
    services.lead_delete(actor=request.user, lead=lead, version=version)
    return Status(204, None)


@router.post("/leads/{lead_id}/restore", response=LeadOut, summary="Restore a deleted lead")
def restore_lead(request: HttpRequest, lead_id: str) -> Lead:
    lead = selectors.lead_get(user=request.user, public_id=lead_id, action=Action.DELETE, deleted=True)
    services.lead_restore(actor=request.user, lead=lead)
    return selectors.lead_get(user=request.user, public_id=lead_id)


@router.post("/leads/{lead_id}/convert", response=LeadOut, summary="Convert a lead",
             description="Turns the lead into an account, a contact and (unless create_opportunity is false) an "
                         "opportunity, in one step. An account or contact given, or the one the lead is about, is "
                         "linked instead of created. The lead stays, converted, with its history; its activities "
                         "now also regard what it became.")
def convert_lead(request: HttpRequest, lead_id: str, payload: LeadConvert) -> Lead:
    lead = selectors.lead_get(user=request.user, public_id=lead_id, action=Action.UPDATE)
    links = _data(request, payload, drop=("create_opportunity", "opportunity"), clearable=("account", "contact"))
    opportunity_data = None
    if payload.opportunity is not None:
        if not payload.create_opportunity:
            raise ValidationError({"opportunity": [_("Leave this out when create_opportunity is false.")]})
        try:
            opportunity_data = _data(request, payload.opportunity)
        except ValidationError as exc:
            raise ValidationError({f"opportunity.{name}": messages for name, messages in exc.message_dict.items()}) \
                from None
    try:
        lead = services.lead_convert(actor=request.user, lead=lead, version=payload.version,
                                     account=links.get("account"), contact=links.get("contact"),
                                     opportunity_data=opportunity_data,
                                     create_opportunity=payload.create_opportunity,
                                     new_account="account" in payload.model_fields_set and not payload.account,
                                     new_contact="contact" in payload.model_fields_set and not payload.contact)
    except ValidationError as exc:
        # The service names the opportunity's own fields; the body has them under "opportunity".
        sent = set(opportunity_data or ())
        if not hasattr(exc, "error_dict") or not sent & set(exc.error_dict):
            raise
        raise ValidationError({f"opportunity.{name}" if name in sent else name: messages
                               for name, messages in exc.message_dict.items()}) from None
    return _lead_written(request, lead)


# --- Opportunities ---------------------------------------------------------------------------------


def _opportunity_written(request: HttpRequest, opportunity: Opportunity) -> Opportunity:
    return written(selectors.opportunity_get, Opportunity, user=request.user, record=opportunity)


@router.get("/opportunities", response=OpportunityPage, summary="List opportunities",
            description="Filters: q (name prefix), owner (user id or 'me'), stage, pipeline, account (ids), "
                        "open (true/false), close_from and close_to (YYYY-MM-DD). Orderings: name (default), "
                        "expected_close_on, amount, created_at, updated_at (prefix - to reverse).")
def list_opportunities(request: HttpRequest, params: Query[OpportunityListParams]) -> dict:
    qs = selectors.opportunity_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=OPPORTUNITY_ORDERINGS, default_ordering="name")


@router.post("/opportunities", response={201: OpportunityOut}, summary="Create an opportunity",
             description="Without a stage it starts in the first stage of the default pipeline, with that stage's "
                         "probability. A close date long past is accepted with a warning.")
def create_opportunity(request: HttpRequest, payload: OpportunityCreate) -> Status:
    data = _data(request, payload, drop=("contacts",))
    contacts = _contact_roles(request, [row.model_dump() for row in payload.contacts or []])
    opportunity = services.opportunity_create(actor=request.user, data=data, contacts=contacts)
    return Status(201, _opportunity_written(request, opportunity))


# Declared before /opportunities/{opportunity_id}, which would otherwise take "forecast" for an id.
@router.get("/opportunities/forecast", response=ForecastOut, by_alias=True, summary="Forecast of open deals",
            description="Open deals expected to close from the first to the last month (YYYY-MM; by default this "
                        "month and the next five), by month, by owner and in total: count, amount and amount "
                        "weighted by probability, per currency. owner: a user's id or 'me'.")
def forecast(request: HttpRequest, params: Query[ForecastParams]) -> dict:
    refuse_unknown_params(request, {"from", "to", "owner"})
    paging = [name for name in ListParams.model_fields if name in request.GET]
    if paging:
        raise ValidationError({name: [_("A forecast is answered whole; leave this out.")] for name in paging})
    result = selectors.forecast(user=request.user, params=request.GET)
    return {
        "from": result.start.strftime("%Y-%m"),
        "to": result.end.strftime("%Y-%m"),
        "by_month": [{"month": row.key.strftime("%Y-%m"), "currency": row.currency, "count": row.count,
                      "amount": _money(row.amount), "weighted": _money(row.weighted)} for row in result.by_month],
        "by_owner": [{"owner": {"id": row.owner_id, "name": row.key}, "currency": row.currency, "count": row.count,
                      "amount": _money(row.amount), "weighted": _money(row.weighted)} for row in result.by_owner],
        "totals": [{"currency": row.currency, "count": row.count, "amount": _money(row.amount),
                    "weighted": _money(row.weighted)} for row in result.totals],
    }


@router.get("/opportunities/{opportunity_id}", response=OpportunityOut, summary="Get an opportunity")
def get_opportunity(request: HttpRequest, opportunity_id: str) -> Opportunity:
    return selectors.opportunity_get(user=request.user, public_id=opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response=OpportunityOut, summary="Change an opportunity",
              description="contacts, when given, replace the deal's people you may see (those you may not see "
                          "stay). A new stage must be of the deal's pipeline; it is recorded in the stage history.")
def update_opportunity(request: HttpRequest, opportunity_id: str, payload: OpportunityUpdate) -> Opportunity:
    opportunity = selectors.opportunity_get(user=request.user, public_id=opportunity_id, action=Action.UPDATE)
    data = _data(request, payload, drop=("contacts",))
    contacts = None
    if payload.contacts is not None:
        contacts = [*_contact_roles(request, [row.model_dump() for row in payload.contacts]),
                    *selectors.hidden_contact_roles(user=request.user, opportunity=opportunity)]
    opportunity = services.opportunity_update(actor=request.user, opportunity=opportunity, data=data,
                                              version=payload.version, contacts=contacts)
    return _opportunity_written(request, opportunity)


@router.delete("/opportunities/{opportunity_id}", response={204: None},
               summary="Delete an opportunity (it can be restored)")
def delete_opportunity(request: HttpRequest, opportunity_id: str, version: int | None = None) -> Status:
    opportunity = selectors.opportunity_get(user=request.user, public_id=opportunity_id, action=Action.DELETE)
    services.opportunity_delete(actor=request.user, opportunity=opportunity, version=version)
    return Status(204, None)


@router.post("/opportunities/{opportunity_id}/restore", response=OpportunityOut,
             summary="Restore a deleted opportunity")
def restore_opportunity(request: HttpRequest, opportunity_id: str) -> Opportunity:
    opportunity = selectors.opportunity_get(user=request.user, public_id=opportunity_id, action=Action.DELETE,
                                            deleted=True)
    services.opportunity_restore(actor=request.user, opportunity=opportunity)
    return selectors.opportunity_get(user=request.user, public_id=opportunity_id)


@router.post("/opportunities/{opportunity_id}/move", response=OpportunityOut,
             summary="Move an opportunity to another stage of its pipeline",
             description="The probability becomes the new stage's; a won or lost stage closes the deal.")
def move_opportunity(request: HttpRequest, opportunity_id: str, payload: OpportunityMove) -> Opportunity:
    opportunity = selectors.opportunity_get(user=request.user, public_id=opportunity_id, action=Action.UPDATE)
    stage = selectors.api_stage(public_id=payload.stage)
    opportunity = services.opportunity_move(actor=request.user, opportunity=opportunity, stage=stage,
                                            version=payload.version)
    return _opportunity_written(request, opportunity)


# --- Pipeline stages -------------------------------------------------------------------------------


def _stage_save(request: HttpRequest, data: dict[str, Any], stage: PipelineStage | None = None) -> PipelineStage:
    try:
        return services.stage_save(actor=request.user, data=data, stage=stage)
    except ValidationError as exc:
        # The model says "already exists" for the whole record; the name is what to change.
        if hasattr(exc, "error_dict") and "__all__" in exc.error_dict:
            errors = exc.message_dict
            raise ValidationError({**{k: v for k, v in errors.items() if k != "__all__"},
                                   "name": errors["__all__"]}) from None
        raise


@router.get("/pipeline-stages", response=StagePage, summary="List pipeline stages",
            description="Every stage, active or not. Filter: pipeline (its id). Orderings: position (default), "
                        "name.")
def list_stages(request: HttpRequest, params: Query[StageListParams]) -> dict:
    refuse_unknown_params(request, {"pipeline"})
    qs = selectors.stage_api_list(params=request.GET)
    return api_page(qs, params=params, allowed_orderings=STAGE_ORDERINGS, default_ordering="position")


@router.post("/pipeline-stages", response={201: StageOut}, summary="Add a pipeline stage (administrators)")
def create_stage(request: HttpRequest, payload: StageCreate) -> Status:
    data = payload.model_dump(exclude_unset=True)
    if data.get("pipeline"):
        data["pipeline"] = selectors.api_pipeline(public_id=data["pipeline"])
    else:
        data.pop("pipeline", None)
    refuse_nulls(data)
    return Status(201, selectors.stage_get(_stage_save(request, data).public_id))


@router.get("/pipeline-stages/{stage_id}", response=StageOut, summary="Get a pipeline stage")
def get_stage(request: HttpRequest, stage_id: str) -> PipelineStage:
    return selectors.stage_get(stage_id)


@router.patch("/pipeline-stages/{stage_id}", response=StageOut, summary="Change a pipeline stage (administrators)",
              description="Deals in a stage made won or lost (or open again) follow it.")
def update_stage(request: HttpRequest, stage_id: str, payload: StageIn) -> PipelineStage:
    stage = selectors.stage_get(stage_id)
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(data)
    return selectors.stage_get(_stage_save(request, data, stage).public_id)


@router.delete("/pipeline-stages/{stage_id}", response={204: None},
               summary="Delete a pipeline stage no deal is in (administrators)")
def delete_stage(request: HttpRequest, stage_id: str) -> Status:
    stage = selectors.stage_get(stage_id)
    services.stage_delete(actor=request.user, stage=stage)
    return Status(204, None)


# --- Orders ----------------------------------------------------------------------------------------


def _order_written(request: HttpRequest, order: Order) -> Order:
    return written(selectors.order_get, Order, user=request.user, record=order)


def _order_data(request: HttpRequest, payload: OrderIn) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    data = _data(request, payload, drop=("lines",), clearable=("opportunity",))
    if "number" in data:
        data["number"] = data["number"].strip()
    lines = [line.model_dump(exclude_none=True) for line in payload.lines] if payload.lines is not None else None
    return data, lines


@router.get("/orders", response=OrderPage, summary="List orders",
            description="Filters: q (number prefix), owner (user id or 'me'), account (id), status, from and to "
                        "(order date, YYYY-MM-DD). Orderings: ordered_on, number, amount, created_at, updated_at; "
                        "default -ordered_on (newest first).")
def list_orders(request: HttpRequest, params: Query[OrderListParams]) -> dict:
    qs = selectors.order_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=ORDER_ORDERINGS, default_ordering="-ordered_on")


@router.post("/orders", response={201: OrderOut}, summary="Create an order",
             description="Give the amount, or lines (product, quantity, unit_price): the amount is then their sum. "
                         "Without a number it gets the next of the series.")
def create_order(request: HttpRequest, payload: OrderCreate) -> Status:
    data, lines = _order_data(request, payload)
    order = services.order_create(actor=request.user, data=data, lines=lines or ())
    return Status(201, _order_written(request, order))


@router.get("/orders/{order_id}", response=OrderOut, summary="Get an order")
def get_order(request: HttpRequest, order_id: str) -> Order:
    return selectors.order_get(user=request.user, public_id=order_id)


@router.patch("/orders/{order_id}", response=OrderOut, summary="Change an order",
              description="lines, when given, replace all the order's lines.")
def update_order(request: HttpRequest, order_id: str, payload: OrderUpdate) -> Order:
    order = selectors.order_get(user=request.user, public_id=order_id, action=Action.UPDATE)
    data, lines = _order_data(request, payload)
    order = services.order_update(actor=request.user, order=order, data=data, version=payload.version, lines=lines)
    return _order_written(request, order)


@router.delete("/orders/{order_id}", response={204: None}, summary="Delete an order (it can be restored)")
def delete_order(request: HttpRequest, order_id: str, version: int | None = None) -> Status:
    order = selectors.order_get(user=request.user, public_id=order_id, action=Action.DELETE)
    services.order_delete(actor=request.user, order=order, version=version)
    return Status(204, None)


@router.post("/orders/{order_id}/restore", response=OrderOut, summary="Restore a deleted order")
def restore_order(request: HttpRequest, order_id: str) -> Order:
    order = selectors.order_get(user=request.user, public_id=order_id, action=Action.DELETE, deleted=True)
    services.order_restore(actor=request.user, order=order)
    return selectors.order_get(user=request.user, public_id=order_id)


# --- Workflow definitions --------------------------------------------------------------------------


class _WithTree:
    """A workflow as an answer shows it: its fields and its tree."""

    def __init__(self, workflow: WorkflowDefinition, types: list[dict[str, Any]]) -> None:
        self.workflow = workflow
        self.types = types

    def __getattr__(self, name: str) -> Any:
        if name == "workflow":
            raise AttributeError(name)
        return getattr(self.workflow, name)


def _with_tree(workflow: WorkflowDefinition) -> _WithTree:
    return _WithTree(workflow, selectors.workflow_tree(workflow))


def _workflow_data(payload: WorkflowIn) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    data = payload.model_dump(exclude_unset=True)
    tree = data.pop("types", None)
    refuse_nulls(data)
    if tree is not None:
        tree = [branch.model_dump() for branch in payload.types or []]
    elif "types" in payload.model_fields_set:
        raise ValidationError({"types": [_("This field may not be null.")]})
    return data, tree


@router.get("/workflow-definitions", response=WorkflowPage, summary="List workflow definitions",
            description="Each with its tree of communication types. Orderings: position (default), name.")
def list_workflows(request: HttpRequest, params: Query[ListParams]) -> dict:
    refuse_unknown_params(request)
    page = api_page(selectors.workflow_api_list(), params=params, allowed_orderings=WORKFLOW_ORDERINGS,
                    default_ordering="position")
    trees = selectors.workflow_tree_map(page["items"])
    return {"items": [_WithTree(workflow, trees[workflow.pk]) for workflow in page["items"]], "next": page["next"]}


@router.post("/workflow-definitions", response={201: WorkflowOut},
             summary="Create a workflow definition (administrators)",
             description="types: the tree, as nested {name, children}. A branch may appear only once: one that "
                         "repeats an id (a cycle) is refused, naming its place, such as types.0.children.1.id.")
def create_workflow(request: HttpRequest, payload: WorkflowCreate) -> Status:
    data, tree = _workflow_data(payload)
    workflow = services.workflow_save(actor=request.user, data=data, tree=tree)
    return Status(201, _with_tree(workflow))


@router.get("/workflow-definitions/{workflow_id}", response=WorkflowOut, summary="Get a workflow definition")
def get_workflow(request: HttpRequest, workflow_id: str) -> _WithTree:
    return _with_tree(selectors.workflow_get(workflow_id))


@router.patch("/workflow-definitions/{workflow_id}", response=WorkflowOut,
              summary="Change a workflow definition (administrators)",
              description="types, when given, replace the tree: branches named by id are kept (with their "
                          "communications), others are added; a branch with communications cannot be dropped.")
def update_workflow(request: HttpRequest, workflow_id: str, payload: WorkflowIn) -> _WithTree:
    workflow = selectors.workflow_get(workflow_id)
    data, tree = _workflow_data(payload)
    workflow = services.workflow_save(actor=request.user, data=data, tree=tree, workflow=workflow)
    return _with_tree(workflow)


@router.delete("/workflow-definitions/{workflow_id}", response={204: None},
               summary="Delete a workflow definition with no communications (administrators)")
def delete_workflow(request: HttpRequest, workflow_id: str) -> Status:
    workflow = selectors.workflow_get(workflow_id)
    services.workflow_delete(actor=request.user, workflow=workflow)
    return Status(204, None)


# --- Communications --------------------------------------------------------------------------------


def _with_paths(communications: list[Communication]) -> list[Communication]:
    paths = selectors.communication_type_paths([c.communication_type for c in communications])
    for communication in communications:
        communication.type_path = paths[communication.communication_type_id]  # type: ignore[attr-defined]
    return communications


def _activity_data(request: HttpRequest, payload: CommunicationCreate) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True, exclude={"account", "contact", "communication_type"})
    refuse_nulls(data)
    activity_type = data["activity_type"] = payload.activity_type
    wrong = ("starts_at", "ends_at") if activity_type == ActivityType.TASK else ("due_on",)
    for name in wrong:
        if name in data:
            raise ValidationError({name: [_("A task has a due date (due_on), not a start and an end.")
                                          if activity_type == ActivityType.TASK
                                          else _("An event has starts_at and ends_at, not a due date.")]})
    key = data.get("kind") or DEFAULT_KINDS[ActivityType(activity_type)]
    data["kind"] = activity_selectors.kinds().filter(key=key).first()
    if data["kind"] is None:
        raise ValidationError({"kind": [_("Unknown kind %(key)s.") % {"key": key[:30]}]})
    for name in ("starts_at", "ends_at"):
        if name in data:
            data[name] = data[name].astimezone(dt.UTC)
    if "owner" in data:
        data["owner"] = _owner(request, data["owner"])
    return data


@router.get("/communications", response=CommunicationPage, summary="List communications",
            description="The communications registered with an account (account=<id>), or without it every one "
                        "you may see: the activity, its workflow branch and the person. Newest first; ordering: "
                        "starts_at (prefix - to reverse).")
def list_communications(request: HttpRequest, params: Query[CommunicationListParams]) -> dict:
    refuse_unknown_params(request, {"account"})
    qs = selectors.communication_api_list(user=request.user, params=request.GET)
    page = api_page(qs, params=params, allowed_orderings=COMMUNICATION_ORDERINGS, default_ordering="-starts_at")
    return {"items": _with_paths(page["items"]), "next": page["next"]}


@router.post("/communications", response={201: CommunicationOut}, summary="Register a communication",
             description="An activity (a task due on due_on, or an event from starts_at to ends_at) regarding the "
                         "account and the contact, filed under a branch of a workflow. The contact must work at "
                         "the account.")
def create_communication(request: HttpRequest, payload: CommunicationCreate) -> Status:
    account = selectors.api_account(user=request.user, public_id=payload.account)
    contact = selectors.api_contact(user=request.user, public_id=payload.contact) if payload.contact else None
    node = selectors.api_communication_type(public_id=payload.communication_type)
    communication = services.communication_register(actor=request.user, account=account, contact=contact,
                                                    communication_type=node,
                                                    data=_activity_data(request, payload))
    written = selectors.communication_written(user=request.user, communication=communication)
    return Status(201, _with_paths([written])[0])
