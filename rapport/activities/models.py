"""Activities (tasks and events), their recurrences and links, notes, and calendar feed tokens.

Every time is stored in UTC. A recurring activity is one row with an RRULE,
expanded in its own time zone (so a weekly 09:00 meeting stays at 09:00 local
across daylight-saving changes); a moved or skipped occurrence is a row of
ActivityException, never a copy of the activity (DESIGN.md, "Calendars").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet, access_for, visibility_q
from rapport.core.ids import new_public_id
from rapport.core.models import Action, BusinessRecord, Scope, Visibility, owner_field, validate_time_zone


class ActivityKind(models.Model):
    """What an activity is: call, meeting, email, to-do, or a kind an administrator adds."""

    key = models.SlugField(_("key"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=60)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class ActivityQuerySet(VisibleQuerySet):
    """Activities add one rule to visibility: whoever an activity is assigned to sees it."""

    def visible_to(self, user: object) -> VisibleQuerySet:
        condition = visibility_q(user, "activity")
        qs = self.alive()
        if condition is None:
            return qs
        access = access_for(user)
        if access.user_id is not None and access.scope("activity", Action.READ) != Scope.NONE:
            # EXISTS per row, not `pk IN (all of the user's assignments)`: PostgreSQL would hash every
            # assignment of the user first (tens of thousands for a busy one) on every read.
            condition |= models.Q(models.Exists(ActivityAssignee.objects.filter(
                activity_id=models.OuterRef("pk"), user_id=access.user_id)))
        return qs.filter(condition)


class ActivityType(models.TextChoices):
    TASK = "task", _("Task")
    EVENT = "event", _("Event")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (ActivityStatus.OPEN, ActivityStatus.PENDING)
SHORT_SPAN = dt.timedelta(days=7)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class Activity(BusinessRecord):
    """A task (due on a day) or an event (from a start to an end, or all day).

    A task is stored as an all-day item on its due date, so calendars, feeds and
    range queries treat both kinds alike. All-day items keep their dates as UTC
    midnights: a date is the same date in every time zone.
    """

    record_type = "activity"
    untracked_fields = frozenset({"ical_source", "dav_name"})
    owner = owner_field(indexed=False)  # activity_owner_start_idx starts with it

    uid = models.CharField(max_length=255, unique=True, default=new_public_id, editable=False)
    activity_type = models.CharField(_("type"), max_length=5, choices=ActivityType.choices,
                                     default=ActivityType.TASK)
    kind = models.ForeignKey(ActivityKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=9, choices=ActivityStatus.choices, default=ActivityStatus.OPEN)
    priority = models.CharField(_("priority"), max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    all_day = models.BooleanField(_("all day"), default=False)
    # The zone a recurrence is expanded in, and times are entered in: the owner's when created.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    rrule = models.CharField(_("repeats"), max_length=500, blank=True,
                             help_text=_("An iCalendar RRULE, such as FREQ=WEEKLY;BYDAY=MO,WE"))
    # The end of the last occurrence, or None for a recurrence without end; for range queries.
    recurrence_ends_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_minutes = models.PositiveIntegerField(_("reminder (minutes before)"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"),
                                       through="ActivityAssignee", related_name="+", blank=True)
    attendees = models.ManyToManyField("directory.Contact", verbose_name=_("attendees"), related_name="+",
                                       blank=True)
    # The iCalendar text the activity came from (ICS import); edits patch it, so unmodelled
    # properties (alarms, X- properties) survive a round trip.
    ical_source = models.TextField(blank=True, editable=False)
    # The name a CalDAV client stored the item under, when it is not "<uid>.ics" (rapport.sync).
    dav_name = models.CharField(max_length=255, blank=True, default="", db_default="", editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            # With the columns the activities report counts and the visibility rule reads, so that the
            # report's range of days is read from this index alone, with no row of the table.
            models.Index(fields=["owner", "starts_at", "kind", "status", "visibility", "deleted_at"],
                         name="activity_owner_start_idx"),
            models.Index(fields=["starts_at", "id"], name="activity_start_idx"),
            models.Index(fields=["updated_at", "id"], name="activity_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gte=models.F("starts_at")),
                                   name="activity_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_task(self) -> bool:
        return self.activity_type == ActivityType.TASK

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def due_on(self) -> dt.date | None:
        return self.starts_at.astimezone(dt.UTC).date() if self.is_task else None

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule)

    @property
    def first_day(self) -> dt.date:
        """An all-day item's first date (stored as a UTC midnight)."""
        return self.starts_at.astimezone(dt.UTC).date()

    @property
    def last_day(self) -> dt.date:
        """An all-day item's last date (its stored end is the midnight after it)."""
        end = self.ends_at.astimezone(dt.UTC)
        return max(self.first_day, (end - dt.timedelta(microseconds=1)).date())


class ActivityAssignee(models.Model):
    """A user an activity is assigned to: it is on their calendar and, for a task, their task list.

    The activity's start, type and status are copied here so that one user's calendar and
    open tasks are one index range, not a walk over all their assignments.
    """

    # No index of their own: activity_assignee_unique starts with the activity, assignee_user_start_idx
    # with the user.
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="assignments", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    starts_at = models.DateTimeField()
    # When it ends: a single activity's end, a recurrence's last end (None: it never ends).
    last_ends_at = models.DateTimeField(null=True, blank=True)
    # Recurring, or lasting longer than SHORT_SPAN: found by a range of their own, so that the
    # short ones (nearly all) are one index range from (range start - SHORT_SPAN) to the range end.
    is_long = models.BooleanField(default=False)
    open_task = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="activity_assignee_unique")]
        indexes = [
            models.Index(fields=["user", "is_long", "starts_at"], name="assignee_user_start_idx"),
            models.Index(fields=["user", "open_task", "starts_at"], name="assignee_open_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} → {self.user_id}"


class ActivityLink(models.Model):
    """An activity regards a record (an account, a contact, later an opportunity or support item)."""

    # activity_link_unique starts with it.
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="links", db_index=False)
    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "record_type", "record_id"], name="activity_link_unique")
        ]
        indexes = [models.Index(fields=["record_type", "record_id", "activity"], name="activity_link_record_idx")]

    def __str__(self) -> str:
        return f"{self.activity_id} → {self.record_type}#{self.record_id}"


class ActivityException(models.Model):
    """One occurrence of a recurring activity moved (new start and end) or skipped (cancelled)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="exceptions")
    original_start = models.DateTimeField(help_text=_("The start the rule gives this occurrence (RECURRENCE-ID)."))
    cancelled = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "original_start"], name="activity_exception_unique")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} @ {self.original_start:%Y-%m-%d %H:%M}"


class Note(BusinessRecord):
    """Correspondence of the team about a record; lives on that record's page, never on its own.

    A note is always shared with its author's team and nobody outside it.
    """

    record_type = "note"

    body = models.TextField(_("note"), max_length=20000)
    about_type = models.CharField(max_length=30)
    about_id = models.BigIntegerField()

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("note")
        indexes = [models.Index(fields=["about_type", "about_id", "-created_at"], name="note_about_idx")]

    def __str__(self) -> str:
        text = " ".join(self.body.split())
        return text[:60] + ("…" if len(text) > 60 else "")

    def derive(self) -> list[str]:
        self.visibility = Visibility.TEAM
        return ["visibility"]


class CalendarFeed(models.Model):
    """A user's secret calendar feed address.

    The secret in the address is an HMAC of the user and `generation`, so nothing secret is
    stored; regenerating bumps the generation (the old address stops working), revoking
    turns the feed off until it is regenerated.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    generation = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
