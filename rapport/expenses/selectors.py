"""Reads of the expenses app: lists, one expense, the approvals waiting for a manager, the panel of a
project, account or opportunity page, and totals. Always through Expense.objects.visible_to(user)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rapport.core.access import access_for, access_record, record_visible
from rapport.core.history import history_for
from rapport.core.models import Action, User
from rapport.expenses.filters import TOTALS_BY, filter_expenses
from rapport.expenses.models import APPROVED_STATUSES, Expense, ExpenseCategory, ExpenseStatus

PANEL_ROWS = 10
MAX_GROUPS = 1000  # totals rows shown at most (groups of one currency each)


def categories(*, active_only: bool = True) -> QuerySet[ExpenseCategory]:
    qs = ExpenseCategory.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def expense_list(*, user: Any, params: Any) -> QuerySet[Expense]:
    """The expenses a user may see (their own; a manager's team's; everyone's for an administrator), filtered."""
    qs = Expense.objects.visible_to(user).select_related("owner", "category")
    return filter_expenses(qs, params, user=user)


def expense_api_list(*, user: Any, params: Any) -> QuerySet[Expense]:
    return expense_list(user=user, params=params).select_related("project", "account", "opportunity", "approver")


def decidable_q(user: Any) -> Q | None:
    """Whose submitted expenses a user decides on: their managed teams' (everyone's for an administrator),
    never their own. None: nobody's."""
    access = access_for(user)
    if access.user_id is None:
        return None
    if access.is_admin:
        return ~Q(owner_id=access.user_id)
    if not access.managed_member_ids:
        return None
    return Q(owner__team__manager_id=access.user_id) & ~Q(owner_id=access.user_id)


def approval_list(*, user: Any, params: Any) -> QuerySet[Expense]:
    """Submitted expenses waiting for this user's decision."""
    condition = decidable_q(user)
    if condition is None:
        return Expense.objects.none()
    qs = expense_list(user=user, params=params).filter(condition, status=ExpenseStatus.SUBMITTED)
    return qs.select_related("project", "account", "opportunity")


def may_approve(user: Any) -> bool:
    """Whether the user decides on anyone's expenses (for the "To approve" link); no query."""
    return decidable_q(user) is not None


def expense_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Expense:
    qs = Expense.objects.select_related("owner", "owner__team", "category", "project", "account", "opportunity",
                                        "approver")
    return access_record(user, Expense, public_id, action, queryset=qs, deleted=deleted)


def expense_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    expense = expense_get(user=user, public_id=public_id)
    return {
        "expense": expense,
        "project": expense.project if record_visible(user, expense.project) else None,
        "account": expense.account if record_visible(user, expense.account) else None,
        "opportunity": expense.opportunity if record_visible(user, expense.opportunity) else None,
        "history": history_for(expense, user=user),
        "receipts": receipts_of(user=user, expense=expense),
    }


def receipts_of(*, user: Any, expense: Expense) -> list[Any]:
    """The documents about the expense (its receipts), newest first, as the documents app shows them."""
    try:
        from rapport.documents.selectors import documents_about
    except ImportError:  # the documents app is not there yet
        return []
    return list(documents_about(user=user, record=expense))


# --- Panels of other records' pages ----------------------------------------------------------------


LINK_FIELDS = {"project": "project", "account": "account", "opportunity": "opportunity"}


@dataclass
class Panel:
    expenses: list[Expense]
    totals: list[tuple[str, Decimal]]  # (currency, sum of approved and reimbursed), per currency
    pending: list[tuple[str, Decimal]]  # (currency, sum submitted, awaiting a decision)


def record_expenses(*, user: Any, record: Any) -> Panel:
    """A project's, account's or opportunity's latest expenses the user may see, and their totals per
    currency (never summed across currencies)."""
    qs = Expense.objects.visible_to(user).filter(**{LINK_FIELDS[record.record_type]: record})
    rows = list(qs.select_related("owner", "category").order_by("-spent_on", "-id")[:PANEL_ROWS])
    sums = (qs.filter(status__in=[*APPROVED_STATUSES, ExpenseStatus.SUBMITTED]).order_by()
            .values("status", "currency").annotate(total=Sum("amount")))
    approved: dict[str, Decimal] = defaultdict(Decimal)
    pending: dict[str, Decimal] = defaultdict(Decimal)
    for row in sums:
        target = pending if row["status"] == ExpenseStatus.SUBMITTED else approved
        target[row["currency"]] += row["total"]
    return Panel(expenses=rows, totals=sorted(approved.items()), pending=sorted(pending.items()))


# --- Totals ----------------------------------------------------------------------------------------


@dataclass
class TotalRow:
    key: str | None  # the project's, account's or user's public id, or the month (YYYY-MM); None: none
    name: str
    currency: str
    total: Decimal
    count: int


def totals_base(*, user: Any, params: Any) -> QuerySet[Expense]:
    """What totals add up: the visible expenses of the filters; approved and reimbursed ones unless the
    status filter says otherwise."""
    qs = filter_expenses(Expense.objects.visible_to(user), params, user=user)
    if not (params.get("status") if hasattr(params, "get") else None):
        qs = qs.filter(status__in=APPROVED_STATUSES)
    return qs


def expense_totals(*, user: Any, by: str, params: Any) -> list[TotalRow]:
    """Sums per group and currency: each currency its own row, never added to another."""
    if by not in TOTALS_BY:
        raise ValidationError({"by": [_("Use one of: %s.") % ", ".join(TOTALS_BY)]})
    qs = totals_base(user=user, params=params).order_by()
    group = TruncMonth("spent_on") if by == "month" else F(F_GROUP[by])
    grouped = qs.annotate(group=group).values("group", "currency")
    rows = list(grouped.annotate(total=Sum("amount"), count=Count("id"))[:MAX_GROUPS])
    names = _group_names(user, by, {row["group"] for row in rows if row["group"] is not None})
    result = []
    for row in rows:
        group = row["group"]
        if by == "month":
            month = group.date() if isinstance(group, dt.datetime) else group
            key, name = f"{month:%Y-%m}", f"{month:%Y-%m}"
        elif group is None:
            key, name = None, _(NO_GROUP[by]) if NO_GROUP[by] else ""
        else:
            key, name = names.get(group, (None, _("(hidden)")))
        result.append(TotalRow(key=key, name=name, currency=row["currency"], total=row["total"],
                               count=row["count"]))
    if by == "month":
        result.sort(key=lambda r: (r.key or "", r.currency), reverse=True)
    else:
        result.sort(key=lambda r: (r.key is None, r.name.casefold(), r.currency))
    return result


F_GROUP = {"project": "project_id", "account": "account_id", "user": "owner_id"}
NO_GROUP = {"project": gettext_noop("(no project)"), "account": gettext_noop("(no account)"), "user": ""}


def _group_names(user: Any, by: str, ids: set[int]) -> dict[int, tuple[str | None, str]]:
    """(public id, name) per group id: users always (colleagues are known to everyone), projects and
    accounts only where the user may see them."""
    if not ids or by == "month":
        return {}
    if by == "user":
        rows = User.objects.filter(pk__in=ids).values_list("pk", "public_id", "first_name", "last_name", "username")
        return {pk: (public_id, f"{first} {last}".strip() or username)
                for pk, public_id, first, last, username in rows}
    if by == "project":
        from rapport.projects.models import Project as model
    else:
        from rapport.directory.models import Account as model  # type: ignore[assignment]
    found = model.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "public_id", "name")
    return {pk: (public_id, name) for pk, public_id, name in found}


def approved_expense_list(*, user: Any, params: Any) -> QuerySet[Expense]:
    """The export's rows: approved (and reimbursed) expenses the list's filters find."""
    return expense_list(user=user, params=params).filter(status__in=APPROVED_STATUSES)
