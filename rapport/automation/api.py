"""The automation API: task definitions, rules (with their preview, activate and deactivate actions),
the follow-ups rules create, and overrides that reroute an absent colleague's follow-ups.

Handlers parse, call a selector or service, answer. Everyone signed in reads task definitions and
rules; managers and administrators write them. A follow-up is seen by whoever may see its task, and
names its record only to a reader who may see that record. An override is seen by administrators,
by the manager of the absent user or of whoever receives the work, and by the two users themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema, Status

from rapport.activities import selectors as activity_selectors
from rapport.activities.models import OPEN_STATUSES, ActivityStatus
from rapport.automation import selectors, services
from rapport.automation.models import AssignTo, FollowUp, InactivityOf, Override, Rule, TaskDefinition, Trigger
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
from rapport.core.errors import StaleVersion
from rapport.core.models import User
from rapport.core.selectors import role_get, team_get, user_get

router = Router(tags=["automation"])

VERSION_HELP = "The version you read; a stale one answers 409"
DEFINITION_ORDERINGS = {"name": "name", "created_at": "created_at"}
RULE_ORDERINGS = {"name": "name", "created_at": "created_at"}
FOLLOW_UP_ORDERINGS = {"created_at": "created_at", "due_on": "due_at"}
OVERRIDE_ORDERINGS = {"starts_on": "starts_on", "created_at": "created_at"}
CLOSED_STATUSES = (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED)
# The stage a follow-up is at, by its task's status: open is the Contact stage.
STAGES = {ActivityStatus.OPEN: "contact", ActivityStatus.PENDING: "pending", ActivityStatus.COMPLETED: "completed",
          ActivityStatus.CANCELLED: "cancelled"}
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_STATUSES), "pending": (ActivityStatus.PENDING,), "completed": (ActivityStatus.COMPLETED,),
    "closed": CLOSED_STATUSES}
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}



def _user(obj: Any) -> dict[str, str] | None:
    return {"id": obj.public_id, "name": obj.display_name} if obj is not None else None



def _manager(request: HttpRequest) -> None:
    """Refuse (403) one who does not set up automation, before a version or a body is looked at."""
    if not services.may_manage(request.user):
        raise PermissionDenied(_("Only managers and administrators set up automation."))


def _fresh(obj: Any, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise StaleVersion(current_version=obj.version)


def _boolean(value: str, field: str) -> bool:
    found = BOOLEANS.get(value.strip().lower())
    if found is None:
        raise ValidationError({field: [_("Use true or false.")]})
    return found


def _choice(value: str, field: str, choices: Any) -> str:
    if value not in choices:
        raise ValidationError({field: [_("Use one of: %s.") % ", ".join(choices)]})
    return value


def _user_id(request: HttpRequest, value: str, field: str) -> int:
    if value == "me":
        return int(request.user.pk)
    found = user_get(user=request.user, public_id=value)
    if found is None:
        raise ValidationError({field: [_("No such user.")]})
    return int(found.pk)


# --- Schemas out -----------------------------------------------------------------------------------


class Ref(Schema):
    id: str
    name: str


class RecordRef(Schema):
    type: str = Field(..., description="account, contact, opportunity, order or support_item")
    id: str
    name: str


class DefinitionOut(Schema):
    id: str
    name: str
    contact_message: str = Field(..., description="Contact stage: what to do first")
    pending_message: str = Field(..., description="Pending stage: what waiting means")
    complete_message: str = Field(..., description="Complete stage: what done means")
    instructions: str
    is_active: bool = Field(..., description="false: no longer offered to new rules")
    rule_count: int = Field(..., description="How many rules use it")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: TaskDefinition) -> str:
        return obj.public_id

    @staticmethod
    def resolve_created_at(obj: TaskDefinition) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: TaskDefinition) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class RuleOut(Schema):
    id: str
    name: str
    description: str
    definition: Ref
    is_active: bool
    activated_at: dt.datetime | None
    trigger: str = Field(..., description="created, changed, inactivity, date or recurrence")
    record_type: str = Field(..., description="account, contact, opportunity, order or support_item")
    field: str = Field(..., description="changed: the field that changes; date: the date field")
    value: str = Field(..., description="changed: the value it changes to")
    days: int | None = Field(..., description="inactivity: days without; date: days after (negative: before)")
    inactivity_of: str = Field(..., description="order or activity (inactivity rules)")
    activity_kind: Ref | None = Field(..., description="The kind of activity (id: its key)")
    rrule: str = Field(..., description="recurrence: the schedule, an RRULE")
    starts_on: dt.date | None = Field(..., description="recurrence: the day the schedule starts")
    time_zone: str
    condition: dict[str, Any] = Field(..., description="{fields: {name: value}, attributes: {key: value}, "
                                                       "stage, owner_team (a team's id)}")
    due_in_days: int
    assign_to: str = Field(..., description="owner, user, team or role")
    assign_user: Ref | None
    assign_team: Ref | None
    assign_role: Ref | None = Field(..., description="The role (id: its key)")
    alert_email: bool
    created_by: Ref | None
    open_follow_ups: int = Field(..., description="Its follow-ups open or pending")
    closed_follow_ups: int = Field(..., description="Its follow-ups completed or cancelled")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Rule) -> str:
        return obj.public_id

    @staticmethod
    def resolve_definition(obj: Rule) -> dict[str, str] | None:
        return ref_out(obj.definition)

    @staticmethod
    def resolve_activated_at(obj: Rule) -> dt.datetime | None:
        return utc_time(obj.activated_at)

    @staticmethod
    def resolve_activity_kind(obj: Rule) -> dict[str, str] | None:
        kind = obj.activity_kind
        return {"id": kind.key, "name": kind.label} if kind is not None else None

    @staticmethod
    def resolve_condition(obj: Rule) -> dict[str, Any]:
        return obj.condition or {}

    @staticmethod
    def resolve_assign_user(obj: Rule) -> dict[str, str] | None:
        return _user(obj.assign_user)

    @staticmethod
    def resolve_assign_team(obj: Rule) -> dict[str, str] | None:
        return ref_out(obj.assign_team)

    @staticmethod
    def resolve_assign_role(obj: Rule) -> dict[str, str] | None:
        role = obj.assign_role
        return {"id": role.slug, "name": role.name} if role is not None else None

    @staticmethod
    def resolve_created_by(obj: Rule) -> dict[str, str] | None:
        return _user(obj.created_by)

    @staticmethod
    def resolve_open_follow_ups(obj: Rule) -> int:
        return obj.open_count

    @staticmethod
    def resolve_closed_follow_ups(obj: Rule) -> int:
        return obj.closed_count

    @staticmethod
    def resolve_created_at(obj: Rule) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Rule) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class PreviewOut(Schema):
    count: int = Field(..., description="How many follow-ups activating the rule would create now")
    records: list[RecordRef] = Field(..., description="The first records they would be about, among those you "
                                                      "may see")


class FollowUpOut(Schema):
    id: str
    rule: Ref
    regarding: RecordRef | None = Field(..., description="The record it is about; null when you may not see it")
    assignee: Ref
    stage: str = Field(..., description="contact (open), pending, completed or cancelled")
    message: str = Field(..., description="What the task definition says at this stage")
    instructions: str = Field(..., description="The task definition's instructions")
    due_on: dt.date | None
    task: str = Field(..., description="The id of its task (an activity)")
    rerouted_from: Ref | None = Field(..., description="Whom the rule chose, when an override sent it here")
    version: int = Field(..., description="Its task's version: send it back with pending or complete")
    created_at: dt.datetime

    @staticmethod
    def resolve_id(obj: FollowUp) -> str:
        return obj.public_id

    @staticmethod
    def resolve_rule(obj: FollowUp) -> dict[str, str] | None:
        return ref_out(obj.rule)

    @staticmethod
    def resolve_regarding(obj: FollowUp) -> dict[str, str] | None:
        record = getattr(obj, "regarding", None)
        return {"type": obj.record_type, "id": record.public_id, "name": str(record)} if record else None

    @staticmethod
    def resolve_assignee(obj: FollowUp) -> dict[str, str] | None:
        return _user(obj.assignee)

    @staticmethod
    def resolve_stage(obj: FollowUp) -> str:
        return STAGES.get(obj.task.status, str(obj.task.status))

    @staticmethod
    def resolve_message(obj: FollowUp) -> str:
        return services.stage_message(obj)

    @staticmethod
    def resolve_instructions(obj: FollowUp) -> str:
        return obj.rule.definition.instructions

    @staticmethod
    def resolve_due_on(obj: FollowUp) -> dt.date | None:
        return obj.task.due_on

    @staticmethod
    def resolve_task(obj: FollowUp) -> str:
        return obj.task.public_id

    @staticmethod
    def resolve_rerouted_from(obj: FollowUp) -> dict[str, str] | None:
        return _user(obj.rerouted_from)

    @staticmethod
    def resolve_version(obj: FollowUp) -> int:
        return obj.task.version

    @staticmethod
    def resolve_created_at(obj: FollowUp) -> dt.datetime | None:
        return utc_time(obj.created_at)


class OverrideOut(Schema):
    id: str
    absent: Ref = Field(..., description="The user who is away")
    starts_on: dt.date
    ends_on: dt.date
    to_user: Ref | None = Field(..., description="Who takes their follow-ups")
    to_team: Ref | None = Field(..., description="Or the team they are spread over")
    note: str
    moved: int = Field(..., description="How many follow-ups it moved")
    created_by: Ref
    created_at: dt.datetime
    reverted_at: dt.datetime | None
    reverted_by: Ref | None

    @staticmethod
    def resolve_id(obj: Override) -> str:
        return obj.public_id

    @staticmethod
    def resolve_absent(obj: Override) -> dict[str, str] | None:
        return _user(obj.absent)

    @staticmethod
    def resolve_to_user(obj: Override) -> dict[str, str] | None:
        return _user(obj.to_user)

    @staticmethod
    def resolve_to_team(obj: Override) -> dict[str, str] | None:
        return ref_out(obj.to_team)

    @staticmethod
    def resolve_moved(obj: Override) -> int:
        return obj.move_count

    @staticmethod
    def resolve_created_by(obj: Override) -> dict[str, str] | None:
        return _user(obj.created_by)

    @staticmethod
    def resolve_created_at(obj: Override) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_reverted_at(obj: Override) -> dt.datetime | None:
        return utc_time(obj.reverted_at)

    @staticmethod
    def resolve_reverted_by(obj: Override) -> dict[str, str] | None:
        return _user(obj.reverted_by)


class DefinitionPage(Schema):
    items: list[DefinitionOut]
    next: str | None


class RulePage(Schema):
    items: list[RuleOut]
    next: str | None


class FollowUpPage(Schema):
    items: list[FollowUpOut]
    next: str | None


class OverridePage(Schema):
    items: list[OverrideOut]
    next: str | None


# --- Query parameters ------------------------------------------------------------------------------


class DefinitionListParams(ListParams):
    active: str | None = Field(None, description="true: those offered to new rules; false: the others")


class RuleListParams(ListParams):
    active: str | None = Field(None, description="true or false")
    trigger: str | None = Field(None, description="created, changed, inactivity, date or recurrence")
    record_type: str | None = Field(None, description="account, contact, opportunity, order or support_item")


class FollowUpListParams(ListParams):
    status: str | None = Field(None, description="open (open or pending), pending, completed, or closed "
                                                 "(completed or cancelled)")
    rule: str | None = Field(None, description="A rule's id")
    assignee: str | None = Field(None, description="A user's id, or 'me'")
    record: str | None = Field(None, description="The record, as type:id (account:k3j...)")


class OverrideListParams(ListParams):
    absent: str | None = Field(None, description="The absent user's id, or 'me'")
    current: str | None = Field(None, description="true: not reverted and not yet over")


# --- Schemas in ------------------------------------------------------------------------------------


class DefinitionIn(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    contact_message: str | None = Field(None, min_length=1, max_length=4000)
    pending_message: str | None = Field(None, max_length=4000)
    complete_message: str | None = Field(None, max_length=4000)
    instructions: str | None = Field(None, max_length=20000)
    is_active: bool | None = None


class DefinitionCreate(DefinitionIn):
    name: str = Field(..., min_length=1, max_length=120)
    contact_message: str = Field(..., min_length=1, max_length=4000)


class DefinitionUpdate(DefinitionIn):
    version: int = Field(..., description=VERSION_HELP)


class RuleIn(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=4000)
    definition: str | None = Field(None, description="The task definition's id (required to create)")
    trigger: str | None = Field(None, description="created, changed, inactivity, date or recurrence")
    record_type: str | None = Field(None, description="account, contact, opportunity, order or support_item")
    field: str | None = Field(None, max_length=60, description="changed: the field; date: the date field")
    value: str | None = Field(None, max_length=200, description="changed: the value it changes to")
    days: int | None = Field(None, description="inactivity: days without (1 or more); date: days after the date "
                                               "(negative: before)")
    inactivity_of: str | None = Field(None, description="order or activity")
    activity_kind: str | None = Field(None, max_length=30, description="An activity kind's key (inactivity of "
                                                                        "activity)")
    rrule: str | None = Field(None, max_length=300, description="recurrence: an RRULE, such as "
                                                                "FREQ=MONTHLY;BYDAY=1MO")
    starts_on: dt.date | None = Field(None, description="recurrence: the day the schedule starts")
    time_zone: str | None = Field(None, max_length=64)
    condition: dict[str, Any] | None = Field(None, description="{fields: {name: value}, attributes: {key: value}, "
                                                               "stage, owner_team}; null or {} for none")
    due_in_days: int | None = Field(None, ge=0, le=3650)
    assign_to: str | None = Field(None, description="owner, user, team or role")
    assign_user: str | None = Field(None, description="A user's id (assign_to user)")
    assign_team: str | None = Field(None, description="A team's id (assign_to team)")
    assign_role: str | None = Field(None, description="A role's key (assign_to role)")
    alert_email: bool | None = None


class RuleUpdate(RuleIn):
    version: int = Field(..., description=VERSION_HELP)


class VersionIn(InputSchema):
    version: int | None = Field(None, description=VERSION_HELP)


class PendingIn(InputSchema):
    note: str = Field(..., max_length=2000, description="What the follow-up waits for")
    version: int | None = Field(None, description="The version (its task's) you read; a stale one answers 409")


class CompleteIn(InputSchema):
    version: int | None = Field(None, description="The version (its task's) you read; a stale one answers 409")


class OverrideCreate(InputSchema):
    absent: str = Field(..., description="The id of the user who is away")
    starts_on: dt.date
    ends_on: dt.date
    to_user: str | None = Field(None, description="The id of the user who takes their follow-ups")
    to_team: str | None = Field(None, description="Or the id of a team to spread them over")
    note: str = Field("", max_length=300)


# --- Reads (the API's lists) -----------------------------------------------------------------------


def _definitions() -> QuerySet[TaskDefinition]:
    return selectors.definition_list()


def _definition(public_id: str) -> TaskDefinition:
    found = _definitions().filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def _rules() -> QuerySet[Rule]:
    return selectors.rule_list().select_related("assign_user", "assign_team", "assign_role", "activity_kind",
                                                "created_by")


def _rule(public_id: str) -> Rule:
    found = _rules().filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


def _follow_ups(request: HttpRequest) -> QuerySet[FollowUp]:
    return selectors.follow_up_api_list(user=request.user).annotate(due_at=F("task__starts_at"))


def _follow_up(request: HttpRequest, public_id: str) -> FollowUp:
    found = _follow_ups(request).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return _with_records(request, [found])[0]


def _with_records(request: HttpRequest, follow_ups: list[FollowUp]) -> list[FollowUp]:
    """Each follow-up with the record it is about, where the caller may see it: one query per record type."""
    found = activity_selectors.records_linked(user=request.user,
                                              links=[(f.record_type, f.record_id) for f in follow_ups])
    by_key = {(record.record_type, record.pk): record for record in found}
    for follow_up in follow_ups:
        follow_up.regarding = by_key.get((follow_up.record_type, follow_up.record_id))  # type: ignore[attr-defined]
    return follow_ups


def _overrides(request: HttpRequest) -> QuerySet[Override]:
    return selectors.override_api_list(user=request.user)


def _override(request: HttpRequest, public_id: str) -> Override:
    found = _overrides(request).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found


# --- Reading a body --------------------------------------------------------------------------------

RULE_CLEARABLE = ("description", "field", "value", "days", "inactivity_of", "activity_kind", "rrule", "starts_on",
                  "condition", "assign_user", "assign_team", "assign_role")
BLANK_WHEN_NULL = ("description", "field", "value", "inactivity_of", "rrule")


def _rule_data(request: HttpRequest, payload: RuleIn) -> dict[str, Any]:
    """The fields sent, with the records they name found (an unknown one is named by its field)."""
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    refuse_nulls(data, RULE_CLEARABLE)
    for name in BLANK_WHEN_NULL:
        if name in data and data[name] is None:
            data[name] = ""
    if "condition" in data and data["condition"] is None:
        data["condition"] = {}
    if "trigger" in data:
        data["trigger"] = _choice(data["trigger"], "trigger", Trigger.values)
    if "record_type" in data:
        data["record_type"] = _choice(data["record_type"], "record_type", list(services.WATCHED))
    if data.get("inactivity_of"):
        data["inactivity_of"] = _choice(data["inactivity_of"], "inactivity_of", InactivityOf.values)
    if "assign_to" in data:
        data["assign_to"] = _choice(data["assign_to"], "assign_to", AssignTo.values)
    if "definition" in data:
        data["definition"] = TaskDefinition.objects.filter(public_id=data["definition"]).first()
        if data["definition"] is None:
            raise ValidationError({"definition": [_("No such task definition.")]})
    finders = {
        "activity_kind": (lambda key: activity_selectors.kinds().filter(key=key).first(), _("No such kind.")),
        "assign_user": (lambda pid: user_get(user=request.user, public_id=pid), _("No such user.")),
        "assign_team": (lambda pid: team_get(user=request.user, public_id=pid), _("No such team.")),
        "assign_role": (lambda slug: role_get(slug=slug), _("No such role.")),
    }
    for name, (find, missing) in finders.items():
        if data.get(name):
            data[name] = find(data[name])
            if data[name] is None:
                raise ValidationError({name: [missing]})
        elif name in data:
            data[name] = None
    return data


# --- Task definitions ------------------------------------------------------------------------------


@router.get("/task-definitions", response=DefinitionPage, summary="List task definitions",
            description="Everyone signed in may read them. Filter: active (true or false). Orderings: name "
                        "(default), created_at.")
def list_definitions(request: HttpRequest, params: Query[DefinitionListParams]) -> dict:
    refuse_unknown_params(request, {"active"})
    qs = _definitions()
    if params.active:
        qs = qs.filter(is_active=_boolean(params.active, "active"))
    return api_page(qs, params=params, allowed_orderings=DEFINITION_ORDERINGS, default_ordering="name")


@router.post("/task-definitions", response={201: DefinitionOut},
             summary="Create a task definition (managers and administrators)",
             description="A named kind of follow-up with what its holder is told at each stage: contact (what to "
                         "do first), pending (what waiting means), complete (what done means).")
def create_definition(request: HttpRequest, payload: DefinitionCreate) -> Status:
    data = payload.model_dump(exclude_unset=True)
    refuse_nulls(data)
    definition = services.definition_save(actor=request.user, definition=None, data=data)
    return Status(201, _definition(definition.public_id))


@router.get("/task-definitions/{definition_id}", response=DefinitionOut, summary="Get a task definition")
def get_definition(request: HttpRequest, definition_id: str) -> TaskDefinition:
    return _definition(definition_id)


@router.patch("/task-definitions/{definition_id}", response=DefinitionOut,
              summary="Change a task definition (managers and administrators)",
              description="is_active=false stops offering it to new rules; the rules using it keep it.")
def update_definition(request: HttpRequest, definition_id: str, payload: DefinitionUpdate) -> TaskDefinition:
    definition = _definition(definition_id)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    refuse_nulls(data)
    services.definition_save(actor=request.user, definition=definition, data=data, version=payload.version)
    return _definition(definition_id)


@router.delete("/task-definitions/{definition_id}", response={204: None},
               summary="Delete a task definition no rule uses (managers and administrators)",
               description="422 while rules use it: change them, or set is_active=false to stop offering it.")
def delete_definition(request: HttpRequest, definition_id: str, version: int | None = None) -> Status:
    definition = _definition(definition_id)
    _manager(request)
    _fresh(definition, version)
    services.definition_delete(actor=request.user, definition=definition)
    return Status(204, None)


# --- Rules -----------------------------------------------------------------------------------------


@router.get("/rules", response=RulePage, summary="List rules",
            description="Everyone signed in may read them. Filters: active (true or false), trigger, record_type. "
                        "Orderings: name (default), created_at.")
def list_rules(request: HttpRequest, params: Query[RuleListParams]) -> dict:
    refuse_unknown_params(request, {"active", "trigger", "record_type"})
    qs = _rules()
    if params.active:
        qs = qs.filter(is_active=_boolean(params.active, "active"))
    if params.trigger:
        qs = qs.filter(trigger=_choice(params.trigger, "trigger", Trigger.values))
    if params.record_type:
        qs = qs.filter(record_type=_choice(params.record_type, "record_type", list(services.WATCHED)))
    return api_page(qs, params=params, allowed_orderings=RULE_ORDERINGS, default_ordering="name")


@router.post("/rules", response={201: RuleOut}, summary="Create a rule (managers and administrators)",
             description="Created inactive: preview it, then activate it. Every mistake is named by its field "
                         "(422), and nothing is saved then.")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status:
    rule = services.rule_save(actor=request.user, rule=None, data=_rule_data(request, payload))
    return Status(201, _rule(rule.public_id))


@router.get("/rules/{rule_id}", response=RuleOut, summary="Get a rule")
def get_rule(request: HttpRequest, rule_id: str) -> Rule:
    return _rule(rule_id)


@router.patch("/rules/{rule_id}", response=RuleOut, summary="Change a rule (managers and administrators)",
              description="An active rule stays active.")
def update_rule(request: HttpRequest, rule_id: str, payload: RuleUpdate) -> Rule:
    rule = _rule(rule_id)
    services.rule_save(actor=request.user, rule=rule, data=_rule_data(request, payload), version=payload.version)
    return _rule(rule_id)


@router.delete("/rules/{rule_id}", response={204: None}, summary="Delete a rule (managers and administrators)",
               description="422 once it has made follow-ups: deactivate it instead, so they keep their rule.")
def delete_rule(request: HttpRequest, rule_id: str, version: int | None = None) -> Status:
    rule = _rule(rule_id)
    _manager(request)
    _fresh(rule, version)
    services.rule_delete(actor=request.user, rule=rule)
    return Status(204, None)


@router.post("/rules/{rule_id}/preview", response=PreviewOut,
             summary="What activating a rule would create now (managers and administrators)",
             description="How many follow-ups a sweep would create today, and the first records they would be "
                         "about (of those you may see). Event rules (created, changed) wait for the next event: 0.")
def preview_rule(request: HttpRequest, rule_id: str) -> dict:
    rule = _rule(rule_id)
    preview = services.rule_preview(actor=request.user, rule=rule)
    records = [{"type": rule.record_type, "id": record.public_id, "name": str(record)}
               for record in preview.records if record_visible(request.user, record)]
    return {"count": preview.count, "records": records}


@router.post("/rules/{rule_id}/activate", response=RuleOut, summary="Activate a rule (managers and administrators)",
             description="From now on it creates follow-ups. The body may name the version you read.")
def activate_rule(request: HttpRequest, rule_id: str, payload: Body[VersionIn | None] = None) -> Rule:
    return _switch(request, rule_id, payload, active=True)


@router.post("/rules/{rule_id}/deactivate", response=RuleOut,
             summary="Deactivate a rule (managers and administrators)",
             description="It creates nothing more; its follow-ups stay. The body may name the version you read.")
def deactivate_rule(request: HttpRequest, rule_id: str, payload: Body[VersionIn | None] = None) -> Rule:
    return _switch(request, rule_id, payload, active=False)


def _switch(request: HttpRequest, rule_id: str, payload: VersionIn | None, *, active: bool) -> Rule:
    rule = _rule(rule_id)
    _manager(request)
    _fresh(rule, payload.version if payload is not None else None)
    services.rule_activate(actor=request.user, rule=rule, active=active)
    return _rule(rule_id)


# --- Follow-ups ------------------------------------------------------------------------------------


@router.get("/follow-ups", response=FollowUpPage, summary="List follow-ups",
            description="The follow-ups whose task you may see. Filters: status (open, pending, completed, "
                        "closed), rule (its id), assignee (a user's id or 'me'), record (type:id). Orderings: "
                        "created_at, due_on; default -created_at (newest first).")
def list_follow_ups(request: HttpRequest, params: Query[FollowUpListParams]) -> dict:
    refuse_unknown_params(request, {"status", "rule", "assignee", "record"})
    qs = _follow_ups(request)
    if params.status:
        statuses = STATUS_FILTERS.get(params.status)
        if statuses is None:
            raise ValidationError({"status": [_("Use one of: %s.") % ", ".join(STATUS_FILTERS)]})
        qs = qs.filter(task__status__in=statuses)
    if params.rule:
        rule_id = Rule.objects.filter(public_id=params.rule).values_list("pk", flat=True).first()
        if rule_id is None:
            raise ValidationError({"rule": [_("No such rule.")]})
        qs = qs.filter(rule_id=rule_id)
    if params.assignee:
        qs = qs.filter(assignee_id=_user_id(request, params.assignee, "assignee"))
    if params.record:
        record = activity_selectors.record_ref(user=request.user, ref=params.record, field="record")
        qs = qs.filter(record_type=record.record_type, record_id=record.pk)
    page = api_page(qs, params=params, allowed_orderings=FOLLOW_UP_ORDERINGS, default_ordering="-created_at")
    return {"items": _with_records(request, page["items"]), "next": page["next"]}


@router.get("/follow-ups/{follow_up_id}", response=FollowUpOut, summary="Get a follow-up")
def get_follow_up(request: HttpRequest, follow_up_id: str) -> FollowUp:
    return _follow_up(request, follow_up_id)


@router.post("/follow-ups/{follow_up_id}/pending", response=FollowUpOut, summary="Set a follow-up pending",
             description="Its assignee (and whoever may change their tasks), saying what it waits for: the note "
                         "is added to the task's description.")
def pending_follow_up(request: HttpRequest, follow_up_id: str, payload: PendingIn) -> FollowUp:
    follow_up = _follow_up(request, follow_up_id)
    services.follow_up_set_stage(actor=request.user, follow_up=follow_up, status=ActivityStatus.PENDING,
                                 note=payload.note, version=payload.version)
    return _follow_up(request, follow_up_id)


@router.post("/follow-ups/{follow_up_id}/complete", response=FollowUpOut, summary="Complete a follow-up",
             description="Its assignee (and whoever may change their tasks). The body may name the version you "
                         "read.")
def complete_follow_up(request: HttpRequest, follow_up_id: str, payload: Body[CompleteIn | None] = None) -> FollowUp:
    follow_up = _follow_up(request, follow_up_id)
    services.follow_up_set_stage(actor=request.user, follow_up=follow_up, status=ActivityStatus.COMPLETED,
                                 version=payload.version if payload is not None else None)
    return _follow_up(request, follow_up_id)


# --- Overrides -------------------------------------------------------------------------------------


@router.get("/overrides", response=OverridePage, summary="List follow-up overrides",
            description="Administrators see every override; managers those of their teams; everyone those they "
                        "are away in or receive work from. Filters: absent (a user's id or 'me'), current=true "
                        "(not reverted and not yet over). Orderings: starts_on, created_at; default -starts_on.")
def list_overrides(request: HttpRequest, params: Query[OverrideListParams]) -> dict:
    refuse_unknown_params(request, {"absent", "current"})
    qs = _overrides(request)
    if params.absent:
        qs = qs.filter(absent_id=_user_id(request, params.absent, "absent"))
    if params.current:
        current = Q(reverted_at__isnull=True, ends_on__gte=timezone.localdate())
        qs = qs.filter(current) if _boolean(params.current, "current") else qs.exclude(current)
    return api_page(qs, params=params, allowed_orderings=OVERRIDE_ORDERINGS, default_ordering="-starts_on")


@router.post("/overrides", response={201: OverrideOut}, summary="Reroute an absent user's follow-ups",
             description="Their manager or an administrator. From starts_on to ends_on, the user's open follow-ups "
                         "(now, if the range has begun) and those rules create for them go to to_user, or are "
                         "spread over to_team. Revert it to give back those still open.")
def create_override(request: HttpRequest, payload: OverrideCreate) -> Status:
    absent = _named_user(request, payload.absent, "absent")
    to_user = _named_user(request, payload.to_user, "to_user") if payload.to_user else None
    to_team = team_get(user=request.user, public_id=payload.to_team) if payload.to_team else None
    if payload.to_team and to_team is None:
        raise ValidationError({"to_team": [_("No such team.")]})
    override = services.override_create(actor=request.user, absent=absent, starts_on=payload.starts_on,
                                        ends_on=payload.ends_on, to_user=to_user, to_team=to_team,
                                        note=payload.note)
    return Status(201, _override(request, override.public_id))


def _named_user(request: HttpRequest, public_id: str, field: str) -> User:
    """Any user, active or not: the service says why an inactive one cannot take the work."""
    user = user_get(user=request.user, public_id=public_id)
    if user is None:
        raise ValidationError({field: [_("No such user.")]})
    return user


@router.get("/overrides/{override_id}", response=OverrideOut, summary="Get a follow-up override")
def get_override(request: HttpRequest, override_id: str) -> Override:
    return _override(request, override_id)


@router.post("/overrides/{override_id}/revert", response=OverrideOut, summary="Revert a follow-up override",
             description="Their manager or an administrator. The follow-ups it moved that are still open, and "
                         "still with whom they went to, go back. 409 when it was reverted already.")
def revert_override(request: HttpRequest, override_id: str) -> Override:
    override = _override(request, override_id)
    services.override_revert(actor=request.user, override=override)
    return _override(request, override_id)
