"""The exports of expenses (CSV, XLSX) through rapport.exports.

`export_resources()` is what rapport.exports adds for this app: the expense list's export (key "expenses":
the list's Export menu, /exports/expenses/ and GET /api/v1/expenses/export), every expense the list shows
with its filters. The totals page exports the approved (and reimbursed) ones through /expenses/export/.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from rapport.exports.resources import (
    ID,
    ExportResource,
    choice,
    moment,
    plain,
    related,
    user_name,
    yes_no,
)


def _expense_resource(*, title: Any, list_url_name: str, selector: Any) -> ExportResource:
    from rapport.expenses.filters import EXPENSE_FILTERS, EXPENSE_ORDERINGS
    from rapport.expenses.models import Expense

    return ExportResource(
        key="expenses", title=title, record_type="expense", list_url_name=list_url_name,
        selector=selector, orderings=EXPENSE_ORDERINGS, default_ordering="-spent_on",
        filters=frozenset(EXPENSE_FILTERS),
        columns=(
            ID, plain(_("Date"), "spent_on"), user_name(_("Submitter"), "owner"),
            plain(_("Category"), "category__name"), plain(_("Description"), "description"),
            plain(_("Amount"), "amount"), plain(_("Currency"), "currency"), yes_no(_("Billable"), "billable"),
            related(_("Project"), "project", "project"), related(_("Account"), "account", "account"),
            related(_("Opportunity"), "opportunity", "opportunity"), choice(_("Status"), Expense, "status"),
            moment(_("Submitted"), "submitted_at"), user_name(_("Approved by"), "approver"),
            moment(_("Approved"), "decided_at"), moment(_("Reimbursed"), "reimbursed_at"),
        ),
    )


def expense_list_resource() -> ExportResource:
    """The expense list's export: every expense the list shows, with its filters and ordering."""
    from rapport.expenses.selectors import expense_list

    return _expense_resource(title=_("Expenses"), list_url_name="expense_list", selector=expense_list)


def approved_expenses_resource() -> ExportResource:
    """The totals page's export: the approved (and reimbursed) expenses its filters find."""
    from rapport.expenses.selectors import approved_expense_list

    return _expense_resource(title=_("Approved expenses"), list_url_name="", selector=approved_expense_list)


def export_resources() -> list[ExportResource]:
    return [expense_list_resource()]
