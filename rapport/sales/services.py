"""Writes of leads, opportunities, orders, workflow definitions and communications.

One function per use case, each in one transaction: nothing is half-saved when a rule refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities.models import ActivityKind
from rapport.activities.services import activity_create, activity_links_copy
from rapport.core.access import access_for, record_visible, require
from rapport.core.errors import StaleVersion
from rapport.core.history import display_value
from rapport.core.models import Action, Visibility
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.core.services import next_number
from rapport.directory.models import Account, Contact
from rapport.directory.remarks import set_attribute
from rapport.directory.services import account_create, contact_create
from rapport.sales.currencies import ISO_4217, default_currency
from rapport.sales.models import (
    Communication,
    CommunicationType,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
    Order,
    OrderLine,
    Pipeline,
    PipelineStage,
    StageOutcome,
    WorkflowDefinition,
)

MAX_CONTACT_ROLES = 50
MAX_ORDER_LINES = 500
ORDER_SERIES = "order"
# An open deal expected to close longer ago than this is probably stale: the user is warned.
STALE_CLOSE_DAYS = 30
# A new deal given no expected close date is expected to close this many days from today.
DEFAULT_CLOSE_DAYS = 90


def default_close_date() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=DEFAULT_CLOSE_DAYS)


def _check_currency(data: dict[str, Any]) -> None:
    if "currency" in data:
        code = (data["currency"] or "").strip().upper()
        if code not in ISO_4217:
            raise ValidationError({"currency": [
                _("%(code)s is not a currency code; use an ISO 4217 code such as EUR or USD.")
                % {"code": data["currency"] or _("(empty)")}]})
        data["currency"] = code


def _check_not_negative(data: dict[str, Any], *names: str) -> None:
    for name in names:
        value = data.get(name)
        if value is not None and Decimal(value) < 0:
            raise ValidationError({name: [_("The amount cannot be negative.")]})


# --- Pipelines -------------------------------------------------------------------------------------


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        raise ValidationError({"stage": [_("No pipeline is set up yet; an administrator adds one first.")]})
    return pipeline


def first_stage(pipeline: Pipeline | None = None) -> PipelineStage:
    pipeline = pipeline or default_pipeline()
    stage = pipeline.stages.filter(is_active=True, outcome=StageOutcome.OPEN).order_by("position", "id").first()
    if stage is None:
        raise ValidationError({"stage": [_("The pipeline %(name)s has no open stage.") % {"name": pipeline}]})
    return stage


def _require_admin(actor: Any) -> None:
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("Only administrators change pipelines and workflows."))


@transaction.atomic
def stage_save(
    *, actor: Any, data: dict[str, Any], stage: PipelineStage | None = None, place: int | None = None,
) -> PipelineStage:
    """Create or change a pipeline stage (administrators only).

    Given a `place` in its pipeline's order (1 is first), the stage is put there and the pipeline's
    stages are numbered 0, 1, 2... again, so the order is what the administrator sees, with no ties.
    """
    _require_admin(actor)
    stage = stage or PipelineStage(pipeline=data.get("pipeline") or default_pipeline())
    if stage.pk and "pipeline" in data and data["pipeline"] != stage.pipeline:
        raise ValidationError({"pipeline": [_("A stage cannot move to another pipeline.")]})
    for name, value in data.items():
        setattr(stage, name, value)
    if stage.pk is None and "position" not in data and place is None:
        place = stage.pipeline.stages.count() + 1  # a new stage goes last
    stage.full_clean()
    stage.save()
    # Deals in a stage that became won or lost (or open again) follow it; closing them dates it today.
    Opportunity.objects.filter(stage=stage).exclude(is_open=not stage.is_closed).update(
        is_open=not stage.is_closed, closed_on=timezone.localdate() if stage.is_closed else None)
    if place is not None:
        others = list(PipelineStage.objects.filter(pipeline=stage.pipeline).exclude(pk=stage.pk)
                      .order_by("position", "id"))
        index = max(0, min(place - 1, len(others)))
        for position, each in enumerate([*others[:index], stage, *others[index:]]):
            if each.position != position:
                PipelineStage.objects.filter(pk=each.pk).update(position=position)
                each.position = position
    return stage


@transaction.atomic
def stage_delete(*, actor: Any, stage: PipelineStage) -> None:
    """Delete a stage no deal is or was in; one that was used is deactivated instead, so reports keep it."""
    _require_admin(actor)
    used = OpportunityStageChange.objects.filter(Q(to_stage=stage) | Q(from_stage=stage)).exists()
    if used or Opportunity.objects.filter(stage=stage).exists():
        raise ValidationError({"stage": [
            _("Opportunities are or were in this stage; deactivate it instead, so their history keeps it.")]})
    stage.delete()


# --- Opportunities ---------------------------------------------------------------------------------


def _stage_fields(data: dict[str, Any], current: Opportunity | None) -> PipelineStage | None:
    """Check a new stage and fill what follows from it (probability, open or closed, dates); the new stage."""
    stage = data.get("stage")
    if stage is None and current is None:
        stage = data["stage"] = first_stage()
    if stage is None or (current is not None and stage.pk == current.stage_id):
        return None
    if not stage.is_active:
        raise ValidationError({"stage": [_("The stage %(name)s is no longer used.") % {"name": stage}]})
    if current is not None and stage.pipeline_id != current.stage.pipeline_id:
        raise ValidationError({"stage": [
            _("%(stage)s belongs to the pipeline %(other)s, not to this opportunity's %(pipeline)s.")
            % {"stage": stage, "other": stage.pipeline, "pipeline": current.stage.pipeline}]})
    if "probability" not in data or (current is not None and data["probability"] == current.probability):
        data["probability"] = stage.probability
    data["stage_changed_at"] = timezone.now()
    data["is_open"] = not stage.is_closed
    data["closed_on"] = timezone.localdate() if stage.is_closed else None
    return stage


def close_date_warning(opportunity: Opportunity, today: dt.date | None = None) -> str | None:
    """A warning, not a refusal: an open deal expected to close long ago needs a new date."""
    today = today or timezone.localdate()
    close = opportunity.expected_close_on
    if opportunity.is_open and close is not None and close < today - dt.timedelta(days=STALE_CLOSE_DAYS):
        return _("The expected close date %(date)s is long past for an open deal; is it still right?") % {
            "date": close.isoformat()}
    return None


def _record_stage_change(*, actor: Any, opportunity: Opportunity, from_stage: PipelineStage | None) -> None:
    OpportunityStageChange.objects.create(opportunity=opportunity, from_stage=from_stage,
                                          to_stage=opportunity.stage, changed_at=opportunity.stage_changed_at
                                          or timezone.now(), changed_by=actor)


def _contact_rows(opportunity: Opportunity, contacts: Sequence[tuple[Contact, str]]) -> list[OpportunityContact]:
    if len(contacts) > MAX_CONTACT_ROLES:
        raise ValidationError({"contacts": [_("At most %d contacts.") % MAX_CONTACT_ROLES]})
    rows: dict[int, OpportunityContact] = {}
    for index, (contact, role) in enumerate(contacts):
        role = (role or "").strip()
        if len(role) > 100:
            raise ValidationError({f"contacts.{index}.role": [_("At most 100 characters.")]})
        rows[contact.pk] = OpportunityContact(opportunity=opportunity, contact=contact, role=role)
    return list(rows.values())


def _roles_history(rows: Sequence[OpportunityContact]) -> list[dict[str, str]]:
    """A deal's people as the history keeps them: links, so a reader who may not see one is not told
    the name, each with the person's role."""
    return [{**display_value(row.contact), "name": f"{row.contact}{f' ({row.role})' if row.role else ''}"}
            for row in rows]


@transaction.atomic
def opportunity_create(
    *, actor: Any, data: dict[str, Any], contacts: Sequence[tuple[Contact, str]] = (),
) -> Opportunity:
    """Create an opportunity; it starts in the first stage of the default pipeline unless given one,
    expected to close in DEFAULT_CLOSE_DAYS unless given a date.

    `data["account"]` and the contacts are records the caller found through the actor's visible_to.
    """
    require(actor, Opportunity.record_type, Action.CREATE)
    data = dict(data)
    data.setdefault("currency", default_currency())
    if data.get("expected_close_on") is None:
        data["expected_close_on"] = default_close_date()
    _check_currency(data)
    _check_not_negative(data, "amount")
    _stage_fields(data, None)
    opportunity = record_create(Opportunity, actor=actor, data=data)
    _record_stage_change(actor=actor, opportunity=opportunity, from_stage=None)
    OpportunityContact.objects.bulk_create(_contact_rows(opportunity, contacts))
    return opportunity


@transaction.atomic
def opportunity_update(
    *, actor: Any, opportunity: Opportunity, data: dict[str, Any], version: int | None,
    contacts: Sequence[tuple[Contact, str]] | None = None,
) -> Opportunity:
    """Change an opportunity if `version` is current; a new stage records the day it changed."""
    data = dict(data)
    _check_currency(data)
    _check_not_negative(data, "amount")
    if "account" in data and data["account"].pk != opportunity.account_id \
            and Order.objects.filter(opportunity=opportunity).exists():
        raise ValidationError({"account": [_("Orders came from this deal with its account; it stays with it.")]})
    from_stage = opportunity.stage
    new_stage = _stage_fields(data, opportunity)
    related: dict[str, list[Any]] = {}
    rows = None
    if contacts is not None:
        rows = _contact_rows(opportunity, contacts)
        before = list(opportunity.contact_roles.select_related("contact"))
        if {(r.contact_id, r.role) for r in before} != {(r.contact_id, r.role) for r in rows}:
            related["contacts"] = [_roles_history(before), _roles_history(rows)]
        else:
            rows = None
    opportunity = record_update(opportunity, actor=actor, data=data, version=version, related_changes=related)
    if new_stage is not None:
        _record_stage_change(actor=actor, opportunity=opportunity, from_stage=from_stage)
    if rows is not None:
        OpportunityContact.objects.filter(opportunity=opportunity).delete()
        OpportunityContact.objects.bulk_create(rows)
    return opportunity


def opportunity_move(*, actor: Any, opportunity: Opportunity, stage: PipelineStage, version: int | None) -> Opportunity:
    """Move a deal to another stage of its pipeline (the board's drag)."""
    return opportunity_update(actor=actor, opportunity=opportunity, data={"stage": stage}, version=version)


@transaction.atomic
def opportunity_delete(*, actor: Any, opportunity: Opportunity, version: int | None = None) -> Opportunity:
    return record_delete(opportunity, actor=actor, version=version)


@transaction.atomic
def opportunity_restore(*, actor: Any, opportunity: Opportunity) -> Opportunity:
    return record_restore(opportunity, actor=actor)


# --- Leads -----------------------------------------------------------------------------------------


def _check_lead(data: dict[str, Any], current: Lead | None) -> None:
    def value(name: str) -> Any:
        return data[name] if name in data else getattr(current, name, None)

    if not any(value(name) for name in ("last_name", "first_name", "company", "account", "contact")):
        raise ValidationError({"last_name": [_("Give the lead a name, a company, or the contact it is.")]})
    if data.get("status") == LeadStatus.CONVERTED and (current is None or current.status != LeadStatus.CONVERTED):
        raise ValidationError({"status": [_("A lead becomes converted by converting it.")]})
    if current is not None and current.status == LeadStatus.CONVERTED and "status" in data \
            and data["status"] != LeadStatus.CONVERTED:
        raise ValidationError({"status": [_("This lead is converted already.")]})


@transaction.atomic
def lead_create(*, actor: Any, data: dict[str, Any]) -> Lead:
    require(actor, Lead.record_type, Action.CREATE)
    data = dict(data)
    _check_lead(data, None)
    return record_create(Lead, actor=actor, data=data)


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, data: dict[str, Any], version: int | None) -> Lead:
    data = dict(data)
    _check_lead(data, lead)
    return record_update(lead, actor=actor, data=data, version=version)


@transaction.atomic
def lead_delete(*, actor: Any, lead: Lead, version: int | None = None) -> Lead:
    return record_delete(lead, actor=actor, version=version)


@transaction.atomic
def lead_restore(*, actor: Any, lead: Lead) -> Lead:
    return record_restore(lead, actor=actor)


@transaction.atomic
def lead_convert(
    *, actor: Any, lead: Lead, version: int | None, account: Account | None = None,
    contact: Contact | None = None, opportunity_data: dict[str, Any] | None = None,
    create_opportunity: bool = True, new_account: bool = False, new_contact: bool = False,
) -> Lead:
    """Turn a lead into an account, a contact and an opportunity in one step.

    An account or contact given (found through the actor's visible_to), or the one the lead is
    about, is linked rather than created, unless `new_account` / `new_contact` asks for new ones.
    What is created is shared as the lead was, and owned by the lead's owner where the actor may
    create records for them. The lead stays, marked converted and pointing to what it became; its
    activities the actor may see now also regard the new account, contact and opportunity.
    """
    require(actor, Lead.record_type, Action.UPDATE, owner_id=lead.owner_id)
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": [_("This lead is converted already.")]})
    # Checked before anything is created, so a stale form converts nothing.
    if version is None:
        raise ValidationError({"version": [_("The version you edited is required.")]})
    if version != lead.version:
        raise StaleVersion(current_version=lead.version)
    # Records the lead is about count only where the actor may see them: a conversion must not
    # attach new records to an account the actor cannot see.
    if account is None and not new_account and record_visible(actor, lead.account):
        account = lead.account
    if contact is None and not new_contact and record_visible(actor, lead.contact):
        contact = lead.contact
    if account is None and not new_account and contact is not None and record_visible(actor, contact.account):
        account = contact.account

    def shared(record_type: str) -> dict[str, Any]:
        owner = lead.owner if access_for(actor).covers_owner(record_type, Action.CREATE, lead.owner_id) else actor
        return {"owner": owner, "visibility": lead.visibility}

    if account is None:
        if not lead.company:
            raise ValidationError({"account": [_("Choose an account, or give the lead a company name.")]})
        # The lead's remarks go along, but not a stage= of theirs: a lead is no customer at any stage yet.
        account = account_create(actor=actor, confirm_duplicate=True, data={
            "name": lead.company, "remarks": set_attribute(lead.remarks, "stage", ""), **shared("account")})
    if contact is None and (lead.last_name or lead.first_name):
        contact = contact_create(actor=actor, confirm_duplicate=True, data={
            "first_name": lead.first_name, "last_name": lead.last_name or lead.first_name, "title": lead.title,
            "email": lead.email, "phone": lead.phone, "account": account, **shared("contact")})
    opportunity = None
    if create_opportunity:
        # Named after the account when everyone may see that name; after the lead otherwise.
        name = account.name if account.visibility == Visibility.EVERYONE else lead.company or lead.display_name
        data = {"name": name, "source": lead.source, **shared("opportunity"),
                **(opportunity_data or {}), "account": account}
        opportunity = opportunity_create(actor=actor, data=data,
                                         contacts=[(contact, "")] if contact is not None else [])
    lead = record_update(lead, actor=actor, version=version, data={
        "status": LeadStatus.CONVERTED, "account": account, "contact": contact, "opportunity": opportunity,
        "converted_at": timezone.now()})
    activity_links_copy(source=lead, targets=[r for r in (account, contact, opportunity) if r is not None],
                        user=actor)
    return lead


# --- Orders ----------------------------------------------------------------------------------------


def _order_lines(order: Order, lines: Sequence[dict[str, Any]]) -> list[OrderLine]:
    if len(lines) > MAX_ORDER_LINES:
        raise ValidationError({"lines": [_("At most %d lines.") % MAX_ORDER_LINES]})
    rows = []
    for index, line in enumerate(lines):
        unknown = set(line) - {"product", "quantity", "unit_price", "amount"}
        if unknown:
            raise ValidationError({f"lines.{index}.{sorted(unknown)[0]}": [_("Unknown field.")]})
        try:
            quantity = Decimal(str(line.get("quantity", 1)))
            unit_price = Decimal(str(line.get("unit_price", 0)))
        except ArithmeticError:
            raise ValidationError({f"lines.{index}.quantity": [_("Enter a number.")]}) from None
        expected = (quantity * unit_price).quantize(Decimal("0.01"))
        given = line.get("amount")
        if given not in (None, "") and Decimal(str(given)) != expected:
            raise ValidationError({f"lines.{index}.amount": [
                _("%(quantity)s × %(price)s makes %(expected)s, not %(given)s.")
                % {"quantity": quantity.normalize(), "price": unit_price, "expected": expected, "given": given}]})
        row = OrderLine(order=order, position=index, product=(line.get("product") or "").strip(),
                        quantity=quantity, unit_price=unit_price, amount=expected)
        try:
            row.full_clean(exclude=["order"])
        except ValidationError as exc:
            raise ValidationError({f"lines.{index}.{name}": msgs for name, msgs in exc.message_dict.items()}) \
                from None
        rows.append(row)
    return rows


def _check_order_total(data: dict[str, Any], rows: Sequence[OrderLine] | None, current: Order | None) -> None:
    """With lines, the order's amount is their sum: filled in when left out, refused when it differs."""
    if not rows:
        if "amount" not in data and current is None:
            raise ValidationError({"amount": [_("Give the order's amount, or its lines.")]})
        return
    total = sum((row.amount for row in rows), Decimal("0"))
    given = data.get("amount")
    if given in (None, ""):
        data["amount"] = total
    elif Decimal(str(given)) != total:
        raise ValidationError({"amount": [
            _("The lines add up to %(total)s, not %(given)s.") % {"total": total, "given": given}]})


def _next_order_number() -> str:
    """The series' next number that no order has (someone may have typed one by hand)."""
    for _attempt in range(1000):
        number = f"ORD-{next_number(ORDER_SERIES)}"
        if not Order.objects.filter(number=number).exists():
            return number
    raise ValidationError({"number": [_("No free order number was found; give one.")]})


def _check_order_opportunity(data: dict[str, Any], current: Order | None) -> None:
    """An order comes from a deal with the same account."""
    opportunity = data.get("opportunity", getattr(current, "opportunity", None))
    account = data.get("account", getattr(current, "account", None))
    if opportunity is not None and account is not None and opportunity.account_id != account.pk:
        # Not named: the deal may be one the user may not see.
        raise ValidationError({"opportunity": [_("The deal is with another account than the order.")]})


def _lines_text(rows: Sequence[OrderLine]) -> str:
    return "; ".join(f"{row.quantity.normalize()} × {row.product} @ {row.unit_price}" for row in rows)


@transaction.atomic
def order_create(*, actor: Any, data: dict[str, Any], lines: Sequence[dict[str, Any]] = ()) -> Order:
    """Create an order; without a number it gets the next of the series (ORD-1001)."""
    require(actor, Order.record_type, Action.CREATE)
    data = dict(data)
    data.setdefault("currency", default_currency())
    data.setdefault("ordered_on", timezone.localdate())
    _check_currency(data)
    _check_not_negative(data, "amount")
    _check_order_opportunity(data, None)
    order = Order()
    rows = _order_lines(order, lines)
    _check_order_total(data, rows, None)
    if not (data.get("number") or "").strip():
        data["number"] = _next_order_number()
    elif Order.objects.filter(number=data["number"].strip()).exists():
        raise ValidationError({"number": [_("Another order has the number %s.") % data["number"].strip()]})
    order = record_create(Order, actor=actor, data=data)
    for row in rows:
        row.order = order
    OrderLine.objects.bulk_create(rows)
    return order


@transaction.atomic
def order_update(
    *, actor: Any, order: Order, data: dict[str, Any], version: int | None,
    lines: Sequence[dict[str, Any]] | None = None,
) -> Order:
    data = dict(data)
    _check_currency(data)
    _check_not_negative(data, "amount")
    if "opportunity" in data or "account" in data:
        _check_order_opportunity(data, order)
    if "number" in data and (data["number"] or "").strip() != order.number:
        number = (data["number"] or "").strip()
        if not number:
            raise ValidationError({"number": [_("An order needs a number.")]})
        if Order.objects.filter(number=number).exclude(pk=order.pk).exists():
            raise ValidationError({"number": [_("Another order has the number %s.") % number]})
    related: dict[str, list[Any]] = {}
    rows = None
    if lines is not None:
        rows = _order_lines(order, lines)
        _check_order_total(data, rows, order)
        before = _lines_text(list(order.lines.all()))
        if before != _lines_text(rows):
            related["lines"] = [before, _lines_text(rows)]
        else:
            rows = None
    elif "amount" in data and order.lines.exists():
        _check_order_total(data, list(order.lines.all()), order)
    order = record_update(order, actor=actor, data=data, version=version, related_changes=related)
    if rows is not None:
        OrderLine.objects.filter(order=order).delete()
        OrderLine.objects.bulk_create(rows)
    return order


@transaction.atomic
def order_delete(*, actor: Any, order: Order, version: int | None = None) -> Order:
    return record_delete(order, actor=actor, version=version)


@transaction.atomic
def order_restore(*, actor: Any, order: Order) -> Order:
    return record_restore(order, actor=actor)


# --- Workflow definitions and communications --------------------------------------------------------

MAX_TREE_DEPTH = 6
MAX_TREE_NODES = 500


def _tree_nodes(tree: Sequence[dict[str, Any]], *, path: str = "types", depth: int = 1,
                seen_ids: set[str] | None = None) -> int:
    """Check a tree given as nested {"id", "name", "children"} dicts; the number of nodes.

    A branch id given twice would put a branch under itself (a cycle) or in two places: refused.
    """
    seen_ids = set() if seen_ids is None else seen_ids
    if depth > MAX_TREE_DEPTH:
        raise ValidationError({path: [_("A workflow is at most %d levels deep.") % MAX_TREE_DEPTH]})
    count = 0
    names: set[str] = set()
    for index, node in enumerate(tree):
        where = f"{path}.{index}"
        if not isinstance(node, dict) or set(node) - {"id", "name", "children"}:
            raise ValidationError({where: [_("Each branch has a name and, optionally, children.")]})
        name = (node.get("name") or "").strip()
        if not name or len(name) > 100:
            raise ValidationError({f"{where}.name": [_("Give each branch a name of at most 100 characters.")]})
        if name.casefold() in names:
            raise ValidationError({f"{where}.name": [_("%s appears twice on the same level.") % name]})
        names.add(name.casefold())
        node_id = node.get("id")
        if node_id:
            if node_id in seen_ids:
                raise ValidationError({f"{where}.id": [
                    _("The branch %s appears twice: a branch cannot sit under itself or in two places.")
                    % node_id]})
            seen_ids.add(node_id)
        count += 1 + _tree_nodes(node.get("children") or [], path=f"{where}.children", depth=depth + 1,
                                 seen_ids=seen_ids)
    if count > MAX_TREE_NODES:
        raise ValidationError({path: [_("At most %d branches.") % MAX_TREE_NODES]})
    return count


def _save_tree(workflow: WorkflowDefinition, tree: Sequence[dict[str, Any]]) -> None:
    """Make the workflow's branches equal to `tree`, keeping those that already exist (by id, else name)."""
    existing = {node.public_id: node for node in workflow.types.all()}
    kept: set[int] = set()

    def ids(nodes: Sequence[dict[str, Any]]) -> set[str]:
        return {i for n in nodes for i in ([n["id"]] if n.get("id") else []) + list(ids(n.get("children") or []))}

    # A branch named by its id is that branch; only the others may be matched by name.
    reserved = {existing[i].pk for i in ids(tree) if i in existing}

    def save(nodes: Sequence[dict[str, Any]], parent: CommunicationType | None) -> None:
        for position, data in enumerate(nodes):
            node = existing.get(data.get("id") or "") or next(
                (n for n in existing.values() if n.parent_id == (parent.pk if parent else None)
                 and n.name == data["name"].strip() and n.pk not in kept and n.pk not in reserved), None)
            if node is None:
                node = CommunicationType(workflow=workflow)
            node.parent, node.name, node.position = parent, data["name"].strip(), position
            node.save()
            kept.add(node.pk)
            save(data.get("children") or [], node)

    save(tree, None)
    dropped = [node for node in existing.values() if node.pk not in kept]
    if any(node.communications.exists() for node in dropped):
        raise ValidationError({"types": [_("A branch with registered communications cannot be removed.")]})
    CommunicationType.objects.filter(pk__in=[node.pk for node in dropped]).delete()


@transaction.atomic
def workflow_save(
    *, actor: Any, data: dict[str, Any], tree: Sequence[dict[str, Any]] | None = None,
    workflow: WorkflowDefinition | None = None,
) -> WorkflowDefinition:
    """Create or change a workflow definition and, if given, its whole tree (administrators only)."""
    _require_admin(actor)
    if tree is not None:
        _tree_nodes(tree)
    workflow = workflow or WorkflowDefinition()
    for name, value in data.items():
        setattr(workflow, name, value)
    workflow.full_clean()
    workflow.save()
    if tree is not None:
        _save_tree(workflow, tree)
    return workflow


def check_parent(node: CommunicationType, parent: CommunicationType | None) -> None:
    """A branch may not sit under itself or one of its own branches, nor under another workflow's."""
    if parent is None:
        return
    if parent.workflow_id != node.workflow_id:
        raise ValidationError({"parent": [_("The parent belongs to another workflow.")]})
    seen: set[int] = set()
    current: CommunicationType | None = parent
    while current is not None:
        if (node.pk is not None and current.pk == node.pk) or current.pk in seen:
            raise ValidationError({"parent": [_("A branch cannot sit under itself or its own branches.")]})
        seen.add(current.pk)
        current = current.parent


@transaction.atomic
def workflow_delete(*, actor: Any, workflow: WorkflowDefinition) -> None:
    _require_admin(actor)
    if Communication.objects.filter(communication_type__workflow=workflow).exists():
        raise ValidationError({"workflow": [
            _("Communications are registered under this workflow; deactivate it instead.")]})
    workflow.delete()


@transaction.atomic
def communication_register(
    *, actor: Any, account: Account, communication_type: CommunicationType, contact: Contact | None,
    data: dict[str, Any],
) -> Communication:
    """Register a communication with a company: an activity regarding the account and the person.

    `account` and `contact` were found through the actor's visible_to; the contact must work there.
    """
    if not communication_type.workflow.is_active:
        raise ValidationError({"communication_type": [_("This workflow is no longer in use.")]})
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": [_("%(contact)s does not work at %(account)s.")
                                           % {"contact": contact, "account": account}]})
    data = dict(data)
    if not data.get("subject"):
        subject = f"{communication_type.workflow}: {communication_type_path(communication_type)}"
        data["subject"] = subject if len(subject) <= 200 else subject[:199] + "…"
    if data.get("kind") is None:
        # Most communications are meetings or calls; a client that names none gets a meeting.
        data["kind"] = ActivityKind.objects.filter(key="meeting").first() or ActivityKind.objects.first()
    regarding: list[Any] = [account, *([contact] if contact is not None else [])]
    activity = activity_create(actor=actor, data=data, regarding=regarding,
                               attendees=[contact] if contact is not None else [])
    return Communication.objects.create(activity=activity, communication_type=communication_type,
                                        account=account, contact=contact)


def communication_type_path(node: CommunicationType) -> str:
    """"Meeting → Quarterly review": the branch and its parents, without the workflow."""
    names: list[str] = []
    current: CommunicationType | None = node
    while current is not None and len(names) < MAX_TREE_DEPTH + 1:
        names.append(current.name)
        current = current.parent
    return " → ".join(reversed(names))
