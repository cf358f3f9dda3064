"""Permission-matrix subjects and snapshot tables of the expenses app (see world_emails.py for the form).

An expense is always private to its submitter (the owner), whatever visibility the matrix names: the
subject of each visibility is the same kind of private expense. Besides the owner, the manager of team A
(which the owner is in) and the administrator see it. A draft is what editing, deleting, submitting and
uploading a receipt act on; a submitted one what approving and rejecting act on; an approved one what
reimbursing acts on; the deleted ones are what restoring (and the deleted-record checks) act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tests.conftest import Personas


def _expense(personas: Personas, visibility: str, *, status: str = "draft", deleted: bool = False) -> Any:
    from rapport.expenses import services
    from rapport.expenses.models import Expense, ExpenseCategory

    ExpenseCategory.objects.get_or_create(name="Travel")
    owner = personas.owner
    made = services.expense_create(actor=owner, data={
        "spent_on": dt.date(2026, 1, 5), "amount": Decimal("42.50"), "currency": "EUR", "category": "Travel",
        "description": f"Subject {status} expense ({visibility}){' gone' if deleted else ''}"})
    if status != "draft":
        made = services.expense_submit(actor=owner, expense=made)
    if status == "approved":
        made = services.expense_approve(actor=personas.manager,
                                        expense=Expense.objects.select_related("owner__team").get(pk=made.pk))
    if deleted and status == "draft":
        services.expense_delete(actor=owner, expense=made)
    elif deleted:  # the service deletes only drafts and rejected expenses; the subject is made as it would be
        Expense.objects.filter(pk=made.pk).update(deleted_at=timezone.now())
    return Expense.objects.get(pk=made.pk)


def _expenses() -> Any:
    from rapport.expenses.models import Expense

    return Expense.objects.order_by("pk").values()


def _categories() -> Any:
    from rapport.expenses.models import ExpenseCategory

    return ExpenseCategory.objects.order_by("pk").values()


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "expense": _expense,
    "deleted expense": lambda p, v: _expense(p, v, deleted=True),
    "submitted expense": lambda p, v: _expense(p, v, status="submitted"),
    "deleted submitted expense": lambda p, v: _expense(p, v, status="submitted", deleted=True),
    "approved expense": lambda p, v: _expense(p, v, status="approved"),
    "deleted approved expense": lambda p, v: _expense(p, v, status="approved", deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {"expenses": _expenses, "expense_categories": _categories}
