"""Reads of activities, calendars, task lists and notes, always through visible_to(user).

The one deliberate exception is free/busy: a colleague's calendar shows the times
of activities the viewer may not see as "busy", with nothing else about them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from rapport.activities.models import (
    OPEN_STATUSES,
    SHORT_SPAN,
    Activity,
    ActivityAssignee,
    ActivityException,
    ActivityKind,
    ActivityLink,
    ActivityStatus,
    ActivityType,
    Note,
)
from rapport.activities.recurrence import Occurrence, expand
from rapport.core.access import access_for, access_record, record_visible, require
from rapport.core.history import history_for
from rapport.core.models import Action, User
from rapport.core.registry import linkables

MAX_RANGE = dt.timedelta(days=400)
MAX_OCCURRENCES = 5000
RECORD_PANEL_LIMIT = 50


# --- Records activities and notes are about ---------------------------------------------------------


def linked_model(record_type: str) -> Any:
    linkable = linkables().get(record_type)
    if linkable is None:
        raise ValidationError({"regarding": [_("Unknown record type %(type)s; use one of: %(types)s.")
                                             % {"type": record_type[:30], "types": ", ".join(sorted(linkables()))}]})
    return apps.get_model(linkable.model_label)


def record_ref(*, user: Any, ref: str, field: str = "regarding") -> Any:
    """The record a "type:id" reference names (account:abc…), if the user may see it; else a
    ValidationError naming `field`."""
    record_type, sep, public_id = (ref or "").partition(":")
    if not sep or not public_id:
        raise ValidationError({field: [_("Name a record as type:id, such as account:%(example)s.")
                                       % {"example": "k3j…"}]})
    found = linked_model(record_type).objects.visible_to(user).filter(public_id=public_id).first()
    if found is None:
        raise ValidationError({field: [_("No such %(type)s.") % {"type": record_type}]})
    return found


def panel_record(*, user: Any, ref: str, types: Collection[str]) -> Any:
    """The record a panel of another record's page is about: 404 for a bad or hidden reference, or
    a record of a type the panel does not serve."""
    try:
        record = record_ref(user=user, ref=ref)
    except ValidationError:
        raise Http404 from None
    if record.record_type not in types:
        raise Http404
    return record


def record_refs(*, user: Any, refs: list[str], field: str = "regarding") -> list[Any]:
    return [record_ref(user=user, ref=ref, field=field) for ref in refs]


def records_linked(*, user: Any, links: list[tuple[str, int]]) -> list[Any]:
    """The records among (type, id) pairs that the user may see, one query per type."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for record_type, record_id in links:
        by_type[record_type].append(record_id)
    found: list[Any] = []
    for record_type, ids in by_type.items():
        if record_type in linkables():
            found.extend(linked_model(record_type).objects.visible_to(user).filter(pk__in=ids))
    return found


# --- Activities -------------------------------------------------------------------------------------


def kinds() -> QuerySet[ActivityKind]:
    return ActivityKind.objects.filter(is_active=True)


def default_task_kind() -> ActivityKind:
    """The kind of a task that another app creates (a support copy, a follow-up): the to-do."""
    return kinds().filter(key="todo").first() or ActivityKind.objects.order_by("position")[0]


def activity_base(*, user: Any) -> QuerySet[Activity]:
    return Activity.objects.visible_to(user).select_related("kind", "owner")


def activity_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Activity:
    """One activity: 404 if the user may not see it, 403 if they may not do `action` to it."""
    qs = Activity.objects.select_related("kind", "owner", "created_by").prefetch_related("exceptions")
    return access_record(user, Activity, public_id, action, queryset=qs, deleted=deleted)


def activity_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    """An activity with what its page shows: who, what it regards, its notes and its history."""
    activity = activity_get(user=user, public_id=public_id)
    links = activity_links(user=user, activities=[activity])[activity.pk]
    return {
        "activity": activity,
        "assignees": activity_assignees(activities=[activity])[activity.pk],
        "attendees": links.attendees,
        "regarding": links.regarding,
        "notes": notes_about(user=user, record=activity),
        "history": history_for(activity, user=user),
    }


def activity_list(*, user: Any, params: Any,
                  within: tuple[dt.datetime, dt.datetime] | None = None) -> QuerySet[Activity]:
    """Activities the user may see, filtered by owner, assigned_to, status, type, kind, regarding.
    `within` (a range the caller filters the activities to anyway) narrows assigned_to to the
    assignments in that range: a calendar's few hundred rows, not all of someone's."""
    qs = activity_base(user=user)
    owner = params.get("owner")
    if owner:
        qs = qs.filter(owner_id=_user_id(user, owner, "owner"))
    assigned = params.get("assigned_to")
    if assigned:
        assignments = ActivityAssignee.objects.filter(user_id=_user_id(user, assigned, "assigned_to"))
        if within is not None:
            assignments = _in_range(assignments, *within, prefix="assignment")
        elif params.get("status") == "open" and params.get("type") == ActivityType.TASK:
            # Someone's open tasks (a task list): their few open-task assignments, by the index that
            # My Current Tasks reads, rather than every assignment of theirs (tens of thousands).
            # open_task__in, not open_task=True: see _in_range.
            assignments = assignments.filter(open_task__in=[True])
        qs = qs.filter(pk__in=assignments.values("activity_id"))
    status = params.get("status")
    if status:
        wanted = [s for s in status.split(",") if s]
        if status == "open":
            wanted = list(OPEN_STATUSES)
        unknown = set(wanted) - set(ActivityStatus.values)
        if unknown:
            raise ValidationError({"status": [_("Unknown status %(s)s.") % {"s": sorted(unknown)[0][:20]}]})
        qs = qs.filter(status__in=wanted)
    activity_type = params.get("type")
    if activity_type:
        if activity_type not in ActivityType.values:
            raise ValidationError({"type": [_("Use task or event.")]})
        qs = qs.filter(activity_type=activity_type)
    kind = params.get("kind")
    if kind:
        qs = qs.filter(kind__key=kind)
    regarding = params.get("regarding")
    if regarding:
        record = record_ref(user=user, ref=regarding)
        qs = qs.filter(_regarding_q(record))
    return qs


def _user_id(user: Any, value: str, field: str) -> int:
    if value == "me":
        return int(user.pk)
    found = User.objects.filter(public_id=value).values_list("pk", flat=True).first()
    if found is None:
        raise ValidationError({field: [_("No such user.")]})
    return int(found)


def _regarding_q(record: Any) -> Q:
    """Activities about a record: linked to it, or (a contact) with it among the attendees."""
    condition = Q(pk__in=ActivityLink.objects.filter(record_type=record.record_type, record_id=record.pk)
                  .values("activity_id"))
    if record.record_type == "contact":
        through = Activity.attendees.through
        condition |= Q(pk__in=through.objects.filter(contact_id=record.pk).values("activity_id"))
    return condition


def activities_about(*, user: Any, record: Any, limit: int = RECORD_PANEL_LIMIT) -> list[Activity]:
    """The activities a record's page shows: open ones on top, then newest first."""
    open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    # The page's ids chosen first, in a subquery: a big account's thousands of activities are sorted as
    # narrow (status, start, id) entries, not as whole rows joined to their owners and kinds.
    page = (Activity.objects.visible_to(user).filter(_regarding_q(record)).annotate(closed=open_first)
            .order_by("closed", "-starts_at", "-id").values("id")[:limit])
    return list(Activity.objects.select_related("kind", "owner").filter(pk__in=page).annotate(closed=open_first)
                .order_by("closed", "-starts_at", "-id"))


def check_range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    if start is None or end is None:
        raise ValidationError({"start" if start is None else "end": [_("Give both start and end.")]})
    if end <= start:
        raise ValidationError({"end": [_("The end is before the start.")]})
    if end - start > MAX_RANGE:
        raise ValidationError({"end": [_("Ask for at most %(days)d days at a time.") % {"days": MAX_RANGE.days}]})
    return start, end


def _in_range(qs: QuerySet[Any], start: dt.datetime, end: dt.datetime, prefix: str = "") -> QuerySet[Any]:
    """Rows whose activity may overlap [start, end): short single ones by one index range, the rest
    (recurring, or long) by their own."""
    if prefix:  # ActivityAssignee rows
        # `is_long__in=[...]`, not `is_long=...`: Django writes the latter as a bare `WHERE NOT "is_long"`,
        # which SQLite cannot match to the index (user, is_long, starts_at), so it walked every row of the
        # user; a comparison (IN) lets both databases use the index range.
        # The index range reaches back SHORT_SPAN for entries that began before the range; their end
        # (on the row) leaves out the ones over by then, a quarter of a month's rows, before any is loaded.
        short = Q(is_long__in=[False], starts_at__gte=start - SHORT_SPAN, starts_at__lt=end, last_ends_at__gte=start)
        long = Q(is_long__in=[True], starts_at__lt=end) & (Q(last_ends_at__isnull=True) | Q(last_ends_at__gte=start))
        return qs.filter(short | long)
    single = Q(rrule="", starts_at__lt=end, ends_at__gte=start)
    recurring = ~Q(rrule="") & Q(starts_at__lt=end) & (Q(recurrence_ends_at__isnull=True)
                                                      | Q(recurrence_ends_at__gte=start))
    return qs.filter(single | recurring)


def occurrences_of(activities: list[Activity], start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Every occurrence of these activities in [start, end), recurrences expanded, by start."""
    recurring = [a.pk for a in activities if a.rrule]
    exceptions: dict[int, list[ActivityException]] = defaultdict(list)
    if recurring:
        for exc in ActivityException.objects.filter(activity_id__in=recurring):
            exceptions[exc.activity_id].append(exc)
    found: list[Occurrence] = []
    for activity in activities:
        found.extend(expand(activity, start, end, exceptions.get(activity.pk, ())))
        if len(found) > MAX_OCCURRENCES:
            raise ValidationError({"end": [_("More than %(n)d occurrences; ask for a shorter range.")
                                           % {"n": MAX_OCCURRENCES}]})
    found.sort(key=lambda o: (o.starts_at, o.activity.pk))
    return found


def activity_occurrences(*, user: Any, params: Any, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """activity_list's activities as occurrences in a range (recurrences expanded)."""
    start, end = check_range(start, end)
    qs = _in_range(activity_list(user=user, params=params, within=(start, end)), start, end)
    return occurrences_of(list(qs[: MAX_OCCURRENCES + 1]), start, end)


# Fields of an activity that calendars do not load (see calendar()).
CALENDAR_DEFERRED = ("description", "ical_source", "created_at", "updated_at", "completed_at")


@dataclass(frozen=True)
class CalendarEntry:
    """An occurrence on someone's calendar; `busy` when the viewer may see only that the time is taken."""

    occurrence: Occurrence
    person_ids: frozenset[int]
    busy: bool

    @property
    def activity(self) -> Activity:
        return self.occurrence.activity


def calendar(*, user: Any, people: list[User], start: dt.datetime, end: dt.datetime) -> list[CalendarEntry]:
    """The calendars of some people (the user, chosen colleagues, a team) in a range.

    An activity is on a person's calendar when it is assigned to them. One the viewer may not
    see is shown as busy: its times only.
    """
    start, end = check_range(start, end)
    ids = [person.pk for person in people]
    rows = _in_range(ActivityAssignee.objects.filter(user_id__in=ids), start, end, prefix="assignment")
    # Free/busy: the times of every activity on these calendars, its content only where visible.
    # A month holds about a thousand: building them is most of the calendar's time, so the long texts
    # and the bookkeeping times no calendar shows stay in the database (a page that reads them anyway
    # costs a query per entry, which tests/test_query_counts_activities.py catches).
    on_calendars = (Activity.objects.filter(deleted_at__isnull=True).defer(*CALENDAR_DEFERRED)
                    .select_related("kind"))
    persons: dict[int, set[int]] = defaultdict(set)
    own: set[int] | None  # the user's own assignments among the activities, when known without a query
    if len(ids) == 1:
        # One person's calendar (the usual case): the activities in one query, their rows a subquery.
        activities = list(on_calendars.filter(pk__in=rows.values("activity_id")[: MAX_OCCURRENCES + 1]))
        for activity in activities:
            persons[activity.pk].add(ids[0])
        own = set(persons) if ids[0] == user.pk else None
    else:
        found = rows.values_list("activity_id", "user_id")[: MAX_OCCURRENCES + 1]
        for activity_id, person_id in found:
            persons[activity_id].add(person_id)
        if not persons:
            return []
        activities = list(on_calendars.filter(pk__in=persons))
        # With the viewer among the people, their assignments are among the rows just read (all
        # assignments of an activity share its range values); only a cut-off read leaves some out.
        own = ({pk for pk, person_ids in persons.items() if user.pk in person_ids}
               if user.pk in ids and len(found) <= MAX_OCCURRENCES else None)
    hidden = _hidden_from(user, activities, assigned_to_user=own)
    activities = [_busy(activity) if activity.pk in hidden else activity for activity in activities]
    return [CalendarEntry(occurrence=occurrence, person_ids=frozenset(persons[occurrence.activity.pk]),
                          busy=occurrence.activity.pk in hidden)
            for occurrence in occurrences_of(activities, start, end)]


def _hidden_from(user: Any, activities: list[Activity], *, assigned_to_user: set[int] | None = None) -> set[int]:
    """The ids of the (alive, loaded) activities that Activity.objects.visible_to(user) would leave out.

    The same rule, evaluated on the rows already loaded (core.access.record_visible, kept in step with
    visibility_q by tests/core/test_visibility_predicate.py), and the assignee rule (an assignee sees
    what is assigned to them) from `assigned_to_user` when the caller knows the user's assignments among
    these activities, else from one query, made only when the record rule hides some. Asking visible_to
    for ~1,000 ids cost more than the rest of the calendar: its assignee rule reads every assignment of
    the user (25,000 rows on the medium data set) to test 1,000 ids.
    """
    hidden = {activity.pk for activity in activities if not record_visible(user, activity)}
    if hidden and access_for(user).can(Activity.record_type, Action.READ):
        if assigned_to_user is None:
            assigned_to_user = set(ActivityAssignee.objects.filter(user_id=user.pk, activity_id__in=hidden)
                                   .values_list("activity_id", flat=True))
        hidden -= assigned_to_user
    return hidden


def _busy(activity: Activity) -> Activity:
    """What free/busy shows of an activity the viewer may not see: its times and kind, a subject
    "Busy", nothing of its content (an unsaved stand-in, so nothing more can be read through it)."""
    return Activity(
        pk=activity.pk, public_id=activity.public_id, uid=activity.uid, owner_id=activity.owner_id,
        visibility=activity.visibility, version=activity.version, kind=activity.kind,
        activity_type=activity.activity_type, status=activity.status, subject=_("Busy"),
        starts_at=activity.starts_at, ends_at=activity.ends_at, all_day=activity.all_day,
        time_zone=activity.time_zone, rrule=activity.rrule, recurrence_ends_at=activity.recurrence_ends_at,
    )


def current_tasks(*, user: Any, limit: int = 50, today: dt.date | None = None) -> list[Activity]:
    """My Current Tasks: open and pending tasks assigned to the user, overdue (earliest due) first."""
    # open_task__in, not open_task=True: see _in_range (SQLite uses the index only for a comparison).
    rows = (ActivityAssignee.objects.filter(user_id=user.pk, open_task__in=[True]).order_by("starts_at", "activity_id")
            .values_list("activity_id", flat=True)[:limit])
    ids = list(rows)
    # The list shows subjects, due dates, status and kind: the owner and the fields calendars leave out
    # stay unloaded (a fifth of its time; the query-count tests catch a page that reads them anyway).
    found = {a.pk: a for a in Activity.objects.visible_to(user).filter(pk__in=ids).defer(*CALENDAR_DEFERRED)
             .select_related("kind")}
    tasks = [found[pk] for pk in ids if pk in found]
    _set_current_due(tasks, today=today or dt.datetime.now(dt.UTC).date())
    return tasks


def _set_current_due(tasks: list[Activity], *, today: dt.date) -> None:
    """Each task's `current_due`: its due date or, for a repeating task, its next one from today on
    (a weekly task is not overdue for ever because its series began long ago)."""
    for task in tasks:
        task.current_due = task.due_on  # type: ignore[attr-defined]
    recurring = [task for task in tasks if task.rrule]
    if not recurring:
        return
    start = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
    next_due: dict[int, dt.date] = {}
    for occurrence in occurrences_of(recurring, start, start + dt.timedelta(days=400)):  # by start
        next_due.setdefault(occurrence.activity.pk, occurrence.utc_day)
    for task in recurring:
        task.current_due = next_due.get(task.pk, task.due_on)  # type: ignore[attr-defined]


# --- Notes ------------------------------------------------------------------------------------------


def notes_about(*, user: Any, record: Any, limit: int = RECORD_PANEL_LIMIT) -> list[Note]:
    """The notes on a record the user can see; none if they may not see the record (the caller
    normally found it through visible_to: the check then costs no query)."""
    if not record_visible(user, record) and not records_linked(user=user, links=[(record.record_type, record.pk)]):
        return []
    return list(Note.objects.visible_to(user).filter(about_type=record.record_type, about_id=record.pk)
                .select_related("owner").order_by("-created_at", "-id")[:limit])


def note_get(*, user: Any, public_id: str, action: str = Action.READ) -> Note:
    """One note, if the user may see both the note and the record it is about."""
    note = access_record(user, Note, public_id, Action.READ, queryset=Note.objects.select_related("owner"))
    if not records_linked(user=user, links=[(note.about_type, note.about_id)]):
        raise Http404
    if action != Action.READ:
        require(user, Note.record_type, action, owner_id=note.owner_id)
    return note


def note_about_record(*, user: Any, note: Note) -> Any:
    found = records_linked(user=user, links=[(note.about_type, note.about_id)])
    return found[0] if found else None


def note_list(*, user: Any, params: Any) -> QuerySet[Note]:
    """Notes about one record (`about=type:id`), or without `about` every note the user may see
    that is about a record they may see too."""
    qs = Note.objects.visible_to(user).select_related("owner")
    about = params.get("about")
    if about:
        record = record_ref(user=user, ref=about, field="about")
        return qs.filter(about_type=record.record_type, about_id=record.pk)
    seen = Q(pk__in=[])
    for record_type in linkables():
        seen |= Q(about_type=record_type,
                  about_id__in=linked_model(record_type).objects.visible_to(user).values("pk"))
    return qs.filter(seen)


def note_history(*, user: Any, note: Note) -> list[Any]:
    return history_for(note, user=user)


# --- My Home and activity pages --------------------------------------------------------------------

REMINDER_WINDOW = dt.timedelta(days=1)


def due_reminders(*, user: Any, now: dt.datetime,
                  calendar_entries: Sequence[CalendarEntry] | None = None) -> list[CalendarEntry]:
    """The user's coming occurrences whose reminder time has come (in-app reminders on My Home).

    `calendar_entries`: the user's own calendar over a range holding [now, now + REMINDER_WINDOW), when the
    caller has read it already (My Home's week); else it is read here.
    """
    entries = calendar_entries if calendar_entries is not None else calendar(
        user=user, people=[user], start=now, end=now + REMINDER_WINDOW)
    return [entry for entry in entries
            if not entry.busy and entry.activity.reminder_minutes is not None and entry.activity.is_open
            and now <= entry.occurrence.starts_at < now + REMINDER_WINDOW
            and entry.occurrence.starts_at - dt.timedelta(minutes=entry.activity.reminder_minutes) <= now]


def attendee_choices(*, user: Any, regarding: Sequence[Any], current: Sequence[Any] = (),
                     limit: int = 200) -> list[Any]:
    """Contacts offered as attendees: the people of the accounts the activity regards, the contacts
    it regards, and those already attending; only contacts the user may see."""
    accounts = [record.pk for record in regarding if record.record_type == "account"]
    contacts = [record.pk for record in regarding if record.record_type == "contact"]
    condition = Q(pk__in=[*contacts, *(contact.pk for contact in current)])
    if accounts:
        condition |= Q(account_id__in=accounts)
    return list(linked_model("contact").objects.visible_to(user).filter(condition)
                .order_by("name_key", "id")[:limit])


def upcoming_occurrences(*, activity: Activity, after: dt.datetime, count: int = 5) -> list[Occurrence]:
    """The next occurrences of a recurring activity, for its page."""
    return occurrences_of([activity], after, after + MAX_RANGE)[:count]


# --- For the API (rapport/activities/api.py) ---------------------------------------------------------
# Added with the API: what its answers show of each activity, read in a fixed number of queries.

@dataclass(frozen=True)
class ActivityLinks:
    """What a reader may see of an activity's links: the records it regards, and its attendees."""

    regarding: list[Any]
    attendees: list[Any]


def activity_links(*, user: Any, activities: Sequence[Activity]) -> dict[int, ActivityLinks]:
    """Per activity, the linked records and attendees the user may see: the links and attendees as
    plain rows in two queries, then one query per record type, for all the activities together.

    Plain rows rather than prefetch_related: a prefetch builds a queryset for every activity and
    relation, which was most of the time of a thousand-occurrence API answer.
    """
    ids = [activity.pk for activity in activities]
    if not ids:
        return {}
    regards: dict[int, list[tuple[str, int]]] = defaultdict(list)
    links = (ActivityLink.objects.filter(activity_id__in=ids).order_by("record_type", "record_id")
             .values_list("activity_id", "record_type", "record_id"))
    for activity_id, record_type, record_id in links:  # by type, then id, as the records have always been shown
        regards[activity_id].append((record_type, record_id))
    attending: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for activity_id, contact_id in (Activity.attendees.through.objects.filter(activity_id__in=ids)
                                    .order_by("contact_id").values_list("activity_id", "contact_id")):
        attending[activity_id].append(("contact", contact_id))
    pairs = {pair for found in (regards, attending) for pairs in found.values() for pair in pairs}
    visible = {(record.record_type, record.pk): record for record in records_linked(user=user, links=sorted(pairs))}
    return {activity_id: ActivityLinks(
        regarding=[visible[key] for key in regards.get(activity_id, ()) if key in visible],
        attendees=[visible[key] for key in attending.get(activity_id, ()) if key in visible],
    ) for activity_id in ids}


def activity_assignees(*, activities: Sequence[Activity]) -> dict[int, list[User]]:
    """Per activity, the users it is assigned to, in order of assignment: two queries for all the
    activities together (the assignments as plain rows, then their few users)."""
    ids = [activity.pk for activity in activities]
    if not ids:
        return {}
    rows = list(ActivityAssignee.objects.filter(activity_id__in=ids).order_by("id")
                .values_list("activity_id", "user_id"))
    users = User.objects.in_bulk({user_id for _activity_id, user_id in rows})
    assigned: dict[int, list[User]] = {activity_id: [] for activity_id in ids}
    for activity_id, user_id in rows:
        assigned[activity_id].append(users[user_id])
    return assigned


def activity_written(*, user: Any, activity: Activity) -> Activity:
    """The activity a user has just written, as the answer to that write.

    Read again through visible_to when the writer can still see it; when the write put it out of
    their sight (given to someone else, made private), the written record itself answers, as
    directory's account_written does: a 404 would make a client retry and create it twice.
    """
    try:
        return activity_get(user=user, public_id=activity.public_id)
    except Http404:
        return Activity.objects.select_related("kind", "owner").get(pk=activity.pk)
