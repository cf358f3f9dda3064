"""Leads, opportunities and their pipeline, orders, workflow definitions and communications."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.models import BusinessRecord, PublicIdModel
from rapport.core.text import fold
from rapport.sales.currencies import default_currency

NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Pipeline(PublicIdModel):
    """A sales process: an ordered set of stages an opportunity moves through."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default"), default=False,
                                     help_text=_("New opportunities start in this pipeline."))

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class StageOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class PipelineStage(PublicIdModel):
    """One step of a pipeline, with the probability an opportunity there starts with."""

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE,
                                 related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(_("default probability (%)"), default=10, validators=PERCENT)
    outcome = models.CharField(_("outcome"), max_length=4, choices=StageOutcome.choices, default=StageOutcome.OPEN)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["pipeline__position", "pipeline_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.outcome != StageOutcome.OPEN


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class Lead(BusinessRecord):
    """A prospective customer: a person, a company, or an existing contact or account, not yet a deal."""

    record_type = "lead"

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=11, choices=LeadStatus.choices, default=LeadStatus.NEW)
    remarks = models.TextField(_("remarks"), max_length=10000, blank=True)
    # An existing account or contact this lead is about; conversion links to them instead of creating.
    account = models.ForeignKey("directory.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads")
    contact = models.ForeignKey("directory.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads")
    opportunity = models.ForeignKey("Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+", editable=False)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)

    name_key = models.CharField(max_length=300, editable=False, default="")
    email_key = models.CharField(max_length=254, editable=False, default="", blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="lead_name_idx"),
            models.Index(fields=["status", "name_key", "id"], name="lead_status_name_idx"),
            models.Index(fields=["owner", "name_key", "id"], name="lead_owner_name_idx"),
            models.Index(fields=["email_key"], name="lead_email_idx"),
            models.Index(fields=["updated_at", "id"], name="lead_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def person_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        if self.person_name and self.company:
            return f"{self.person_name} ({self.company})"
        return self.person_name or self.company or str(_("Unnamed lead"))

    def derive(self) -> list[str]:
        self.name_key = fold(f"{self.last_name} {self.first_name} {self.company}".strip())[:300]
        self.email_key = (self.email or "").strip().lower()
        return ["name_key", "email_key"]


class Opportunity(BusinessRecord):
    """A possible sale to an account, moving through the stages of a pipeline."""

    record_type = "opportunity"

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey("directory.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="opportunities")
    stage = models.ForeignKey(PipelineStage, verbose_name=_("stage"), on_delete=models.PROTECT,
                              related_name="opportunities")
    amount = models.DecimalField(_("amount"), default=Decimal("0"), validators=NOT_NEGATIVE, max_digits=14,
                                 decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10, validators=PERCENT)
    # Required, as in every CRM's forecast: a deal without a date would fall out of every month.
    expected_close_on = models.DateField(_("expected close date"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    outcome_reason = models.CharField(_("won or lost reason"), max_length=300, blank=True)
    description = models.TextField(_("description"), max_length=10000, blank=True)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True, editable=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True, editable=False)
    # Copied from the stage, so the open pipeline and the forecast filter on one table.
    is_open = models.BooleanField(_("open"), default=True, editable=False)

    name_key = models.CharField(max_length=200, editable=False, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["name_key", "id"], name="opportunity_name_idx"),
            models.Index(fields=["expected_close_on", "id"], name="opportunity_close_idx"),
            models.Index(fields=["stage", "expected_close_on", "id"], name="opportunity_stage_close_idx"),
            models.Index(fields=["is_open", "expected_close_on", "id"], name="opportunity_open_close_idx"),
            models.Index(fields=["owner", "expected_close_on", "id"], name="opportunity_owner_close_idx"),
            models.Index(fields=["account", "expected_close_on", "id"], name="opportunity_account_idx"),
            models.Index(fields=["amount", "id"], name="opportunity_amount_idx"),
            models.Index(fields=["updated_at", "id"], name="opportunity_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / Decimal(100)).quantize(Decimal("0.01"))

    def derive(self) -> list[str]:
        self.name_key = fold(self.name)[:200]
        self.currency = (self.currency or "").strip().upper()
        return ["name_key", "currency"]


class OpportunityContact(models.Model):
    """A person taking part in a deal, with their role in it (decision maker, champion...)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey("directory.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="opportunity_roles")
    role = models.CharField(_("role"), max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["opportunity", "contact"], name="opportunity_contact_unique")]

    def __str__(self) -> str:
        return f"{self.contact} ({self.role})" if self.role else str(self.contact)


class OpportunityStageChange(models.Model):
    """An opportunity entering a stage, kept for reporting (time in stage, conversion between stages)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(PipelineStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(PipelineStage, on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stage_change_opportunity_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stage_change_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} → {self.to_stage_id} at {self.changed_at:%Y-%m-%d}"



class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class Order(BusinessRecord):
    """A customer's order: what the account bought, when, for how much."""

    record_type = "order"

    account = models.ForeignKey("directory.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="orders")
    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="orders")
    number = models.CharField(_("number"), max_length=40, unique=True)
    ordered_on = models.DateField(_("order date"))
    amount = models.DecimalField(_("amount"), validators=NOT_NEGATIVE, max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    status = models.CharField(_("status"), max_length=9, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    description = models.TextField(_("description"), max_length=10000, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["ordered_on", "id"], name="order_date_idx"),
            models.Index(fields=["account", "ordered_on", "id"], name="order_account_date_idx"),
            models.Index(fields=["owner", "ordered_on", "id"], name="order_owner_date_idx"),
            models.Index(fields=["status", "ordered_on", "id"], name="order_status_date_idx"),
            models.Index(fields=["amount", "id"], name="order_amount_idx"),
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def derive(self) -> list[str]:
        self.currency = (self.currency or "").strip().upper()
        self.number = (self.number or "").strip()
        return ["currency", "number"]


class OrderLine(models.Model):
    """One product on an order: quantity times unit price makes the line's amount."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.CharField(_("product"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, validators=NOT_NEGATIVE)
    unit_price = models.DecimalField(_("unit price"), validators=NOT_NEGATIVE, max_digits=14, decimal_places=2)
    amount = models.DecimalField(_("line amount"), validators=NOT_NEGATIVE, max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


class WorkflowDefinition(PublicIdModel):
    """A business process (Customer Relationship, Purchasing...) as a tree of communication types."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CommunicationType(PublicIdModel):
    """A branch of a workflow tree: Customer Relationship → Meeting → Quarterly review."""

    workflow = models.ForeignKey(WorkflowDefinition, verbose_name=_("workflow"), on_delete=models.CASCADE,
                                 related_name="types")
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["workflow_id", "position", "id"]
        indexes = [models.Index(fields=["workflow", "parent"], name="communication_type_tree_idx")]

    def __str__(self) -> str:
        return self.name


class Communication(models.Model):
    """An activity registered as a communication of a workflow branch, with a company and a person."""

    activity = models.OneToOneField("activities.Activity", on_delete=models.CASCADE, related_name="communication")
    communication_type = models.ForeignKey(CommunicationType, verbose_name=_("communication type"),
                                           on_delete=models.PROTECT, related_name="communications")
    account = models.ForeignKey("directory.Account", on_delete=models.CASCADE, related_name="communications")
    contact = models.ForeignKey("directory.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="communications")

    class Meta:
        indexes = [models.Index(fields=["account", "communication_type"], name="communication_account_idx")]

    def __str__(self) -> str:
        return f"{self.communication_type} ({self.activity_id})"
