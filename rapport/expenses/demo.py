"""The demo company's expenses (called by rapport.demo.load_demo once its users, accounts, deals and projects
exist): sales1's and sales2's claims in every state, some on projects they work on, decided by "manager" (the
Sales team's manager), through the services a user's clicks call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from rapport.expenses import services
from rapport.expenses.models import ExpenseCategory

# (submitter, days ago, amount, currency, category, description, billable, on a project, final state)
DEMO_EXPENSES: list[tuple[str, int, str, str, str, str, bool, bool, str]] = [
    ("sales1", 3, "42.50", "EUR", "Travel", "Taxi to the customer's office", True, True, "draft"),
    ("sales1", 9, "186.00", "EUR", "Lodging", "Hotel, one night, for the kick-off", True, True, "submitted"),
    ("sales1", 12, "64.80", "EUR", "Meals", "Lunch with the customer's project team", False, True, "approved"),
    ("sales1", 20, "129.90", "USD", "Materials", "Presentation clicker and adapters", False, False, "rejected"),
    ("sales1", 40, "312.40", "EUR", "Travel", "Train tickets for the workshop", True, True, "reimbursed"),
    ("sales2", 2, "18.20", "EUR", "Meals", "Coffee with a prospect", False, False, "draft"),
    ("sales2", 6, "245.00", "GBP", "Travel", "Flight to the London trade fair", False, False, "submitted"),
    ("sales2", 15, "89.00", "EUR", "Materials", "Printed brochures for the data migration", True, True, "approved"),
    ("sales2", 33, "54.00", "EUR", "Other", "Parking at the trade fair", False, False, "rejected"),
    ("sales2", 50, "410.00", "EUR", "Lodging", "Two nights for the data migration go-live", True, True,
     "reimbursed"),
]
REJECTION = "Please attach the receipt and say which customer this was for."


def _receipt(description: str, amount: str, currency: str) -> SimpleUploadedFile:
    text = f"RECEIPT\n{description}\nTotal: {amount} {currency}\nThank you for your visit.\n"
    return SimpleUploadedFile("receipt.txt", text.encode(), content_type="text/plain")


def demo_expenses(users: dict[str, Any]) -> dict[str, int]:
    """Expenses in every state: drafts, submitted ones waiting for the manager, approved, rejected with a
    reason, reimbursed; with receipts on most."""
    manager = users.get("manager")
    if manager is None or not ExpenseCategory.objects.exists():
        return {}
    today = timezone.localdate()
    made = 0
    for username, days_ago, amount, currency, category, description, billable, on_project, state in DEMO_EXPENSES:
        owner = users.get(username)
        if owner is None:
            continue
        project = _project_of(owner) if on_project else None
        data: dict[str, Any] = {
            "spent_on": today - dt.timedelta(days=days_ago), "amount": Decimal(amount), "currency": currency,
            "category": category, "description": description, "billable": billable, "project": project,
        }
        receipt = _receipt(description, amount, currency) if state != "rejected" else None
        expense = services.expense_create(actor=owner, data=data, receipt=receipt)
        if state != "draft":
            expense = services.expense_submit(actor=owner, expense=expense)
        if state == "rejected":
            services.expense_reject(actor=manager, expense=expense, reason=REJECTION)
        elif state in ("approved", "reimbursed"):
            expense = services.expense_approve(actor=manager, expense=expense)
            if state == "reimbursed":
                services.expense_reimburse(actor=manager, expense=expense)
        made += 1
    return {"expenses": made}


def _project_of(user: Any) -> Any:
    """A project the user works on (the demo's projects app made them), or None."""
    try:
        from rapport.projects.models import Project
    except ImportError:
        return None
    visible = Project.objects.visible_to(user).order_by("created_at", "id")
    return visible.filter(manager=user).first() or visible.first()
