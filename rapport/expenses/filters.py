"""The one filter definition of the expense lists, totals and export, used by the pages and the API.

Anything not in the whitelist, or a value that does not parse, is a ValidationError naming the parameter.
A project, account or opportunity filter names a record the user may see; one they may not is "No such …".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from rapport.directory.filters import (
    account_filter_id,
    check_known_filters,
    choice_value,
    date_value,
    one_value,
    owner_q,
)
from rapport.expenses.models import ExpenseCategory, ExpenseStatus

EXPENSE_FILTERS = {"status", "owner", "project", "account", "opportunity", "category", "billable", "month",
                   "from", "to"}
EXPENSE_ORDERINGS = {"spent_on": "spent_on", "amount": "amount", "submitted_at": "submitted_at",
                     "created_at": "created_at", "updated_at": "updated_at"}
TOTALS_BY = ("project", "account", "user", "month")


def month_value(params: Any, name: str = "month") -> tuple[dt.date, dt.date] | None:
    """The first and last day of a month given as YYYY-MM."""
    value = one_value(params, name)
    if not value:
        return None
    try:
        first = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise ValidationError({name: [_("Enter a month as YYYY-MM.")]}) from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _linked_id(params: Any, name: str, user: Any) -> int | None:
    public_id = one_value(params, name)
    if not public_id:
        return None
    if name == "project":
        from rapport.projects.models import Project as model
    else:
        from rapport.sales.models import Opportunity as model  # type: ignore[assignment]
    found = model.objects.visible_to(user).filter(public_id=public_id).values_list("id", flat=True).first()
    if found is None:
        raise ValidationError({name: [_("No such %(type)s.") % {"type": name}]})
    return found


def filter_expenses(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, EXPENSE_FILTERS)
    if status := choice_value(params, "status", ExpenseStatus.values):
        qs = qs.filter(status=status)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if (project_id := _linked_id(params, "project", user)) is not None:
        qs = qs.filter(project_id=project_id)
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    if (opportunity_id := _linked_id(params, "opportunity", user)) is not None:
        qs = qs.filter(opportunity_id=opportunity_id)
    if category := one_value(params, "category"):
        category_id = ExpenseCategory.objects.filter(name__iexact=category).values_list("id", flat=True).first()
        if category_id is None:
            raise ValidationError({"category": [_("No such category.")]})
        qs = qs.filter(category_id=category_id)
    if billable := choice_value(params, "billable", ["true", "false"]):
        qs = qs.filter(billable=billable == "true")
    if (month := month_value(params)) is not None:
        qs = qs.filter(spent_on__range=month)
    if (start := date_value(params, "from")) is not None:
        qs = qs.filter(spent_on__gte=start)
    if (end := date_value(params, "to")) is not None:
        qs = qs.filter(spent_on__lte=end)
    return qs
