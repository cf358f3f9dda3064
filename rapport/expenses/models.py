"""Expenses: claims with receipts, approved by the submitter's manager, then reimbursed.

An expense is always private to its submitter: besides them, only the manager of their team (who
approves it) and administrators see it (rapport.core.access: managers read their team's records).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.models import BusinessRecord
from rapport.sales.currencies import default_currency

# The largest amount one expense may claim: above it is a typo (a missing decimal point), not a taxi.
MAX_AMOUNT = Decimal("1000000.00")
DESCRIPTION_MAX = 2000
REASON_MAX = 1000

# The categories a new company starts with; administrators change them in the admin.
DEFAULT_CATEGORIES = ("Travel", "Meals", "Lodging", "Materials", "Other")


class ExpenseCategory(models.Model):
    """What an expense was for (travel, meals…); administrators keep the list."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("expense category")
        verbose_name_plural = _("expense categories")

    def __str__(self) -> str:
        return self.name


class ExpenseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REIMBURSED = "reimbursed", _("Reimbursed")


# Statuses in which the submitter may still change or delete the expense.
EDITABLE = frozenset({ExpenseStatus.DRAFT, ExpenseStatus.REJECTED})
# Statuses whose amounts the company owes or has paid: what totals count by default.
APPROVED_STATUSES = (ExpenseStatus.APPROVED, ExpenseStatus.REIMBURSED)


class Expense(BusinessRecord):
    """One claim: what was spent, when, on what, for which project, account or opportunity."""

    record_type = "expense"

    spent_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_AMOUNT)])
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    category = models.ForeignKey(ExpenseCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="expenses")
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX, blank=True)
    billable = models.BooleanField(_("billable to the customer"), default=False)
    project = models.ForeignKey("projects.Project", verbose_name=_("project"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="expenses")
    account = models.ForeignKey("directory.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="expenses")
    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="expenses")
    status = models.CharField(_("status"), max_length=10, choices=ExpenseStatus.choices,
                              default=ExpenseStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), max_length=REASON_MAX, blank=True)
    reimbursed_at = models.DateTimeField(_("reimbursed"), null=True, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["spent_on", "id"], name="expense_date_idx"),
            models.Index(fields=["owner", "spent_on", "id"], name="expense_owner_date_idx"),
            models.Index(fields=["status", "spent_on", "id"], name="expense_status_date_idx"),
            models.Index(fields=["status", "submitted_at", "id"], name="expense_status_submitted_idx"),
            models.Index(fields=["project", "spent_on", "id"], name="expense_project_date_idx"),
            models.Index(fields=["account", "spent_on", "id"], name="expense_account_date_idx"),
            models.Index(fields=["opportunity", "spent_on", "id"], name="expense_opportunity_date_idx"),
            models.Index(fields=["amount", "id"], name="expense_amount_idx"),
            models.Index(fields=["updated_at", "id"], name="expense_updated_idx"),
        ]

    def __str__(self) -> str:
        # No related names here: str() of a row must cost no query (history, lists of documents).
        return f"{self.spent_on:%Y-%m-%d} · {self.amount} {self.currency}" if self.spent_on else str(self.amount)

    def derive(self) -> list[str]:
        self.currency = (self.currency or "").strip().upper()
        self.description = (self.description or "").strip()
        return ["currency", "description"]

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE
