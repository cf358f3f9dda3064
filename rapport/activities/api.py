"""API routes for activities (tasks, events, occurrences of recurring ones) and notes.

Handlers parse, call a selector or service, answer. Times go out in UTC; they come in
as ISO 8601 with an offset, or as a wall-clock time in the activity's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema, Status
from pydantic import AwareDatetime, BaseModel, Discriminator, Tag, field_validator

from rapport.activities import recurrence, selectors, services
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, ActivityType, Priority
from rapport.activities.recurrence import Occurrence
from rapport.core.apitools import InputSchema, ListParams, api_page, ref_out, refuse_unknown_params, utc_time
from rapport.core.models import Action, User, Visibility, validate_time_zone
from rapport.core.selectors import user_get, user_list

router = Router(tags=["activities and notes"])

ACTIVITY_ORDERINGS = {"starts_at": "starts_at", "updated_at": "updated_at", "created_at": "created_at"}
ACTIVITY_FILTERS = frozenset({"owner", "assigned_to", "status", "type", "kind", "regarding", "start", "end"})
NOTE_ORDERINGS = {"created_at": "created_at"}
DEFAULT_KINDS = {ActivityType.TASK: "todo", ActivityType.EVENT: "meeting"}
MAX_REMINDER = 60 * 24 * 28  # four weeks, in minutes
# Fields that may be sent as null: it clears them.
NULLABLE = frozenset({"rrule", "reminder_minutes"})


# --- What an answer shows ------------------------------------------------------


class _Shown:
    """A note as an answer shows it: its own fields, read through, and the record it is about."""

    def __init__(self, record: Any, **extra: Any) -> None:
        self.record = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        if name == "record":
            raise AttributeError(name)
        return getattr(self.record, name)


def _record_ref(record: Any) -> dict[str, str]:
    return {"type": record.record_type, "id": record.public_id, "name": str(record)}


def _activity_out(activity: Activity, *, visible: selectors.ActivityLinks, assignees: list[User],
                  occurrence: Occurrence | None = None) -> dict[str, Any]:
    """An activity as ActivityOut (OccurrenceOut with its occurrence) shows it, built as a plain dict.

    Why a dict and plain pydantic models: a range answers up to a few thousand occurrences, and ninja's
    Schema reads every field of every item through its getter and resolvers (half of a month's answer,
    about 0.25 ms an item); pydantic validates these dicts in its compiled core.
    """
    shown: dict[str, Any] = {
        "id": str(activity.public_id), "uid": activity.uid, "version": activity.version,
        "type": str(activity.activity_type), "kind": str(activity.kind.key), "subject": activity.subject,
        "description": activity.description, "location": activity.location, "status": activity.status,
        "priority": activity.priority, "due_on": activity.due_on, "starts_at": utc_time(activity.starts_at),
        "ends_at": utc_time(activity.ends_at), "all_day": activity.all_day, "time_zone": activity.time_zone,
        "rrule": activity.rrule, "reminder_minutes": activity.reminder_minutes,
        "completed_at": utc_time(activity.completed_at), "owner": ref_out(activity.owner),
        "visibility": activity.visibility, "assignees": [ref_out(user) for user in assignees],
        "attendees": [ref_out(contact) for contact in visible.attendees],
        "regarding": [_record_ref(record) for record in visible.regarding],
        "created_at": utc_time(activity.created_at), "updated_at": utc_time(activity.updated_at),
    }
    if occurrence is not None:
        shown.update(occurrence_start=utc_time(occurrence.starts_at), occurrence_end=utc_time(occurrence.ends_at),
                     original_start=utc_time(occurrence.original_start), moved=occurrence.moved)
    return shown


def _read_around(request: HttpRequest, activities: list[Activity]) -> tuple[dict[int, selectors.ActivityLinks],
                                                                    dict[int, list[User]]]:
    """What an answer shows beside the activities: the linked records the reader may see, the assignees."""
    return (selectors.activity_links(user=request.user, activities=activities),
            selectors.activity_assignees(activities=activities))


def _shown(request: HttpRequest, activities: list[Activity]) -> list[dict[str, Any]]:
    links, assignees = _read_around(request, activities)
    return [_activity_out(activity, visible=links[activity.pk], assignees=assignees[activity.pk])
            for activity in activities]


def _shown_one(request: HttpRequest, activity: Activity) -> dict[str, Any]:
    return _shown(request, [activity])[0]


def _shown_occurrences(request: HttpRequest, occurrences: list[Occurrence]) -> list[dict[str, Any]]:
    links, assignees = _read_around(request, list({o.activity.pk: o.activity for o in occurrences}.values()))
    return [_activity_out(o.activity, visible=links[o.activity.pk], assignees=assignees[o.activity.pk],
                          occurrence=o)
            for o in occurrences]


# --- Schemas ------------------------------------------------------------------
# The answers about activities are pydantic models validated from the dicts above (see _activity_out).


class Ref(BaseModel):
    id: str
    name: str


class RecordRef(BaseModel):
    type: str = Field(..., description="account, contact, ...")
    id: str
    name: str


class ActivityOut(BaseModel):
    id: str
    uid: str = Field(..., description="The iCalendar UID")
    version: int
    type: str = Field(..., description="task or event")
    kind: str = Field(..., description="The kind's key: call, meeting, email, todo, ...")
    subject: str
    description: str
    location: str
    status: str
    priority: str
    due_on: dt.date | None = Field(..., description="A task's due date (null for an event)")
    starts_at: dt.datetime = Field(..., description="UTC; a task or all-day event: the UTC midnight of its day")
    ends_at: dt.datetime = Field(..., description="UTC; an all-day event ends at the midnight after its last day")
    all_day: bool
    time_zone: str = Field(..., description="The zone its recurrence is expanded in and local times are read in")
    rrule: str = Field(..., description="An iCalendar RRULE, or '' for a single activity")
    reminder_minutes: int | None
    completed_at: dt.datetime | None
    owner: Ref
    visibility: str
    assignees: list[Ref]
    attendees: list[Ref] = Field(..., description="The contacts attending that you may see")
    regarding: list[RecordRef] = Field(..., description="The records it is about that you may see")
    created_at: dt.datetime
    updated_at: dt.datetime


class OccurrenceOut(ActivityOut):
    occurrence_start: dt.datetime = Field(..., description="When this occurrence starts (UTC)")
    occurrence_end: dt.datetime
    original_start: dt.datetime | None = Field(
        ..., description="The start the rule gives this occurrence (its RECURRENCE-ID); null if it does not repeat")
    moved: bool


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next: str | None


class OccurrencePage(BaseModel):
    items: list[OccurrenceOut]
    next: None = Field(None, description="Always null: a range answers all its occurrences at once")


def _page_kind(value: Any) -> str:
    """Which page a list answers: occurrences (a range) or activities. Told at once, so that a page
    is validated against one schema, not tried against both."""
    if isinstance(value, OccurrencePage | ActivityPage):
        return "range" if isinstance(value, OccurrencePage) else "list"
    items = value.get("items") or []
    return "range" if items and "occurrence_start" in items[0] else "list"


ListAnswer = Annotated[Annotated[OccurrencePage, Tag("range")] | Annotated[ActivityPage, Tag("list")],
                       Discriminator(_page_kind)]


def _plus_sign(value: Any) -> Any:
    """A '+' of an offset left unencoded in a query string arrives as a space: take it back."""
    return re.sub(r" (\d\d:?\d\d)$", r"+\1", value) if isinstance(value, str) else value


class ActivityListParams(ListParams):
    owner: str | None = Field(None, description="A user's id, or 'me'")
    assigned_to: str | None = Field(None, description="A user's id, or 'me'")
    status: str | None = Field(None, description="'open' (open and pending), or a comma-separated list of "
                                                 "open, pending, completed, cancelled")
    type: str | None = Field(None, description="task or event")
    kind: str | None = Field(None, description="A kind's key: call, meeting, email, todo, ...")
    regarding: str | None = Field(None, description="A record as type:id, such as account:kldoiwrthy54cj5u")
    start: AwareDatetime | None = Field(None, description="With end: the occurrences in [start, end), ISO 8601 "
                                                          "with an offset; at most 400 days")
    end: AwareDatetime | None = None

    _offsets = field_validator("start", "end", mode="before")(_plus_sign)


class ActivityIn(InputSchema):
    type: ActivityType | None = None
    kind: str | None = Field(None, max_length=30, description="A kind's key; default: todo for a task, "
                                                              "meeting for an event")
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    location: str | None = Field(None, max_length=200)
    status: ActivityStatus | None = None
    priority: Priority | None = None
    due_on: dt.date | None = Field(None, description="A task's due date")
    starts_at: dt.datetime | None = Field(None, description="An event's start: ISO 8601 with an offset, or without "
                                                            "one as a wall-clock time in time_zone")
    ends_at: dt.datetime | None = Field(None, description="An event's end, as starts_at; default: an hour later")
    all_day: bool | None = Field(None, description="An event over whole days: starts_at and ends_at are read as "
                                                   "dates")
    time_zone: str | None = Field(None, max_length=64, description="Default: the owner's time zone")
    rrule: str | None = Field(None, max_length=500, description="An iCalendar RRULE, such as FREQ=WEEKLY;BYDAY=MO; "
                                                                "'' or null: it does not repeat")
    reminder_minutes: int | None = Field(None, ge=0, le=MAX_REMINDER)
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None
    assignees: list[str] | None = Field(None, max_length=services.MAX_ASSIGNEES,
                                        description="User ids; default: the owner")
    attendees: list[str] | None = Field(None, max_length=services.MAX_ATTENDEES, description="Contact ids")
    regarding: list[str] | None = Field(None, max_length=services.MAX_LINKS,
                                        description="Records as type:id, such as account:kldoiwrthy54cj5u")

    @field_validator("assignees", "attendees", "regarding", mode="after")
    @classmethod
    def _no_nul_in_ids(cls, value: list[str] | None) -> list[str] | None:
        if value and any("\x00" in item for item in value):
            raise ValueError("A NUL character is not allowed.")
        return value


class ActivityCreate(ActivityIn):
    type: ActivityType = ActivityType.TASK
    subject: str = Field(..., min_length=1, max_length=200)


class ActivityUpdate(ActivityIn):
    version: int = Field(..., description="The version you read; a stale one answers 409")


class VersionIn(InputSchema):
    version: int | None = Field(None, description="The version you read; a stale one answers 409")


class OccurrenceIn(InputSchema):
    original_start: AwareDatetime = Field(..., description="The occurrence's original_start, as a range gives it")
    version: int = Field(..., description="The version you read; a stale one answers 409")


class OccurrenceMove(OccurrenceIn):
    starts_at: dt.datetime = Field(..., description="Its new start: ISO 8601 with an offset, or a wall-clock time "
                                                    "in the activity's time zone")
    ends_at: dt.datetime | None = Field(None, description="Default: as long as the others")


class NoteOut(Schema):
    id: str
    version: int
    owner: Ref = Field(..., description="The author")
    about: RecordRef
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return str(obj.public_id)

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, str]:
        return ref_out(obj.owner)

    @staticmethod
    def resolve_about(obj: Any) -> dict[str, str]:
        return _record_ref(obj.about)

    @staticmethod
    def resolve_created_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class NotePage(Schema):
    items: list[NoteOut]
    next: str | None


class NoteListParams(ListParams):
    about: str | None = Field(None, description="The record, as type:id (account:kldoiwrthy54cj5u)")


class NoteCreate(InputSchema):
    about: str = Field(..., max_length=100, description="The record the note is about, as type:id")
    body: str = Field(..., min_length=1, max_length=20000)


class NoteUpdate(InputSchema):
    version: int = Field(..., description="The version you read; a stale one answers 409")
    body: str = Field(..., min_length=1, max_length=20000)


# --- Reading a body ------------------------------------------------------------


def _kind(key: str) -> ActivityKind:
    found = selectors.kinds().filter(key=key).first()
    if found is None:
        keys = ", ".join(selectors.kinds().values_list("key", flat=True))
        raise ValidationError({"kind": [_("Unknown kind %(key)s; use one of: %(keys)s.")
                                        % {"key": key[:30], "keys": keys}]})
    return found


def _owner(request: HttpRequest, public_id: str) -> User:
    owner = user_get(user=request.user, public_id=public_id, active_only=True)
    if owner is None:
        raise ValidationError({"owner": [_("No such active user.")]})
    return owner


def _assignees(request: HttpRequest, ids: list[str]) -> list[User]:
    found = {user.public_id: user for user in user_list(user=request.user, active_only=True).filter(public_id__in=ids)}
    missing = [public_id for public_id in ids if public_id not in found]
    if missing:
        raise ValidationError({"assignees": [_("No such active user: %(id)s.") % {"id": missing[0][:40]}]})
    return list(found.values())


def _attendees(request: HttpRequest, ids: list[str]) -> list[Any]:
    contacts = selectors.record_refs(user=request.user, refs=[f"contact:{public_id}" for public_id in ids],
                                     field="attendees")
    return list({contact.pk: contact for contact in contacts}.values())


def _zone(name: str) -> str:
    try:
        validate_time_zone(name)
    except ValidationError as exc:
        raise ValidationError({"time_zone": exc.messages}) from None
    return name


def _moment(value: dt.datetime, *, zone: str, all_day: bool, field: str) -> dt.datetime:
    """A time as sent, in UTC: with an offset as it says; without one, a wall-clock time in `zone`
    (one that does not exist there, inside a daylight-saving gap, is refused). For an all-day item
    the date and time as written count, whatever the offset."""
    if all_day:
        return value.replace(tzinfo=dt.UTC)
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    try:
        return recurrence.local_datetime(value.date(), value.time(), zone)
    except ValidationError as exc:
        raise ValidationError({field: [message for messages in exc.message_dict.values() for message in messages]}) \
            from None


def _check_type_fields(data: dict[str, Any], activity_type: str) -> None:
    """A task has a due date, an event a start and an end: the other kind's fields are refused, not ignored."""
    if activity_type == ActivityType.TASK:
        for name in ("starts_at", "ends_at", "all_day"):
            if name in data:
                raise ValidationError({name: [_("A task has a due date (due_on), not a start and an end.")]})
    elif "due_on" in data:
        raise ValidationError({"due_on": [_("An event has starts_at and ends_at, not a due date.")]})


def _payload(request: HttpRequest, body: InputSchema, *, current: Activity | None) -> tuple[dict, dict]:
    """The service's data and related records (assignees, attendees, regarding) from an activity body."""
    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    for name, value in data.items():
        if value is None and name not in NULLABLE:
            raise ValidationError({name: [_("This field may not be null.")]})
    if "rrule" in data:
        data["rrule"] = data["rrule"] or ""
    if "type" in data:
        data["activity_type"] = data.pop("type")
    activity_type = data.get("activity_type") or (current.activity_type if current else ActivityType.TASK)
    _check_type_fields(data, activity_type)
    if "kind" in data or current is None:
        data["kind"] = _kind(data.get("kind") or DEFAULT_KINDS[ActivityType(activity_type)])
    if "owner" in data:
        data["owner"] = _owner(request, data["owner"])
    if "time_zone" in data:
        _zone(data["time_zone"])
    zone = (data.get("time_zone") or (current.time_zone if current else "")
            or getattr(data.get("owner") or request.user, "time_zone", "") or "UTC")
    all_day = data.get("all_day", current.all_day if current else False)
    for name in ("starts_at", "ends_at"):
        if name in data:
            data[name] = _moment(data[name], zone=zone, all_day=all_day, field=name)
    related: dict[str, Any] = {}
    if "assignees" in data:
        related["assignees"] = _assignees(request, data.pop("assignees"))
    if "attendees" in data:
        related["attendees"] = _attendees(request, data.pop("attendees"))
    if "regarding" in data:
        related["regarding"] = selectors.record_refs(user=request.user, refs=data.pop("regarding"))
    return data, related


# --- Activities ---------------------------------------------------------------


@router.get("/activities", response=ListAnswer, summary="List activities, or occurrences in a range",
            description="Without start and end: a page of activities. Filters: owner and assigned_to (a user id or "
                        "'me'), status ('open' or a comma list), type (task, event), kind, regarding=type:id. "
                        "Orderings: starts_at (default), updated_at, created_at (prefix - to reverse). "
                        "With start and end (ISO 8601 with an offset, at most 400 days apart): every occurrence "
                        "in the range, recurrences expanded, by start, with the same filters; next is null.")
def list_activities(request: HttpRequest, params: Query[ActivityListParams]) -> dict:
    refuse_unknown_params(request, ACTIVITY_FILTERS)
    if params.start is None and params.end is None:
        page = api_page(selectors.activity_list(user=request.user, params=request.GET), params=params,
                        allowed_orderings=ACTIVITY_ORDERINGS, default_ordering="starts_at")
        return {"items": _shown(request, page["items"]), "next": page["next"]}
    paging = [name for name in ListParams.model_fields if request.GET.get(name)]
    if paging:
        raise ValidationError({name: [_("A range answers all its occurrences at once, by start; leave this out.")]
                               for name in paging})
    start, end = selectors.check_range(params.start, params.end)
    occurrences = selectors.activity_occurrences(user=request.user, params=request.GET, start=start, end=end)
    return {"items": _shown_occurrences(request, occurrences), "next": None}


@router.post("/activities", response={201: ActivityOut}, summary="Create a task or an event")
def create_activity(request: HttpRequest, payload: ActivityCreate) -> Status:
    data, related = _payload(request, payload, current=None)
    activity = services.activity_create(actor=request.user, data=data, assignees=related.get("assignees"),
                                        attendees=related.get("attendees", ()),
                                        regarding=related.get("regarding", ()))
    return Status(201, _shown_one(request, selectors.activity_written(user=request.user, activity=activity)))


@router.get("/activities/{activity_id}", response=ActivityOut, summary="Get an activity")
def get_activity(request: HttpRequest, activity_id: str) -> dict[str, Any]:
    return _shown_one(request, selectors.activity_get(user=request.user, public_id=activity_id))


@router.patch("/activities/{activity_id}", response=ActivityOut, summary="Change an activity",
              description="Its assignees may change its status alone, even where they may not change the rest.")
def update_activity(request: HttpRequest, activity_id: str, payload: ActivityUpdate) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, public_id=activity_id)
    data, related = _payload(request, payload, current=activity)
    activity = services.activity_update(actor=request.user, activity=activity, data=data, version=payload.version,
                                        **related)
    return _shown_one(request, selectors.activity_written(user=request.user, activity=activity))


@router.delete("/activities/{activity_id}", response={204: None}, summary="Delete an activity (it can be restored)")
def delete_activity(request: HttpRequest, activity_id: str, version: int | None = None) -> Status:
    activity = selectors.activity_get(user=request.user, public_id=activity_id, action=Action.DELETE)
    services.activity_delete(actor=request.user, activity=activity, version=version)
    return Status(204, None)


@router.post("/activities/{activity_id}/restore", response=ActivityOut, summary="Restore a deleted activity")
def restore_activity(request: HttpRequest, activity_id: str) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, public_id=activity_id, action=Action.DELETE, deleted=True)
    services.activity_restore(actor=request.user, activity=activity)
    return _shown_one(request, selectors.activity_get(user=request.user, public_id=activity_id))


@router.post("/activities/{activity_id}/complete", response=ActivityOut, summary="Mark an activity completed",
             description="Its assignees may do this too. The body may name the version you read.")
def complete_activity(request: HttpRequest, activity_id: str, payload: Body[VersionIn | None] = None) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, public_id=activity_id)
    version = payload.version if payload is not None and payload.version is not None else activity.version
    activity = services.activity_update(actor=request.user, activity=activity, version=version,
                                        data={"status": ActivityStatus.COMPLETED})
    return _shown_one(request, selectors.activity_written(user=request.user, activity=activity))


@router.post("/activities/{activity_id}/skip", response=ActivityOut, summary="Skip one occurrence of a recurring "
                                                                             "activity")
def skip_occurrence(request: HttpRequest, activity_id: str, payload: OccurrenceIn) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, public_id=activity_id, action=Action.UPDATE)
    activity = services.occurrence_skip(actor=request.user, activity=activity, version=payload.version,
                                        original_start=payload.original_start.astimezone(dt.UTC))
    return _shown_one(request, selectors.activity_written(user=request.user, activity=activity))


@router.post("/activities/{activity_id}/move", response=ActivityOut, summary="Move one occurrence of a recurring "
                                                                             "activity")
def move_occurrence(request: HttpRequest, activity_id: str, payload: OccurrenceMove) -> dict[str, Any]:
    activity = selectors.activity_get(user=request.user, public_id=activity_id, action=Action.UPDATE)
    where = {"zone": activity.time_zone, "all_day": activity.all_day}
    ends_at = _moment(payload.ends_at, field="ends_at", **where) if payload.ends_at is not None else None
    activity = services.occurrence_move(actor=request.user, activity=activity, version=payload.version,
                                        original_start=payload.original_start.astimezone(dt.UTC),
                                        starts_at=_moment(payload.starts_at, field="starts_at", **where),
                                        ends_at=ends_at)
    return _shown_one(request, selectors.activity_written(user=request.user, activity=activity))


# --- Notes --------------------------------------------------------------------


@router.get("/notes", response=NotePage, summary="List notes",
            description="about=type:id (account:..., contact:..., activity:...) lists the notes about one record; "
                        "without it, every note you may see about a record you may see. Newest first; ordering: "
                        "created_at (prefix - to reverse).")
def list_notes(request: HttpRequest, params: Query[NoteListParams]) -> dict:
    refuse_unknown_params(request, {"about"})
    qs = selectors.note_list(user=request.user, params=request.GET)
    page = api_page(qs, params=params, allowed_orderings=NOTE_ORDERINGS, default_ordering="-created_at")
    records = {(record.record_type, record.pk): record for record in selectors.records_linked(
        user=request.user, links=[(note.about_type, note.about_id) for note in page["items"]])}
    return {"items": [_Shown(note, about=records.get((note.about_type, note.about_id))) for note in page["items"]],
            "next": page["next"]}


@router.post("/notes", response={201: NoteOut}, summary="Write a note about a record")
def create_note(request: HttpRequest, payload: NoteCreate) -> Status:
    about = selectors.record_ref(user=request.user, ref=payload.about, field="about")
    note = services.note_create(actor=request.user, about=about, body=payload.body)
    return Status(201, _Shown(note, about=about))


@router.get("/notes/{note_id}", response=NoteOut, summary="Get a note")
def get_note(request: HttpRequest, note_id: str) -> _Shown:
    note = selectors.note_get(user=request.user, public_id=note_id)
    return _Shown(note, about=selectors.note_about_record(user=request.user, note=note))


@router.patch("/notes/{note_id}", response=NoteOut, summary="Change a note (its author only)")
def update_note(request: HttpRequest, note_id: str, payload: NoteUpdate) -> _Shown:
    note = selectors.note_get(user=request.user, public_id=note_id, action=Action.UPDATE)
    note = services.note_update(actor=request.user, note=note, body=payload.body, version=payload.version)
    return _Shown(note, about=selectors.note_about_record(user=request.user, note=note))


@router.delete("/notes/{note_id}", response={204: None}, summary="Delete a note (its author only)")
def delete_note(request: HttpRequest, note_id: str, version: int | None = None) -> Status:
    note = selectors.note_get(user=request.user, public_id=note_id, action=Action.DELETE)
    services.note_delete(actor=request.user, note=note, version=version)
    return Status(204, None)
