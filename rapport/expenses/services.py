"""Writes of the expenses app: an expense's life from draft to reimbursed, and its receipts.

    draft ──submit──▶ submitted ──approve──▶ approved ──reimburse──▶ reimbursed
      ▲                   │
      └──(edit, submit)── rejected ◀──reject (with a reason)

Only the submitter writes and submits their expense, while it is a draft or rejected. The manager of the
submitter's team (or an administrator) approves or rejects it, never their own; an approved expense is
reimbursed by an administrator or that manager. Each step is a change of the record, so each shows in its
history with who and when. A receipt is a Document about the expense (folder "receipts"), added in the same
transaction as the expense it comes with: a refused receipt leaves no expense.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rapport.core.access import access_for, require
from rapport.core.errors import Conflict
from rapport.core.models import Action, Visibility
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.expenses.models import (
    DESCRIPTION_MAX,
    EDITABLE,
    MAX_AMOUNT,
    REASON_MAX,
    Expense,
    ExpenseCategory,
    ExpenseStatus,
)
from rapport.sales.currencies import ISO_4217, default_currency

RECEIPTS_FOLDER = "receipts"
# How far ahead an expense's date may be: a day, for a submitter whose day has begun before the server's.
FUTURE_DAYS = 1
EARLIEST = dt.date(2000, 1, 1)
FIELDS = frozenset({"spent_on", "amount", "currency", "category", "description", "billable", "project", "account",
                    "opportunity"})
LINKS = ("project", "account", "opportunity")


# --- Checks ----------------------------------------------------------------------------------------


def _amount(value: Any) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": [_("Enter the amount as a number, such as 42.50.")]}) from None
    if not amount.is_finite():
        raise ValidationError({"amount": [_("Enter the amount as a number, such as 42.50.")]})
    if amount <= 0:
        raise ValidationError({"amount": [_("The amount must be more than zero.")]})
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):  # type: ignore[operator]
        raise ValidationError({"amount": [_("Give the amount with at most 2 decimal places.")]})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount": [_("The amount may be at most %(max)s.") % {"max": f"{MAX_AMOUNT:,}"}]})
    return amount.quantize(Decimal("0.01"))


def _checked(data: dict[str, Any], *, current: Expense | None) -> dict[str, Any]:
    """The fields of an expense, checked, with clear messages naming each field; links kept consistent."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
    data = dict(data)
    errors: dict[str, list[str]] = {}

    def check(name: str, fn: Any) -> None:
        if name in data:
            try:
                data[name] = fn(data[name])
            except ValidationError as exc:
                errors.update(exc.message_dict)

    check("amount", _amount)
    check("currency", _currency)
    check("spent_on", _spent_on)
    check("category", _category)
    check("description", _description)
    if "billable" in data:
        data["billable"] = bool(data["billable"])
    if errors:
        raise ValidationError(errors)
    _derive_links(data, current)
    return data


def _currency(value: Any) -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if code not in ISO_4217:
        raise ValidationError({"currency": [
            _("%(code)s is not a currency code; use an ISO 4217 code such as EUR or USD.")
            % {"code": (str(value)[:10] if value else _("(empty)"))}]})
    return code


def _spent_on(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError({"spent_on": [_("Enter a date as YYYY-MM-DD.")]}) from None
    if value > timezone.localdate() + dt.timedelta(days=FUTURE_DAYS):
        raise ValidationError({"spent_on": [_("The date cannot be in the future.")]})
    if value < EARLIEST:
        raise ValidationError({"spent_on": [_("The date cannot be before %(date)s.") % {"date": EARLIEST}]})
    return value


def _category(value: Any) -> ExpenseCategory:
    if isinstance(value, ExpenseCategory) and value.is_active:
        return value
    if isinstance(value, str) and value.strip():
        found = ExpenseCategory.objects.filter(name__iexact=value.strip(), is_active=True).first()
        if found is not None:
            return found
    names = ", ".join(ExpenseCategory.objects.filter(is_active=True).values_list("name", flat=True))
    raise ValidationError({"category": [_("Choose a category: %(names)s.") % {"names": names}]})


def _description(value: Any) -> str:
    text = (value or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError({"description": [_("At most %d characters.") % DESCRIPTION_MAX]})
    return text


def _derive_links(data: dict[str, Any], current: Expense | None) -> None:
    """A project or an opportunity brings its account; an account given with them must be theirs."""
    def value(name: str) -> Any:
        return data[name] if name in data else (getattr(current, name) if current is not None else None)

    project, opportunity = value("project"), value("opportunity")
    source = project if project is not None else opportunity
    if project is not None and opportunity is not None and opportunity.account_id != project.account_id:
        raise ValidationError({"opportunity": [_("The opportunity is not one of the project's account.")]})
    if source is None:
        return
    account = value("account")
    if "account" in data and account is not None and account.pk != source.account_id:
        field = "project" if project is not None else "opportunity"
        raise ValidationError({"account": [_("The account must be the %(field)s's own.") % {"field": field}]})
    if account is None or account.pk != source.account_id:
        data["account"] = source.account


# --- Who may do what -------------------------------------------------------------------------------


def may_write(actor: Any, expense: Expense) -> bool:
    """Only the submitter (or an administrator) writes an expense; a manager decides, never edits."""
    return expense.owner_id == actor.pk or access_for(actor).is_admin


def _owner_or_admin(actor: Any, expense: Expense, action: str) -> None:
    require(actor, Expense.record_type, action, owner_id=expense.owner_id)
    if not may_write(actor, expense):
        raise PermissionDenied(_("Only the person who spent the money may change this expense."))


def decision_refusal(actor: Any, expense: Expense, *, reject: bool = False) -> str | None:
    """Why the actor may not approve (or reject) this expense (None: they may). Reads expense.owner.team."""
    if expense.owner_id == actor.pk:
        return _("You cannot reject your own expense.") if reject else _("You cannot approve your own expense.")
    if access_for(actor).is_admin:
        return None
    team = expense.owner.team
    if team is None or team.manager_id != actor.pk:
        return _("Only the manager of %(name)s's team may decide on this expense.") % {
            "name": expense.owner.display_name}
    return None


def may_decide(actor: Any, expense: Expense) -> bool:
    return decision_refusal(actor, expense) is None


def may_reimburse(actor: Any, expense: Expense) -> bool:
    if access_for(actor).is_admin:
        return True
    team = expense.owner.team
    return team is not None and team.manager_id == actor.pk and expense.owner_id != actor.pk


def _locked(expense: Expense) -> Expense:
    """The expense as stored now, locked until the transaction ends: two decisions at once are one
    after the other, and the second sees the first."""
    fresh = Expense.objects.select_for_update().get(pk=expense.pk)
    for name in ("status", "version", "submitted_at", "approver_id", "decided_at", "rejection_reason",
                 "reimbursed_at", "deleted_at"):
        setattr(expense, name, getattr(fresh, name))
    if expense.deleted_at is not None:
        raise Conflict(_("This expense was deleted."))
    return expense


_ALREADY = {
    ExpenseStatus.DRAFT: gettext_noop("This expense is still a draft; it must be submitted first."),
    ExpenseStatus.SUBMITTED: gettext_noop("This expense is already submitted and awaits a decision."),
    ExpenseStatus.APPROVED: gettext_noop("This expense is already approved."),
    ExpenseStatus.REJECTED: gettext_noop("This expense was rejected; its submitter may change it and submit it again."),
    ExpenseStatus.REIMBURSED: gettext_noop("This expense is already reimbursed."),
}


def _expect(expense: Expense, *statuses: str) -> None:
    if expense.status not in statuses:
        raise Conflict(_(_ALREADY[ExpenseStatus(expense.status)]))


# --- Receipts --------------------------------------------------------------------------------------


def _add_receipt(*, actor: Any, expense: Expense, upload: Any) -> Any:
    from rapport.documents.services import document_add

    try:
        return document_add(actor=actor, about=expense, upload=upload, folder=RECEIPTS_FOLDER,
                            title=_("Receipt"))
    except ValidationError as exc:
        # The documents app names its upload field "file"; here it is the receipt.
        if hasattr(exc, "error_dict"):
            raise ValidationError({("receipt" if name in ("file", "__all__") else name): messages
                                   for name, messages in exc.message_dict.items()}) from None
        raise ValidationError({"receipt": exc.messages}) from None


@transaction.atomic
def expense_receipt_add(*, actor: Any, expense: Expense, upload: Any) -> Any:
    """Add a receipt to an expense its submitter may still change."""
    _owner_or_admin(actor, expense, Action.UPDATE)
    _locked(expense)
    if expense.status not in EDITABLE:
        raise Conflict(_("A receipt can be added while the expense is a draft or rejected."))
    return _add_receipt(actor=actor, expense=expense, upload=upload)


# --- The record ------------------------------------------------------------------------------------


@transaction.atomic
def expense_create(*, actor: Any, data: dict[str, Any], receipt: Any = None) -> Expense:
    """A new draft expense of the actor's, private to them (their manager and administrators see it too);
    with a receipt, both or neither are stored."""
    data = {"currency": default_currency(), "billable": False, **data}
    missing = {name: [_("This field is required.")] for name in ("spent_on", "amount", "category")
               if data.get(name) in (None, "")}
    data = _checked({k: v for k, v in data.items() if k not in missing}, current=None)
    if missing:
        raise ValidationError(missing)
    expense = record_create(Expense, actor=actor, data={**data, "visibility": Visibility.PRIVATE,
                                                        "status": ExpenseStatus.DRAFT})
    if receipt is not None:
        _add_receipt(actor=actor, expense=expense, upload=receipt)
    return expense


@transaction.atomic
def expense_update(*, actor: Any, expense: Expense, data: dict[str, Any], version: int | None,
                   receipt: Any = None) -> Expense:
    """Change a draft or rejected expense (a rejected one stays rejected until submitted again)."""
    _owner_or_admin(actor, expense, Action.UPDATE)
    if expense.status not in EDITABLE:
        raise Conflict(_("Only a draft or a rejected expense can be changed; this one is %(status)s.")
                       % {"status": expense.get_status_display().lower()})
    data = _checked(data, current=expense)
    expense = record_update(expense, actor=actor, data=data, version=version, rights_checked=True)
    if receipt is not None:
        _add_receipt(actor=actor, expense=expense, upload=receipt)
    return expense


@transaction.atomic
def expense_delete(*, actor: Any, expense: Expense, version: int | None = None) -> Expense:
    _owner_or_admin(actor, expense, Action.DELETE)
    if expense.status not in EDITABLE:
        raise Conflict(_("Only a draft or a rejected expense can be deleted."))
    return record_delete(expense, actor=actor, version=version, rights_checked=True)


@transaction.atomic
def expense_restore(*, actor: Any, expense: Expense) -> Expense:
    _owner_or_admin(actor, expense, Action.DELETE)
    return record_restore(expense, actor=actor)


def _move(expense: Expense, *, actor: Any, version: int | None, data: dict[str, Any]) -> Expense:
    return record_update(expense, actor=actor, data=data, version=expense.version if version is None else version,
                         rights_checked=True)


@transaction.atomic
def expense_submit(*, actor: Any, expense: Expense, version: int | None = None) -> Expense:
    """The submitter hands a draft (or a rejected expense, changed) to their manager."""
    _owner_or_admin(actor, expense, Action.UPDATE)
    _locked(expense)
    _expect(expense, *EDITABLE)
    return _move(expense, actor=actor, version=version, data={
        "status": ExpenseStatus.SUBMITTED, "submitted_at": timezone.now(), "approver": None, "decided_at": None,
        "rejection_reason": ""})


@transaction.atomic
def expense_approve(*, actor: Any, expense: Expense, version: int | None = None) -> Expense:
    refusal = decision_refusal(actor, expense)
    if refusal:
        raise PermissionDenied(refusal)
    _locked(expense)
    _expect(expense, ExpenseStatus.SUBMITTED)
    return _move(expense, actor=actor, version=version, data={
        "status": ExpenseStatus.APPROVED, "approver": actor, "decided_at": timezone.now()})


@transaction.atomic
def expense_reject(*, actor: Any, expense: Expense, reason: str, version: int | None = None) -> Expense:
    refusal = decision_refusal(actor, expense, reject=True)
    if refusal:
        raise PermissionDenied(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the expense is rejected, so its submitter can fix it.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %d characters.") % REASON_MAX]})
    _locked(expense)
    _expect(expense, ExpenseStatus.SUBMITTED)
    return _move(expense, actor=actor, version=version, data={
        "status": ExpenseStatus.REJECTED, "approver": actor, "decided_at": timezone.now(),
        "rejection_reason": reason})


@transaction.atomic
def expense_reimburse(*, actor: Any, expense: Expense, version: int | None = None) -> Expense:
    if not may_reimburse(actor, expense):
        raise PermissionDenied(_("Only an administrator or the submitter's manager may mark an expense reimbursed."))
    _locked(expense)
    _expect(expense, ExpenseStatus.APPROVED)
    return _move(expense, actor=actor, version=version, data={
        "status": ExpenseStatus.REIMBURSED, "reimbursed_at": timezone.now()})
