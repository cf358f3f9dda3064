"""Support items (cases), the requests that assign them, and their holders' private copies.

The item is the public copy that everyone allowed to see its account sees. Its owner created it and
stays its owner for good; its assignee is the user currently asked to handle it. Each request to
handle it is a SupportRequest, answered once: accepted, declined (with a reason) or passed on (a
new request follows it, so the chain is kept). The owner, and an assignee once they accept, hold a
private copy: a task on their own list with their own due date, reminder, status and notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet, access_for, visibility_q
from rapport.core.ids import new_public_id
from rapport.core.models import Action, BusinessRecord, PublicIdModel, Scope

# Where undated items sort: after every dated one.
NO_DUE_DATE = dt.date(9999, 12, 31)


class SupportStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_SUPPORT_STATUSES = (SupportStatus.NEW, SupportStatus.ASSIGNED, SupportStatus.IN_PROGRESS, SupportStatus.WAITING)
# Set by the request cycle, never chosen: "assigned" while a request waits, "new" when nobody holds it.
CYCLE_STATUSES = (SupportStatus.NEW, SupportStatus.ASSIGNED)


class SupportPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SupportSource(models.TextChoices):
    APP = "app", _("Entered in Rapport")
    EMAIL = "email", _("Email from the customer")
    API = "api", _("API")


class SupportCategory(models.Model):
    """What an item is about (question, problem, complaint…); administrators keep the list."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("support category")
        verbose_name_plural = _("support categories")

    def __str__(self) -> str:
        return self.name


class SupportItemQuerySet(VisibleQuerySet):
    """Items add one rule to visibility: whoever is asked to handle one sees it."""

    def visible_to(self, user: Any) -> VisibleQuerySet:
        condition = visibility_q(user, SupportItem.record_type)
        qs = self.alive()
        if condition is None:
            return qs
        access = access_for(user)
        if access.user_id is not None and access.scope(SupportItem.record_type, Action.READ) != Scope.NONE:
            condition |= Q(assignee_id=access.user_id)
        return qs.filter(condition)


class SupportItem(BusinessRecord):
    """A customer's case: what they need, how urgent it is, and who is handling it."""

    record_type = "support_item"

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    category = models.ForeignKey(SupportCategory, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(_("priority"), max_length=6, choices=SupportPriority.choices,
                                default=SupportPriority.NORMAL)
    status = models.CharField(_("status"), max_length=11, choices=SupportStatus.choices, default=SupportStatus.NEW)
    due_on = models.DateField(_("due"), null=True, blank=True)
    # The due date to sort by: undated items last, and never NULL, so one index serves the keyset.
    due_sort = models.DateField(default=NO_DUE_DATE, editable=False)
    account = models.ForeignKey("directory.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="support_items")
    contact = models.ForeignKey("directory.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="support_items")
    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="support_items")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+", editable=False)
    source = models.CharField(_("source"), max_length=5, choices=SupportSource.choices, default=SupportSource.APP,
                              editable=False)
    closed_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    # When the last request was declined: the item is back with its owner, who should act.
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True, editable=False)

    objects = SupportItemQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="support_created_idx"),
            models.Index(fields=["owner", "created_at", "id"], name="support_owner_idx"),
            models.Index(fields=["assignee", "status", "created_at"], name="support_assignee_idx"),
            models.Index(fields=["account", "created_at", "id"], name="support_account_idx"),
            models.Index(fields=["contact", "created_at", "id"], name="support_contact_idx"),
            models.Index(fields=["status", "due_on", "id"], name="support_status_due_idx"),
            models.Index(fields=["due_sort", "id"], name="support_due_sort_idx"),
            models.Index(fields=["updated_at", "id"], name="support_updated_idx"),
            # Every column the support report reads (it groups all visible items by status and priority,
            # and counts them by age): SQLite counts from this index alone instead of reading each row.
            models.Index(fields=["status", "priority", "created_at", "deleted_at", "visibility", "owner", "assignee"],
                         name="support_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def derive(self) -> list[str]:
        self.due_sort = self.due_on or NO_DUE_DATE
        return ["due_sort"]

    def shared_with(self, user_id: int | None) -> bool:
        return user_id is not None and self.assignee_id == user_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SUPPORT_STATUSES

    def is_overdue(self, today: Any) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


class RequestState(models.TextChoices):
    PENDING = "pending", _("Awaiting an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    PASSED_ON = "passed_on", _("Passed on")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SupportRequest(PublicIdModel):
    """One request to a user to handle an item, answered once."""

    item = models.ForeignKey(SupportItem, on_delete=models.CASCADE, related_name="requests")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked"), on_delete=models.PROTECT,
                                  related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"),
                                     on_delete=models.PROTECT, related_name="+")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("state"), max_length=9, choices=RequestState.choices, default=RequestState.PENDING)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    # The email's links stop working then; the request itself can still be answered in the app.
    links_expire_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One open request per item: two people assigning at once cannot both succeed.
            models.UniqueConstraint(fields=["item"], condition=Q(state="pending"), name="support_one_pending_request"),
        ]
        indexes = [
            models.Index(fields=["recipient", "state", "created_at"], name="support_request_inbox_idx"),
            models.Index(fields=["item", "created_at"], name="support_request_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item.reference} → {self.recipient}"


class PrivateCopy(models.Model):
    """A holder's own copy of an item: a task on their list, and notes nobody else reads."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    item = models.ForeignKey(SupportItem, on_delete=models.CASCADE, related_name="private_copies")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField("activities.Activity", on_delete=models.CASCADE, related_name="support_copy")
    notes = models.TextField(_("private notes"), max_length=20000, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "holder"], name="support_one_copy_per_holder")]

    def __str__(self) -> str:
        return f"{self.item.reference} ({self.holder})"
