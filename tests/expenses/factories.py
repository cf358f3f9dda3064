"""Expenses for tests, made through the services (so each carries its history), in any state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rapport.expenses import services
from rapport.expenses.models import Expense, ExpenseCategory


def category(name: str = "Travel") -> ExpenseCategory:
    found, _created = ExpenseCategory.objects.get_or_create(name=name)
    return found


def receipt_file(name: str = "receipt.txt", size: int | None = None) -> SimpleUploadedFile:
    body = b"RECEIPT\nTaxi 42.50 EUR\n" if size is None else b"x" * size
    return SimpleUploadedFile(name, body, content_type="text/plain")


def expense(owner: Any, *, status: str = "draft", decider: Any = None, amount: str = "42.50",
            currency: str = "EUR", days_ago: int = 1, spent_on: dt.date | None = None, **data: Any) -> Expense:
    """An expense of owner's, brought to `status` by owner (submit) and decider (approve, reject, reimburse)."""
    values = {"spent_on": spent_on or timezone.localdate() - dt.timedelta(days=days_ago),
              "amount": Decimal(amount), "currency": currency, "category": data.pop("category", "Travel"),
              "description": data.pop("description", "Taxi"), **data}
    if isinstance(values["category"], str):
        category(values["category"])
    made = services.expense_create(actor=owner, data=values)
    if status == "draft":
        return made
    made = services.expense_submit(actor=owner, expense=made)
    if status == "submitted":
        return Expense.objects.get(pk=made.pk)
    made = Expense.objects.select_related("owner__team").get(pk=made.pk)
    if status == "rejected":
        services.expense_reject(actor=decider, expense=made, reason="No receipt")
    else:
        made = services.expense_approve(actor=decider, expense=made)
        if status == "reimbursed":
            services.expense_reimburse(actor=decider, expense=made)
    return Expense.objects.get(pk=made.pk)


def project(owner: Any, *, account: Any = None, name: str = "Rollout", members: tuple[Any, ...] = ()) -> Any:
    """A project of owner's (shared with everyone), on an account everyone sees."""
    from rapport.projects import services as project_services
    from tests.factories import AccountFactory

    fields = {"name": name, "account": account or AccountFactory(owner=owner), "starts_on": dt.date(2026, 1, 1),
              "due_on": dt.date(2027, 12, 31), "currency": "EUR", "visibility": "everyone"}
    return project_services.project_create(actor=owner, data=fields, members=list(members))
