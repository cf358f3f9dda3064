"""Writes of activities, occurrences, notes and calendar feeds: one function per use case."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from rapport.activities import recurrence
from rapport.activities.models import (
    OPEN_STATUSES,
    SHORT_SPAN,
    Activity,
    ActivityAssignee,
    ActivityException,
    ActivityLink,
    ActivityStatus,
    ActivityType,
    CalendarFeed,
    Note,
)
from rapport.core.access import access_for, require
from rapport.core.errors import StaleVersion
from rapport.core.history import display_value
from rapport.core.models import Action, User
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.core.registry import linkables

MAX_ASSIGNEES = 50
MAX_ATTENDEES = 200
MAX_LINKS = 20
# Fields that decide where an activity sits on calendars; a change of any re-checks the schedule.
SCHEDULE_FIELDS = ("activity_type", "starts_at", "ends_at", "all_day", "time_zone", "rrule")


@transaction.atomic
def task_status_set(*, actor: Any, activity: Activity, status: str) -> Activity:
    """Set a task's status because another app's rule says so (closing a support item completes its
    holders' copies): the caller has decided the actor may; history, version and calendars follow."""
    activity = Activity.objects.get(pk=activity.pk)
    if activity.status == status:
        return activity
    data: dict[str, Any] = {"status": status}
    _status_fields(data, activity)
    activity = record_update(activity, actor=actor, data=data, version=activity.version, rights_checked=True)
    _sync_assignments(activity)
    return activity


def utc_midnight(day: dt.date) -> dt.datetime:
    """An all-day item's date as stored: that date's midnight in UTC, the same date everywhere."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def _normalise_schedule(data: dict[str, Any], current: Activity | None) -> None:
    """Fill and check starts_at / ends_at / all_day for a task or an event, in place.

    A task is due on a day (`due_on`): it is stored as an all-day item starting and ending
    at that date. An all-day event runs from the midnight of its first day to that of the
    day after its last.
    """
    def value(name: str) -> Any:
        return data[name] if name in data else getattr(current, name, None)

    due_on = data.pop("due_on", None)
    activity_type = value("activity_type") or ActivityType.TASK
    if activity_type == ActivityType.TASK:
        if due_on is None and current is not None and current.is_task and "starts_at" not in data:
            due_on = current.due_on
        if due_on is None:
            raise ValidationError({"due_on": [_("A task needs a due date.")]})
        data["starts_at"] = data["ends_at"] = utc_midnight(due_on)
        data["all_day"] = True
        return
    starts_at, ends_at = value("starts_at"), value("ends_at")
    if starts_at is None:
        raise ValidationError({"starts_at": [_("An event needs a start.")]})
    if value("all_day"):
        # Stored ends are exclusive midnights (as iCalendar's DTEND): an event on one day ends at
        # the next midnight, and an end within a day includes that day.
        if ends_at is not None and ends_at < starts_at:
            raise ValidationError({"ends_at": [_("The end is before the start.")]})
        start_day = starts_at.astimezone(dt.UTC).date()
        end = (ends_at or starts_at).astimezone(dt.UTC)
        end_day = end.date() + dt.timedelta(days=1 if end.time() != dt.time(0) else 0)
        data["starts_at"] = utc_midnight(start_day)
        data["ends_at"] = utc_midnight(max(end_day, start_day + dt.timedelta(days=1)))
        return
    if ends_at is None:
        ends_at = data["ends_at"] = starts_at + dt.timedelta(hours=1)
    if ends_at < starts_at:
        raise ValidationError({"ends_at": [_("The end is before the start.")]})
    if ends_at - starts_at > dt.timedelta(days=366):
        raise ValidationError({"ends_at": [_("An event lasts at most a year.")]})


def _normalise_rule(data: dict[str, Any], current: Activity | None) -> None:
    """Check the repeat rule against the schedule, and note when the recurrence ends."""
    if "rrule" in data:
        data["rrule"] = recurrence.normalise_rule(data["rrule"] or "")
    rule = data.get("rrule", current.rrule if current else "")
    starts_at = data.get("starts_at", current.starts_at if current else None)
    ends_at = data.get("ends_at", current.ends_at if current else None)
    time_zone = data.get("time_zone", current.time_zone if current else "UTC")
    all_day = data.get("all_day", current.all_day if current else False)
    if not rule:
        data["recurrence_ends_at"] = None
        return
    assert starts_at is not None and ends_at is not None  # _normalise_schedule ran first
    recurrence.check_rule(rule, starts_at=starts_at, time_zone=time_zone, all_day=all_day)
    data["recurrence_ends_at"] = recurrence.recurrence_end(rule, starts_at=starts_at, ends_at=ends_at,
                                                           time_zone=time_zone, all_day=all_day)


def _status_fields(data: dict[str, Any], current: Activity | None) -> None:
    if "status" not in data or (current is not None and current.status == data["status"]):
        return
    data["completed_at"] = timezone.now() if data["status"] == ActivityStatus.COMPLETED else None


def _sync_assignments(activity: Activity) -> None:
    """Copy the activity's place on calendars onto its assignment rows (see ActivityAssignee)."""
    ActivityAssignee.objects.filter(activity=activity).update(**_assignment_values(activity))


def _assignment_values(activity: Activity) -> dict[str, Any]:
    return {
        "starts_at": activity.starts_at,
        "last_ends_at": activity.recurrence_ends_at if activity.rrule else activity.ends_at,
        "is_long": bool(activity.rrule) or activity.ends_at - activity.starts_at > SHORT_SPAN,
        "open_task": activity.is_task and activity.status in OPEN_STATUSES and activity.deleted_at is None,
    }


def _names(items: Iterable[Any]) -> str:
    return ", ".join(sorted(str(item) for item in items))


def _set_assignees(activity: Activity, users: Sequence[User]) -> None:
    if len(users) > MAX_ASSIGNEES:
        raise ValidationError({"assignees": [_("At most %d assigned users.") % MAX_ASSIGNEES]})
    inactive = [user for user in users if not user.is_active]
    if inactive:
        raise ValidationError({"assignees": [_("%(name)s is not an active user.") % {"name": inactive[0]}]})
    wanted = {user.pk for user in users}
    ActivityAssignee.objects.filter(activity=activity).exclude(user_id__in=wanted).delete()
    existing = set(ActivityAssignee.objects.filter(activity=activity).values_list("user_id", flat=True))
    values = _assignment_values(activity)
    ActivityAssignee.objects.bulk_create(
        ActivityAssignee(activity=activity, user_id=pk, **values) for pk in wanted - existing
    )


def _check_links(links: Sequence[Any]) -> None:
    if len(links) > MAX_LINKS:
        raise ValidationError({"regarding": [_("At most %d linked records.") % MAX_LINKS]})


def _set_links(activity: Activity, records: Sequence[Any]) -> None:
    _check_links(records)
    ActivityLink.objects.filter(activity=activity).delete()
    ActivityLink.objects.bulk_create(
        {(r.record_type, r.pk): ActivityLink(activity=activity, record_type=r.record_type, record_id=r.pk)
         for r in records}.values()
    )


def _set_attendees(activity: Activity, contacts: Sequence[Any]) -> None:
    if len(contacts) > MAX_ATTENDEES:
        raise ValidationError({"attendees": [_("At most %d attendees.") % MAX_ATTENDEES]})
    activity.attendees.set(contacts)


@transaction.atomic
def activity_create(
    *, actor: Any, data: dict[str, Any], assignees: Sequence[User] | None = None,
    attendees: Sequence[Any] = (), regarding: Sequence[Any] = (),
) -> Activity:
    """Create a task or event. Without assignees it is assigned to its owner.

    `regarding` and `attendees` are records the caller has already found through the actor's
    visible_to; `data["due_on"]` gives a task's date, starts_at / ends_at an event's times.
    """
    require(actor, Activity.record_type, Action.CREATE)
    data = dict(data)
    data.setdefault("time_zone", getattr(data.get("owner") or actor, "time_zone", "UTC") or "UTC")
    _normalise_schedule(data, None)
    _normalise_rule(data, None)
    _status_fields(data, None)
    _check_links(regarding)
    activity = record_create(Activity, actor=actor, data=data)
    _set_assignees(activity, list(assignees) if assignees else [activity.owner])
    _set_attendees(activity, list(attendees))
    _set_links(activity, list(regarding))
    return activity


def activity_links_copy(*, source: Any, targets: Sequence[Any], user: Any) -> int:
    """Make every activity regarding `source` that `user` may see regard `targets` too (a converted
    lead's history follows it to the account, contact and deal it became); the number of links added.

    Only links are added: the activities themselves, their versions and who sees them stay as they were.
    """
    links = ActivityLink.objects.filter(record_type=source.record_type, record_id=source.pk,
                                        activity__in=Activity.objects.visible_to(user))
    activity_ids = list(links.values_list("activity_id", flat=True))
    have = set(ActivityLink.objects.filter(activity_id__in=activity_ids).values_list(
        "activity_id", "record_type", "record_id"))
    new = [ActivityLink(activity_id=activity_id, record_type=target.record_type, record_id=target.pk)
           for activity_id in activity_ids for target in targets
           if (activity_id, target.record_type, target.pk) not in have]
    ActivityLink.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def activity_update(
    *, actor: Any, activity: Activity, data: dict[str, Any], version: int | None,
    assignees: Sequence[User] | None = None, attendees: Sequence[Any] | None = None,
    regarding: Sequence[Any] | None = None,
) -> Activity:
    """Change an activity if `version` is current. A change of schedule moves it on every calendar.

    Its assignees may change its status (complete a task) even where their role would not let
    them change someone else's record; everything else needs the update right on its owner.
    """
    data = dict(data)
    status_only = set(data) <= {"status"} and assignees is None and attendees is None and regarding is None
    rights_checked = False
    if status_only and not access_for(actor).covers_owner(Activity.record_type, Action.UPDATE, activity.owner_id):
        if not (access_for(actor).can(Activity.record_type, Action.UPDATE)
                and ActivityAssignee.objects.filter(activity=activity, user_id=actor.pk).exists()):
            raise PermissionDenied(_("You may not update this activity."))
        rights_checked = True
    if "due_on" in data or any(name in data for name in SCHEDULE_FIELDS):
        _normalise_schedule(data, activity)
        _normalise_rule(data, activity)
    _status_fields(data, activity)
    related: dict[str, list[Any]] = {}
    if assignees is not None:
        before = _names(User.objects.filter(pk__in=activity.assignments.values("user_id")))
        if before != _names(assignees):
            related["assignees"] = [before, _names(assignees)]
    # Linked records go into the history as links, so that a reader who may not see one is not told its name.
    if attendees is not None:
        before_attendees = list(activity.attendees.all())
        if {c.pk for c in before_attendees} != {c.pk for c in attendees}:
            related["attendees"] = [display_value(before_attendees), display_value(list(attendees))]
    if regarding is not None:
        _check_links(regarding)
        before_links = activity.links.values_list("record_type", "record_id")
        if set(before_links) != {(r.record_type, r.pk) for r in regarding}:
            before_records = [found for t, i in before_links if t in linkables()
                              and (found := apps.get_model(linkables()[t].model_label).objects.filter(pk=i).first())]
            related["regarding"] = [display_value(before_records), display_value(list(regarding))]
    activity = record_update(activity, actor=actor, data=data, version=version, related_changes=related,
                             rights_checked=rights_checked)
    _sync_assignments(activity)
    if assignees is not None:
        _set_assignees(activity, list(assignees) or [activity.owner])
    if attendees is not None:
        _set_attendees(activity, list(attendees))
    if regarding is not None:
        _set_links(activity, list(regarding))
    if "rrule" in data or "starts_at" in data or "time_zone" in data:
        _drop_orphan_exceptions(activity)
        _cover_moved_occurrences(activity)
    return activity


def _drop_orphan_exceptions(activity: Activity) -> None:
    """Moved or skipped occurrences the (changed) rule no longer gives are forgotten; all of them
    when the activity no longer repeats."""
    if not activity.rrule:
        ActivityException.objects.filter(activity=activity).delete()
        return
    stale = [exc.pk for exc in activity.exceptions.all() if not recurrence.occurs_at(activity, exc.original_start)]
    if stale:
        ActivityException.objects.filter(pk__in=stale).delete()


def _cover_moved_occurrences(activity: Activity) -> None:
    """For range queries a recurrence ends no earlier than its last moved occurrence: one moved past
    the rule's last stays on calendars."""
    if not activity.rrule or activity.recurrence_ends_at is None:
        return
    latest = (ActivityException.objects.filter(activity=activity, cancelled=False,
                                               ends_at__gt=activity.recurrence_ends_at)
              .aggregate(latest=Max("ends_at"))["latest"])
    if latest is not None:
        Activity.objects.filter(pk=activity.pk).update(recurrence_ends_at=latest)
        activity.recurrence_ends_at = latest
        _sync_assignments(activity)


@transaction.atomic
def activity_delete(*, actor: Any, activity: Activity, version: int | None = None) -> Activity:
    activity = record_delete(activity, actor=actor, version=version)
    _sync_assignments(activity)
    return activity


@transaction.atomic
def activity_restore(*, actor: Any, activity: Activity) -> Activity:
    activity = record_restore(activity, actor=actor)
    _sync_assignments(activity)
    return activity


def _occurrence_exception(activity: Activity, original_start: dt.datetime) -> ActivityException:
    if not activity.rrule:
        raise ValidationError({"occurrence": [_("This activity does not repeat; change the activity itself.")]})
    if not recurrence.occurs_at(activity, original_start):
        raise ValidationError({"occurrence": [_("The activity has no occurrence at %(start)s.")
                                              % {"start": original_start.isoformat()}]})
    found = ActivityException.objects.filter(activity=activity, original_start=original_start).first()
    return found or ActivityException(activity=activity, original_start=original_start)


def _bump(actor: Any, activity: Activity, version: int | None, change: str) -> Activity:
    """An occurrence change is a change of the activity: its version, its history."""
    return record_update(activity, actor=actor, data={}, version=version, related_changes={"occurrences": [
        "", change]})


@transaction.atomic
def occurrence_move(
    *, actor: Any, activity: Activity, original_start: dt.datetime, starts_at: dt.datetime,
    ends_at: dt.datetime | None, version: int | None,
) -> Activity:
    """Move one occurrence of a recurring activity (to another time, or another day)."""
    require(actor, Activity.record_type, Action.UPDATE, owner_id=activity.owner_id)
    exception = _occurrence_exception(activity, original_start)
    ends_at = ends_at or starts_at + (activity.ends_at - activity.starts_at)
    if ends_at < starts_at:
        raise ValidationError({"ends_at": [_("The end is before the start.")]})
    exception.cancelled = False
    exception.starts_at, exception.ends_at = starts_at, ends_at
    activity = _bump(actor, activity, version, _("occurrence of %(original)s moved to %(start)s") % {
        "original": original_start.isoformat(), "start": starts_at.isoformat()})
    exception.save()
    _cover_moved_occurrences(activity)
    return activity


@transaction.atomic
def occurrence_skip(*, actor: Any, activity: Activity, original_start: dt.datetime, version: int | None) -> Activity:
    """Skip (cancel) one occurrence of a recurring activity: an EXDATE."""
    require(actor, Activity.record_type, Action.UPDATE, owner_id=activity.owner_id)
    exception = _occurrence_exception(activity, original_start)
    exception.cancelled = True
    exception.starts_at = exception.ends_at = None
    activity = _bump(actor, activity, version, _("occurrence of %(original)s skipped") % {
        "original": original_start.isoformat()})
    exception.save()
    return activity


def move_activity(*, actor: Any, activity: Activity, starts_at: dt.datetime, version: int | None) -> Activity:
    """Drag and drop on a calendar: the same duration, a new start (a task: a new due date)."""
    if activity.is_task:
        return activity_update(actor=actor, activity=activity, version=version,
                               data={"due_on": starts_at.astimezone(dt.UTC).date()})
    duration = activity.ends_at - activity.starts_at
    return activity_update(actor=actor, activity=activity, version=version,
                           data={"starts_at": starts_at, "ends_at": starts_at + duration})


# --- Notes -----------------------------------------------------------------------------------------


def _check_author(actor: Any, note: Note) -> None:
    if note.owner_id != actor.pk and not access_for(actor).is_admin:
        raise PermissionDenied(_("Only the author may change or delete a note."))


@transaction.atomic
def note_create(*, actor: Any, about: Any, body: str) -> Note:
    """Write a note on a record the actor can see (the caller found it through visible_to)."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write something first.")]})
    return record_create(Note, actor=actor, data={"body": body, "about_type": about.record_type,
                                                  "about_id": about.pk})


@transaction.atomic
def note_update(*, actor: Any, note: Note, body: str, version: int | None) -> Note:
    _check_author(actor, note)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("A note cannot be empty; delete it instead.")]})
    return record_update(note, actor=actor, data={"body": body}, version=version, rights_checked=True)


@transaction.atomic
def note_delete(*, actor: Any, note: Note, version: int | None = None) -> Note:
    """The author deletes their own note, whatever their role's delete right (a marketer may too)."""
    _check_author(actor, note)
    if version is not None and version != note.version:
        raise StaleVersion(current_version=note.version)
    return record_delete(note, actor=actor, version=version, rights_checked=True)


# --- Calendar feeds --------------------------------------------------------------------------------

_FEED_SALT = "rapport.calendar-feed"


def _feed_secret(user: User, generation: int) -> str:
    return salted_hmac(_FEED_SALT, f"{user.public_id}:{generation}", algorithm="sha256").hexdigest()[:32]


def feed_token(*, user: User) -> str | None:
    """The secret part of the user's feed address (made the first time it is asked for), or None if revoked."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return f"{user.public_id}{_feed_secret(user, feed.generation)}" if feed.is_active else None


@transaction.atomic
def feed_regenerate(*, user: User) -> str:
    """A new feed address; the old one stops working at once."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    if not created:
        feed.generation += 1
    feed.is_active = True
    feed.save()
    return f"{user.public_id}{_feed_secret(user, feed.generation)}"


@transaction.atomic
def feed_revoke(*, user: User) -> None:
    """Turn the feed off: its address answers 404 until a new one is made."""
    CalendarFeed.objects.filter(user=user).update(is_active=False, changed_at=timezone.now())


def feed_user(*, token: str) -> User | None:
    """The active user whose live feed address carries this token, or None."""
    public_id, secret = token[:16], token[16:]
    if len(secret) != 32:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(user__public_id=public_id, is_active=True,
                                                              user__is_active=True).first()
    if feed is None:
        return None
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a 500 for a crafted address).
    if not hmac.compare_digest(secret.encode(), _feed_secret(feed.user, feed.generation).encode()):
        return None
    return feed.user
