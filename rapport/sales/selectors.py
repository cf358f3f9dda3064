"""Reads of leads, opportunities, orders, the pipeline board, the forecast and communications.

Every read of a business record goes through visible_to(user).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities.models import Activity
from rapport.core.access import access_record, record_visible
from rapport.core.history import history_for
from rapport.core.models import Action
from rapport.directory.filters import owner_q
from rapport.directory.models import Account, Contact
from rapport.sales.filters import filter_leads, filter_opportunities, filter_orders
from rapport.sales.models import (
    Communication,
    CommunicationType,
    Lead,
    Opportunity,
    OpportunityContact,
    Order,
    Pipeline,
    PipelineStage,
    WorkflowDefinition,
)
from rapport.sales.services import default_pipeline

CENT = Decimal("0.01")
# Won and lost deals stay on the board this long after closing; older ones are in the list.
BOARD_CLOSED_DAYS = 90
BOARD_CARDS = 25
# What a card shows, and what deciding whether it may be seen and moved reads.
BOARD_CARD_FIELDS = ("id", "public_id", "version", "name", "amount", "currency", "expected_close_on", "stage_id",
                     "owner_id", "visibility", "deleted_at", "account_id", "account__public_id", "account__name",
                     "account__owner_id", "account__visibility", "account__deleted_at", "owner__username",
                     "owner__first_name", "owner__last_name")
PANEL_ROWS = 20


# --- Lists and single records ----------------------------------------------------------------------


def lead_list(*, user: Any, params: Any) -> QuerySet[Lead]:
    return filter_leads(Lead.objects.visible_to(user).select_related("owner"), params, user=user)


def opportunity_list(*, user: Any, params: Any) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.visible_to(user).select_related("owner", "account", "stage", "stage__pipeline")
    return filter_opportunities(qs, params, user=user)


def order_list(*, user: Any, params: Any) -> QuerySet[Order]:
    return filter_orders(Order.objects.visible_to(user).select_related("owner", "account"), params, user=user)


def lead_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Lead:
    qs = Lead.objects.select_related("owner", "account", "contact", "opportunity")
    return access_record(user, Lead, public_id, action, queryset=qs, deleted=deleted)


def opportunity_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Opportunity:
    qs = Opportunity.objects.select_related("owner", "account", "stage", "stage__pipeline").prefetch_related(
        "contact_roles__contact")
    return access_record(user, Opportunity, public_id, action, queryset=qs, deleted=deleted)


def order_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Order:
    qs = Order.objects.select_related("owner", "account", "opportunity").prefetch_related("lines")
    return access_record(user, Order, public_id, action, queryset=qs, deleted=deleted)


def visible_contact_roles(*, user: Any, opportunity: Opportunity) -> list[OpportunityContact]:
    """The people of a deal the user may see, with their roles."""
    visible = Contact.objects.visible_to(user).values("id")
    return list(OpportunityContact.objects.filter(opportunity=opportunity, contact_id__in=visible)
                .select_related("contact").order_by("id"))


def lead_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    lead = lead_get(user=user, public_id=public_id)
    return {
        "lead": lead,
        "account": lead.account if record_visible(user, lead.account) else None,
        "contact": lead.contact if record_visible(user, lead.contact) else None,
        "opportunity": lead.opportunity if record_visible(user, lead.opportunity) else None,
        "history": history_for(lead, user=user),
    }


def opportunity_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    opportunity = opportunity_get(user=user, public_id=public_id)
    lead = Lead.objects.visible_to(user).filter(opportunity=opportunity).first()
    return {
        "opportunity": opportunity,
        "account": opportunity.account if record_visible(user, opportunity.account) else None,
        "contact_roles": visible_contact_roles(user=user, opportunity=opportunity),
        "stage_changes": list(opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by")),
        "orders": list(Order.objects.visible_to(user).filter(opportunity=opportunity).order_by("-ordered_on")[:20]),
        "lead": lead,
        "history": history_for(opportunity, user=user),
    }


def order_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    order = order_get(user=user, public_id=public_id)
    return {
        "order": order,
        "account": order.account if record_visible(user, order.account) else None,
        "opportunity": order.opportunity if record_visible(user, order.opportunity) else None,
        "lines": list(order.lines.all()),
        "history": history_for(order, user=user),
    }


# --- Pipelines and stages --------------------------------------------------------------------------


def pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.prefetch_related("stages"))


def stage_choices(*, pipeline: Pipeline | None = None, active_only: bool = True) -> QuerySet[PipelineStage]:
    qs = PipelineStage.objects.select_related("pipeline")
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    return qs.filter(is_active=True) if active_only else qs


def stage_get(public_id: str) -> PipelineStage:
    stage = PipelineStage.objects.select_related("pipeline").filter(public_id=public_id).first()
    if stage is None:
        raise Http404
    return stage


@dataclass
class Column:
    stage: PipelineStage
    cards: list[Opportunity]
    count: int
    totals: list[tuple[str, Decimal, Decimal]]  # (currency, amount, weighted)

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def pipeline_board(*, user: Any, pipeline: Pipeline | None = None, params: Any = None) -> dict[str, Any]:
    """A column per stage of the pipeline: its first cards (soonest to close first) and totals.

    Won and lost columns hold the deals closed in the last BOARD_CLOSED_DAYS.
    """
    pipeline = pipeline or default_pipeline()
    stages = list(pipeline.stages.filter(is_active=True).order_by("position", "id"))
    base = filter_opportunities(Opportunity.objects.visible_to(user), params or {}, user=user).filter(
        stage__in=stages)
    since = timezone.localdate() - dt.timedelta(days=BOARD_CLOSED_DAYS)
    closed_ids = [stage.pk for stage in stages if stage.is_closed]
    base = base.exclude(stage_id__in=closed_ids, closed_on__lt=since)
    totals: dict[int, list[tuple[str, Decimal, Decimal]]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for row in (base.order_by().values("stage_id", "currency")
                .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(_weighted()))
                .order_by("stage_id", "currency")):
        counts[row["stage_id"]] += row["n"]
        totals[row["stage_id"]].append((row["currency"], _money(row["total"]), _money(row["weighted"] / 100)))
    columns = []
    for stage in stages:
        cards = list(base.filter(stage=stage).select_related("account", "owner").only(*BOARD_CARD_FIELDS)
                     .order_by("expected_close_on", "id")[:BOARD_CARDS]) \
            if counts[stage.pk] else []
        columns.append(Column(stage=stage, cards=cards, count=counts[stage.pk], totals=totals[stage.pk]))
    return {"pipeline": pipeline, "columns": columns, "pipelines": pipelines(), "closed_days": BOARD_CLOSED_DAYS}


# --- Forecast --------------------------------------------------------------------------------------


def _weighted() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") * F("probability"), output_field=DecimalField(max_digits=20,
                                                                                       decimal_places=2))


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


@dataclass
class ForecastRow:
    key: Any  # a month (date) or an owner's display name
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal
    owner_id: str | None = None  # the owner's public id, on rows by owner (two people may share a name)


@dataclass
class Forecast:
    start: dt.date
    end: dt.date
    by_month: list[ForecastRow] = field(default_factory=list)
    by_owner: list[ForecastRow] = field(default_factory=list)
    totals: list[ForecastRow] = field(default_factory=list)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


FORECAST_FIRST_YEAR, FORECAST_LAST_YEAR = 1900, 9000


def forecast_period(params: Any) -> tuple[dt.date, dt.date]:
    """The months a forecast covers: `from` and `to` (YYYY-MM), by default this month and the next five."""
    def month(name: str, default: dt.date) -> dt.date:
        raw = (params.get(name) or "").strip() if params else ""
        if not raw:
            return default
        try:
            value = dt.date.fromisoformat(f"{raw[:7]}-01")
        except ValueError:
            raise ValidationError({name: [_("Enter a month as YYYY-MM.")]}) from None
        if not FORECAST_FIRST_YEAR <= value.year <= FORECAST_LAST_YEAR:
            # Months near the end of the calendar cannot be counted to; refused before they are.
            raise ValidationError({name: [_("Enter a month from %(first)s-01 to %(last)s-12.")
                                          % {"first": FORECAST_FIRST_YEAR, "last": FORECAST_LAST_YEAR}]})
        return value

    start = month("from", _month_start(timezone.localdate()))
    default_end = start
    for _i in range(5):
        default_end = (default_end + dt.timedelta(days=32)).replace(day=1)
    end = month("to", default_end)
    if end < start:
        raise ValidationError({"to": [_("The last month comes before the first.")]})
    if (end.year - start.year) * 12 + end.month - start.month > 35:
        raise ValidationError({"to": [_("A forecast covers at most 36 months.")]})
    return start, end


def forecast(*, user: Any, params: Any = None) -> Forecast:
    """Open deals expected to close in the period, by month and by owner: the amount and the amount
    weighted by probability, per currency (amounts in different currencies are never added up)."""
    start, end = forecast_period(params)
    last_day = (end + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    qs = (Opportunity.objects.visible_to(user)
          .filter(is_open=True, expected_close_on__gte=start, expected_close_on__lte=last_day).order_by())
    if params and (params.get("owner") or "").strip():
        qs = qs.filter(owner_q(params["owner"].strip(), user))
    result = Forecast(start=start, end=end)
    measures = {"n": Count("id"), "total": Sum("amount"), "weighted": Sum(_weighted())}
    for row in qs.annotate(month=TruncMonth("expected_close_on")).values("month", "currency") \
            .annotate(**measures).order_by("month", "currency"):
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        result.by_month.append(ForecastRow(month, row["currency"], row["n"], _money(row["total"]),
                                           _money(row["weighted"] / 100)))
    owner_rows = qs.values("owner__public_id", "owner__first_name", "owner__last_name", "owner__username",
                           "currency").annotate(**measures).order_by("owner__username", "currency")
    for row in owner_rows:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]
        result.by_owner.append(ForecastRow(name, row["currency"], row["n"], _money(row["total"]),
                                           _money(row["weighted"] / 100), owner_id=row["owner__public_id"]))
    for row in qs.values("currency").annotate(**measures).order_by("currency"):
        result.totals.append(ForecastRow(None, row["currency"], row["n"], _money(row["total"]),
                                         _money(row["weighted"] / 100)))
    return result


# --- Panels on the account and contact pages -------------------------------------------------------


def account_opportunities(*, user: Any, account: Account) -> list[Opportunity]:
    """The account's deals the user may see: open ones first, soonest to close first."""
    return list(Opportunity.objects.visible_to(user).filter(account=account).select_related("stage", "owner")
                .order_by("-is_open", "expected_close_on", "id")[:PANEL_ROWS])


def account_orders(*, user: Any, account: Account) -> list[Order]:
    return list(Order.objects.visible_to(user).filter(account=account).order_by("-ordered_on", "-id")[:PANEL_ROWS])


def contact_opportunities(*, user: Any, contact: Contact) -> list[OpportunityContact]:
    visible = Opportunity.objects.visible_to(user).values("id")
    return list(OpportunityContact.objects.filter(contact=contact, opportunity_id__in=visible)
                .select_related("opportunity", "opportunity__stage")[:PANEL_ROWS])


def last_order_on(*, account: Account) -> dt.date | None:
    """The day of the account's latest order that was not cancelled (for inactivity rules)."""
    return (Order.objects.alive().filter(account=account).exclude(status="cancelled")
            .order_by("-ordered_on").values_list("ordered_on", flat=True).first())


# --- Workflows and communications ------------------------------------------------------------------


@dataclass
class Branch:
    node: CommunicationType
    children: list[Branch]
    communications: list[Communication]

    @property
    def total(self) -> int:
        return len(self.communications) + sum(child.total for child in self.children)


def workflow_trees(*, active_only: bool = True) -> list[tuple[WorkflowDefinition, list[Branch]]]:
    """Every workflow with its tree of communication types (two queries)."""
    workflows = list(WorkflowDefinition.objects.filter(is_active=True) if active_only
                     else WorkflowDefinition.objects.all())
    nodes = list(CommunicationType.objects.filter(workflow__in=workflows).order_by("position", "id"))
    return [(workflow, _branches(nodes, workflow.pk, {})) for workflow in workflows]


def _branches(nodes: list[CommunicationType], workflow_id: int,
              by_type: dict[int, list[Communication]]) -> list[Branch]:
    children: dict[int | None, list[CommunicationType]] = defaultdict(list)
    for node in nodes:
        if node.workflow_id == workflow_id:
            children[node.parent_id].append(node)

    def build(parent_id: int | None, depth: int) -> list[Branch]:
        if depth > 10:
            return []
        return [Branch(node=node, children=build(node.pk, depth + 1), communications=by_type.get(node.pk, []))
                for node in children[parent_id]]

    return build(None, 0)


def account_communications(*, user: Any, account: Account) -> dict[str, Any]:
    """The communications with a company the user may see, grouped by workflow tree."""
    visible = Activity.objects.visible_to(user).values("id")
    communications = list(Communication.objects.filter(account=account, activity_id__in=visible)
                          .select_related("activity", "activity__kind", "contact", "communication_type")
                          .order_by("-activity__starts_at", "-id")[:500])
    by_type: dict[int, list[Communication]] = defaultdict(list)
    for communication in communications:
        if communication.contact is not None and not record_visible(user, communication.contact):
            communication.contact = None
        by_type[communication.communication_type_id].append(communication)
    workflows = list(WorkflowDefinition.objects.all())
    nodes = list(CommunicationType.objects.filter(workflow__in=workflows).order_by("position", "id"))
    trees = [(workflow, _branches(nodes, workflow.pk, by_type)) for workflow in workflows]
    trees = [(workflow, branches) for workflow, branches in trees
             if workflow.is_active or any(branch.total for branch in branches)]
    return {"account": account, "trees": trees, "count": len(communications),
            "contacts": list(Contact.objects.visible_to(user).filter(account=account).order_by("name_key", "id")
                             [:200])}


def communication_type_get(public_id: str) -> CommunicationType:
    node = CommunicationType.objects.select_related("workflow").filter(public_id=public_id).first()
    if node is None:
        raise Http404
    return node


def workflow_get(public_id: str) -> WorkflowDefinition:
    workflow = WorkflowDefinition.objects.filter(public_id=public_id).first()
    if workflow is None:
        raise Http404
    return workflow


def workflow_tree(workflow: WorkflowDefinition) -> list[dict[str, Any]]:
    """A workflow's branches as nested {"id", "name", "children"} dicts (the API's and the editor's form)."""
    nodes = list(workflow.types.order_by("position", "id"))

    def as_dicts(branches: list[Branch]) -> list[dict[str, Any]]:
        return [{"id": b.node.public_id, "name": b.node.name, "children": as_dicts(b.children)} for b in branches]

    return as_dicts(_branches(nodes, workflow.pk, {}))


# --- Opportunity pages (issue 7, Sales item 2) -------------------------------------------------------


def hidden_contact_roles(*, user: Any, opportunity: Opportunity) -> list[tuple[Contact, str]]:
    """The people of a deal the user may not see, with their roles: an edit by that user keeps them."""
    visible = Contact.objects.visible_to(user).values("id")
    return [(row.contact, row.role) for row in OpportunityContact.objects.filter(opportunity=opportunity)
            .exclude(contact_id__in=visible).select_related("contact").order_by("id")]


# --- Lead and order pages (issue 7: leads, orders) -------------------------------------------------


def account_opportunity_choices(*, user: Any, account: Account | None) -> QuerySet[Opportunity]:
    """The visible deals of an account, open ones first, for an order's opportunity select."""
    if account is None:
        return Opportunity.objects.none()
    return (Opportunity.objects.visible_to(user).filter(account=account)
            .order_by("-is_open", "-expected_close_on", "-id"))


# --- The sales API (issue 7, item 6) ---------------------------------------------------------------


def _visible_or_invalid(qs: QuerySet, public_id: str, field: str, message: str) -> Any:
    found = qs.filter(public_id=public_id).first()
    if found is None:
        raise ValidationError({field: [message]})
    return found


def api_account(*, user: Any, public_id: str, field: str = "account") -> Account:
    """The account a request names by public id, if the user may see it; else an error on `field`."""
    return _visible_or_invalid(Account.objects.visible_to(user), public_id, field, _("No such account."))


def api_contact(*, user: Any, public_id: str, field: str = "contact") -> Contact:
    return _visible_or_invalid(Contact.objects.visible_to(user), public_id, field, _("No such contact."))


def api_opportunity(*, user: Any, public_id: str, field: str = "opportunity") -> Opportunity:
    return _visible_or_invalid(Opportunity.objects.visible_to(user).select_related("stage"), public_id, field,
                               _("No such opportunity."))


def api_pipeline(*, public_id: str, field: str = "pipeline") -> Pipeline:
    return _visible_or_invalid(Pipeline.objects.all(), public_id, field, _("No such pipeline."))


def api_stage(*, public_id: str, field: str = "stage") -> PipelineStage:
    """Any stage, active or not: the service says why an inactive one cannot be chosen."""
    return _visible_or_invalid(PipelineStage.objects.select_related("pipeline"), public_id, field,
                               _("No such stage."))


def api_communication_type(*, public_id: str, field: str = "communication_type") -> CommunicationType:
    return _visible_or_invalid(CommunicationType.objects.select_related("workflow"), public_id, field,
                               _("No such communication type."))


def lead_api_list(*, user: Any, params: Any) -> QuerySet[Lead]:
    """lead_list with the linked records the API shows."""
    return lead_list(user=user, params=params).select_related("account", "contact", "opportunity")


def opportunity_api_list(*, user: Any, params: Any) -> QuerySet[Opportunity]:
    """opportunity_list with its people."""
    return opportunity_list(user=user, params=params).prefetch_related("contact_roles__contact")


def order_api_list(*, user: Any, params: Any) -> QuerySet[Order]:
    return order_list(user=user, params=params).select_related("opportunity").prefetch_related("lines")


def stage_api_list(*, params: Any) -> QuerySet[PipelineStage]:
    """Every stage, active or not (what a client needs to show old deals), optionally of one pipeline."""
    qs = PipelineStage.objects.select_related("pipeline")
    pipeline = (params.get("pipeline") or "").strip()
    if pipeline:
        qs = qs.filter(pipeline=api_pipeline(public_id=pipeline))
    return qs


def workflow_api_list() -> QuerySet[WorkflowDefinition]:
    return WorkflowDefinition.objects.all()


def workflow_tree_map(workflows: list[WorkflowDefinition]) -> dict[int, list[dict[str, Any]]]:
    """workflow_tree of several workflows at once (one query): workflow id -> nested branches."""
    nodes = list(CommunicationType.objects.filter(workflow__in=workflows).order_by("position", "id"))

    def as_dicts(branches: list[Branch]) -> list[dict[str, Any]]:
        return [{"id": b.node.public_id, "name": b.node.name, "children": as_dicts(b.children)} for b in branches]

    return {workflow.pk: as_dicts(_branches(nodes, workflow.pk, {})) for workflow in workflows}


def communication_api_list(*, user: Any, params: Any) -> QuerySet[Communication]:
    """The communications whose activity and account the user may see; `account` narrows to one account.

    `starts_at` (the activity's) is annotated so that a cursor can page by it.
    """
    qs = Communication.objects.filter(activity_id__in=Activity.objects.visible_to(user).values("id"))
    account = (params.get("account") or "").strip()
    if account:
        qs = qs.filter(account=api_account(user=user, public_id=account))
    else:
        qs = qs.filter(account_id__in=Account.objects.visible_to(user).values("id"))
    return (qs.select_related("activity", "account", "contact", "communication_type__workflow")
            .annotate(starts_at=F("activity__starts_at")))


def communication_written(*, user: Any, communication: Communication) -> Communication:
    """A communication just registered, read as the list reads it (or as written, when out of sight)."""
    found = communication_api_list(user=user, params={}).filter(pk=communication.pk).first()
    if found is not None:
        return found
    communication.starts_at = communication.activity.starts_at  # type: ignore[attr-defined]
    return communication


def communication_type_paths(types: list[CommunicationType]) -> dict[int, str]:
    """"Meeting → Quarterly review" for each branch, from one query over their workflows."""
    workflow_ids = {node.workflow_id for node in types}
    nodes = {node.pk: node for node in CommunicationType.objects.filter(workflow_id__in=workflow_ids)
             .only("id", "name", "parent_id")}
    paths: dict[int, str] = {}
    for node in types:
        names: list[str] = []
        current: CommunicationType | None = nodes.get(node.pk, node)
        while current is not None and len(names) < 20:
            names.append(current.name)
            current = nodes.get(current.parent_id) if current.parent_id else None
        paths[node.pk] = " → ".join(reversed(names))
    return paths


# --- Workflow pages and pipeline settings (issue 7, items 4 and 5: communications, stages, workflows) ----


@dataclass
class StageRow:
    stage: PipelineStage
    deal_count: int  # the deals in it, those in the trash included (they too keep it from being deleted)


def stage_admin_list() -> list[tuple[Pipeline, list[StageRow]]]:
    """Every pipeline with its stages in order and the number of deals in each."""
    counts = dict(Opportunity.objects.order_by().values_list("stage_id").annotate(n=Count("id")))
    by_pipeline: dict[int, list[StageRow]] = defaultdict(list)
    for stage in PipelineStage.objects.order_by("position", "id"):
        by_pipeline[stage.pipeline_id].append(StageRow(stage, counts.get(stage.pk, 0)))
    return [(pipeline, by_pipeline[pipeline.pk]) for pipeline in Pipeline.objects.all()]


def stage_deal_count(stage: PipelineStage) -> int:
    return Opportunity.objects.filter(stage=stage).count()


def next_workflow_position() -> int:
    from django.db.models import Max

    last = WorkflowDefinition.objects.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@dataclass
class WorkflowRow:
    workflow: WorkflowDefinition
    branches: list[Branch]
    communication_count: int


def workflow_admin_list() -> list[WorkflowRow]:
    """Every workflow, in use or not, with its tree and how many communications are registered under it."""
    counts = dict(Communication.objects.order_by().values_list("communication_type__workflow_id")
                  .annotate(n=Count("id")))
    return [WorkflowRow(workflow, branches, counts.get(workflow.pk, 0))
            for workflow, branches in workflow_trees(active_only=False)]


def workflow_communication_count(workflow: WorkflowDefinition) -> int:
    return Communication.objects.filter(communication_type__workflow=workflow).count()
