"""Automation: task definitions, rules that turn routine events into follow-up tasks, the follow-ups
they create, and overrides that reroute an absent colleague's follow-ups.

A rule has a trigger (a record is created; a field changes to a value; an account has had no order,
or no activity of a kind, for N days; N days before or after a date field; a recurrence over a
filtered set of records), an optional condition, and an action: a follow-up task from a task
definition, due in N days, for the record's owner, a named user, or a team or role in turn.
Each follow-up is unique per (rule, record, period), so that no rerun creates one twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.models import PublicIdModel


class TaskDefinition(PublicIdModel):
    """A named kind of follow-up, with what its holder is told at each stage."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    contact_message = models.TextField(_("contact: what to do first"), max_length=4000)
    pending_message = models.TextField(_("pending: what waiting means"), max_length=4000, blank=True)
    complete_message = models.TextField(_("complete: what done means"), max_length=4000, blank=True)
    instructions = models.TextField(_("instructions"), max_length=20000, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Trigger(models.TextChoices):
    CREATED = "created", _("A record is created")
    CHANGED = "changed", _("A field changes to a value")
    INACTIVITY = "inactivity", _("No order or activity for a number of days")
    DATE = "date", _("Days before or after a date")
    RECURRENCE = "recurrence", _("On a schedule")


EVENT_TRIGGERS = (Trigger.CREATED, Trigger.CHANGED)
SWEPT_TRIGGERS = (Trigger.INACTIVITY, Trigger.DATE, Trigger.RECURRENCE)


class InactivityOf(models.TextChoices):
    ORDER = "order", _("No order")
    ACTIVITY = "activity", _("No activity of a kind")


class AssignTo(models.TextChoices):
    OWNER = "owner", _("The record's owner")
    USER = "user", _("A named user")
    TEAM = "team", _("A team, in turn")
    ROLE = "role", _("Everyone in a role, in turn")


class Rule(PublicIdModel):
    """When to create a follow-up, for which records, from which definition, for whom."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    definition = models.ForeignKey(TaskDefinition, verbose_name=_("task definition"), on_delete=models.PROTECT,
                                   related_name="rules")
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    record_type = models.CharField(_("record type"), max_length=30)
    field = models.CharField(_("field"), max_length=60, blank=True,
                             help_text=_("The field that changes, or the date field."))
    value = models.CharField(_("value"), max_length=200, blank=True, help_text=_("The value it changes to."))
    days = models.IntegerField(_("days"), null=True, blank=True,
                               help_text=_("Inactivity: days without; date: days after (negative: before)."))
    inactivity_of = models.CharField(_("inactivity of"), max_length=8, choices=InactivityOf.choices, blank=True)
    activity_kind = models.ForeignKey("activities.ActivityKind", verbose_name=_("kind of activity"), null=True,
                                      blank=True, on_delete=models.PROTECT, related_name="+")
    rrule = models.CharField(_("schedule"), max_length=300, blank=True, help_text=_("An RRULE, such as "
                                                                                      "FREQ=MONTHLY;BYDAY=1MO."))
    starts_on = models.DateField(_("schedule starts"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"), default=0)
    assign_to = models.CharField(_("assign to"), max_length=5, choices=AssignTo.choices, default=AssignTo.OWNER)
    assign_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assign_team = models.ForeignKey("core.Team", verbose_name=_("team"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assign_role = models.ForeignKey("core.Role", verbose_name=_("role"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    # Where the next follow-up of a team or role goes: the turn is kept on the rule.
    turn = models.PositiveIntegerField(default=0, editable=False)
    alert_email = models.BooleanField(_("also alert by email"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "trigger", "record_type"], name="rule_active_idx")]

    def __str__(self) -> str:
        return self.name


class FollowUp(PublicIdModel):
    """A task a rule created about a record: unique per (rule, record, period)."""

    # follow_up_once_per_period and follow_up_rule_idx start with it.
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="follow_ups", db_index=False)
    task = models.OneToOneField("activities.Activity", on_delete=models.CASCADE, related_name="follow_up")
    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()
    # What makes this follow-up the one for its rule and record: "created", "changed:v7", "since:2026-09-30",
    # "date:2027-01-15", "on:2026-12-07".
    period = models.CharField(max_length=40)
    # follow_up_assignee_idx starts with it.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 db_index=False)
    # Whom the rule chose, when an override sent it to someone else.
    rerouted_from = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    override = models.ForeignKey("Override", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "record_type", "record_id", "period"],
                                               name="follow_up_once_per_period")]
        indexes = [
            models.Index(fields=["assignee", "created_at"], name="follow_up_assignee_idx"),
            models.Index(fields=["record_type", "record_id"], name="follow_up_record_idx"),
            models.Index(fields=["rule", "created_at"], name="follow_up_rule_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.period})"


class Override(PublicIdModel):
    """While `absent` is away (from `starts_on` to `ends_on`), their follow-ups go to `to_user`, or are
    spread over `to_team`. Reverting moves back those still open."""

    absent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("absent user"), on_delete=models.PROTECT,
                               related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("to user"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey("core.Team", verbose_name=_("to team"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    turn = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["absent", "starts_on", "ends_on"], name="override_absent_idx")]

    def __str__(self) -> str:
        return f"{self.absent}: {self.starts_on} – {self.ends_on}"


class OverrideMove(models.Model):
    """One follow-up an override moved, and from whom: what reverting puts back."""

    override = models.ForeignKey(Override, on_delete=models.CASCADE, related_name="moves")
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="+")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.follow_up} → {self.to_user}"
