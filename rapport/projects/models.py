"""Projects: an account's piece of work with milestones, tasks, files, notes, expenses and a timeline.

A project's tasks are activities (rapport.activities) linked to it with an ActivityLink of record type
"project"; a ProjectTask row says which milestone, if any, a task belongs to. Progress is counted from
the tasks' statuses, never stored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet, access_for, visibility_q
from rapport.core.models import Action, BusinessRecord, PublicIdModel, Scope
from rapport.core.text import fold
from rapport.sales.currencies import default_currency


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ProjectQuerySet(VisibleQuerySet):
    """Projects add one rule to visibility: their manager and their members see them."""

    def visible_to(self, user: Any) -> VisibleQuerySet:
        condition = visibility_q(user, Project.record_type)
        qs = self.alive()
        if condition is None:
            return qs
        access = access_for(user)
        if access.user_id is not None and access.scope(Project.record_type, Action.READ) != Scope.NONE:
            condition |= Q(manager_id=access.user_id) | Q(Exists(ProjectMember.objects.filter(
                project_id=OuterRef("pk"), user_id=access.user_id)))
        return qs.filter(condition)

    def deleted_visible_to(self, user: Any) -> VisibleQuerySet:
        condition = visibility_q(user, Project.record_type)
        qs = self.filter(deleted_at__isnull=False)
        return qs if condition is None else qs.filter(condition)


class Project(BusinessRecord):
    """A piece of work for an account, possibly won as an opportunity: who runs it, when, for how much."""

    record_type = "project"

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey("directory.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="projects")
    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("from opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="projects")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("project manager"),
                                on_delete=models.PROTECT, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), through="ProjectMember",
                                     related_name="+", blank=True)
    starts_on = models.DateField(_("start date"))
    due_on = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=9, choices=ProjectStatus.choices,
                              default=ProjectStatus.PLANNED)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=Decimal("0"),
                                 validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    description = models.TextField(_("description"), max_length=10000, blank=True)

    name_key = models.CharField(max_length=200, editable=False, default="")

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        indexes = [
            models.Index(fields=["name_key", "id"], name="project_name_idx"),
            models.Index(fields=["due_on", "id"], name="project_due_idx"),
            models.Index(fields=["starts_on", "id"], name="project_start_idx"),
            models.Index(fields=["status", "due_on", "id"], name="project_status_due_idx"),
            models.Index(fields=["manager", "due_on", "id"], name="project_manager_due_idx"),
            models.Index(fields=["account", "due_on", "id"], name="project_account_due_idx"),
            models.Index(fields=["updated_at", "id"], name="project_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=models.F("starts_on")), name="project_due_after_start",
                                   violation_error_message=_("The due date is before the start date.")),
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative",
                                   violation_error_message=_("The budget cannot be negative.")),
        ]

    def __str__(self) -> str:
        return self.name

    def derive(self) -> list[str]:
        self.name_key = fold(self.name)[:200]
        self.currency = (self.currency or "").strip().upper()
        return ["name_key", "currency"]

    def shared_with(self, user_id: int | None) -> bool:
        if user_id is None:
            return False
        if self.manager_id == user_id:
            return True
        members = getattr(self, "_prefetched_objects_cache", {}).get("memberships")
        if members is not None:
            return any(member.user_id == user_id for member in members)
        return ProjectMember.objects.filter(project_id=self.pk, user_id=user_id).exists()


class ProjectMember(models.Model):
    """A user working on a project: they see it, its tasks' list and may add tasks to it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="project_member_unique")]
        indexes = [models.Index(fields=["user", "project"], name="project_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.project_id}"


class Milestone(PublicIdModel):
    """A stage of a project that its tasks are grouped under, in the order of `position`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("name"), max_length=200)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["project", "position", "id"], name="milestone_project_idx")]

    def __str__(self) -> str:
        return self.name


class ProjectTask(models.Model):
    """An activity that is a task of a project, and the milestone it belongs to (none: not grouped)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    activity = models.OneToOneField("activities.Activity", on_delete=models.CASCADE, related_name="project_task")
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")

    class Meta:
        indexes = [models.Index(fields=["project", "milestone"], name="project_task_idx")]

    def __str__(self) -> str:
        return f"{self.activity_id} in {self.project_id}"
