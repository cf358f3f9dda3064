"""The export of approved expenses (CSV, XLSX) through rapport.exports: the expense list's filters, its
visibility, only approved and reimbursed expenses.

rapport.exports lists its resources itself; `export_resources()` is what it adds for this app (key
"expenses": /exports/expenses/ and GET /api/v1/expenses/export). The totals page's export links use the same
resource through /expenses/export/.
"""

from __future__ import annotations

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


def approved_expenses_resource() -> ExportResource:
    from rapport.expenses.filters import EXPENSE_FILTERS, EXPENSE_ORDERINGS
    from rapport.expenses.models import Expense
    from rapport.expenses.selectors import approved_expense_list

    return ExportResource(
        key="expenses", title=_("Approved expenses"), record_type="expense", list_url_name="",
        selector=approved_expense_list, orderings=EXPENSE_ORDERINGS, default_ordering="-spent_on",
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


def export_resources() -> list[ExportResource]:
    return [approved_expenses_resource()]
