"""Pages of activities: My Home, the calendar, activity details and forms, notes on records.

Thin: parse, call a selector or service, render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities import calendar_layout, selectors, services
from rapport.activities.forms import ActivityForm, NoteForm, QuickTaskForm
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, ActivityType, Note
from rapport.activities.recurrence import Occurrence, local_datetime
from rapport.core.access import access_for, can
from rapport.core.errors import PossibleDuplicate, StaleVersion
from rapport.core.models import Action, Team, User
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show, safe_next
from rapport.core.registry import detail_url
from rapport.core.selectors import team_list, user_choices, user_list
from rapport.core.text import int_or_none
from rapport.directory import services as directory_services
from rapport.directory.selectors import account_choices

PERSON_LIMIT = 12  # colleagues side by side on one calendar


def _today(user: Any) -> dt.date:
    return timezone.localdate()






# --- Calendar -----------------------------------------------------------------------------------


def _people(request: HttpRequest) -> tuple[list[User], Team | None]:
    """Whose calendars to show: chosen colleagues (`people`), a team's members (`team`), or oneself."""
    user = request.user
    team = None
    team_id = request.GET.get("team", "").strip()
    ids = [value for value in request.GET.getlist("people") if value.strip()]
    colleagues = user_list(user=user, active_only=True)
    if team_id:
        team = team_list(user=user).filter(public_id=team_id).first()
        if team is None:
            raise ValidationError({"team": [_("No such team.")]})
        people = list(colleagues.filter(team=team).order_by("first_name", "username")[:PERSON_LIMIT])
    elif ids:
        people = list(colleagues.filter(public_id__in=ids[:PERSON_LIMIT]).order_by("first_name", "username"))
        if len(people) != len(set(ids[:PERSON_LIMIT])):
            raise ValidationError({"people": [_("No such colleague.")]})
    else:
        people = [user]  # type: ignore[list-item]
    return people, team


def _calendar_context(request: HttpRequest, *, default_view: str = "month") -> dict[str, Any]:
    user = request.user
    today = _today(user)
    period = calendar_layout.period_for(request.GET.get("view") or default_view, request.GET.get("date"),
                                        zone_name=timezone.get_current_timezone_name(), today=today)
    people, team = _people(request)
    margin = calendar_layout.QUERY_MARGIN
    read = selectors.calendar(user=user, people=people, start=period.start - margin, end=period.end + margin)
    entries = calendar_layout.in_period(period, read)
    days = calendar_layout.lay_out(period, entries, today=today)
    keep = [(name, value) for name in ("people", "team") for value in request.GET.getlist(name) if value]
    base = urlencode([*keep, ("view", period.view)])
    colours = {person.pk: index % 6 for index, person in enumerate(people)}
    return {
        "period": period,
        "days": days,
        "weeks": calendar_layout.weeks(days) if period.view == "month" else [],
        "entries": entries,
        # What was read, margins included, and over which range: My Home takes its reminders from it.
        "calendar_read": (read, period.start - margin, period.end + margin),
        "people": people,
        "person_names": {person.pk: person.display_name for person in people},
        "colours": colours,
        "several": len(people) > 1,
        "team": team,
        "today": today,
        "hours": [f"{hour:02d}:00" for hour in range(24)],
        "base_query": base,
        "keep_query": urlencode(keep),
        "previous_url": f"?{base}&date={period.shift(-1).isoformat()}",
        "next_url": f"?{base}&date={period.shift(1).isoformat()}",
        "today_url": f"?{base}&date={today.isoformat()}",
        "view_urls": {view: "?" + urlencode([*keep, ("view", view), ("date", period.day.isoformat())])
                      for view in calendar_layout.VIEWS},
        "can_create": can(user, Activity.record_type, Action.CREATE),
        "colleagues": user_choices(user=user),
        "teams": list(team_list(user=user).order_by("name").values_list("public_id", "name")),
        "chosen_people": {person.public_id for person in people} if request.GET.getlist("people") else set(),
    }


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """Day, week or month of one's own calendar, chosen colleagues' or a team's."""
    if not can(request.user, Activity.record_type, Action.READ):
        raise PermissionDenied
    try:
        context = _calendar_context(request)
    except ValidationError as exc:
        return render(request, "activities/calendar.html", {"error": error_text(exc)}, status=400)
    template = "activities/_calendar.html" if request.htmx else "activities/calendar.html"
    return render(request, template, context)


# --- My Home ----------------------------------------------------------------------------------


HOME_PERIOD_LIMIT = 50


def _home_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    context = _calendar_context(request, default_view="week")
    now = timezone.now()
    read, read_from, read_until = context["calendar_read"]
    # The calendar shown is usually the user's own current week, which holds the reminders' window.
    own_read = read if [person.pk for person in context["people"]] == [user.pk] and read_from <= now \
        and now + selectors.REMINDER_WINDOW <= read_until else None
    listed = [entry for entry in context["entries"] if not entry.busy]
    context.update({
        "tasks": selectors.current_tasks(user=user, today=_today(user)),
        "reminders": selectors.due_reminders(user=user, now=now, calendar_entries=own_read),
        # A busy week lists its first HOME_PERIOD_LIMIT activities; the calendar has them all.
        "period_entries": listed[:HOME_PERIOD_LIMIT],
        "period_more": max(0, len(listed) - HOME_PERIOD_LIMIT),
        "quick_form": QuickTaskForm(initial={"day": _today(user)}),
        "note_form": NoteForm(),
        "can_create_contact": can(user, "contact", Action.CREATE),
        "can_create_account": can(user, "account", Action.CREATE),
        "can_create_note": can(user, Note.record_type, Action.CREATE),
        "quick_tab": request.GET.get("quick", "task"),
    })
    return context


@login_required
def my_home(request: HttpRequest) -> HttpResponse:
    """The landing page: the user's calendar, a shortcut box, the period's activities, tasks, pending email."""
    try:
        context = _home_context(request)
    except ValidationError as exc:
        return render(request, "activities/my_home.html", {"error": error_text(exc)}, status=400)
    if request.htmx and request.htmx.target == "home-calendar":
        return render(request, "activities/_home_calendar.html", context)
    if request.htmx and request.htmx.target == "current-tasks":
        return render(request, "activities/_current_tasks.html", context)
    return render(request, "activities/my_home.html", context)


@login_required
@require_POST
def home_quick(request: HttpRequest) -> HttpResponse:
    """The shortcut box: create a task, call, event, contact, account or note without leaving My Home."""
    what = request.POST.get("quick", "task")
    handlers = {"task": _quick_activity, "contact": _quick_contact, "account": _quick_account, "note": _quick_note}
    handler = handlers.get(what)
    if handler is None:
        return HttpResponse(_("Unknown shortcut."), status=400)
    try:
        text, link = handler(request)
    except PermissionDenied as exc:
        return _quick_answer(request, quick_error=str(exc) or _("You may not create this."), status=403, what=what)
    except PossibleDuplicate as exc:
        return _quick_answer(request, quick_error=str(exc), status=409, what=what, duplicates=exc.duplicates)
    except ValidationError as exc:
        return _quick_answer(request, quick_error=error_text(exc), status=400, what=what)
    return _quick_answer(request, message=text, link=link, what=what)


def _quick_answer(request: HttpRequest, *, what: str, status: int = 200, **extra: Any) -> HttpResponse:
    """With htmx, the shortcut box again (with its message); without, My Home (after a success, by redirect).

    After a mistake or a duplicate warning the box keeps what was typed, so that it can be corrected or confirmed.
    """
    if not request.htmx and status == 200:
        messages.success(request, extra["message"])
        return redirect(f"{reverse('my_home')}?quick={what}")
    failed = status != 200
    quick_form = QuickTaskForm(request.POST) if failed and what == "task" else \
        QuickTaskForm(initial={"day": _today(request.user)})
    context = {"quick_tab": what, "quick_form": quick_form, "posted": request.POST.dict() if failed else {},
               "note_form": NoteForm(), **extra,
               "can_create": can(request.user, Activity.record_type, Action.CREATE),
               "can_create_contact": can(request.user, "contact", Action.CREATE),
               "can_create_account": can(request.user, "account", Action.CREATE),
               "can_create_note": can(request.user, Note.record_type, Action.CREATE)}
    if not request.htmx:
        return render(request, "activities/my_home.html", {**_home_context(request), **context}, status=status)
    response = render(request, "activities/_quick_box.html", context, status=status)
    if status == 200:
        response["HX-Trigger"] = "activitiesChanged"
    return response


def _quick_activity(request: HttpRequest) -> tuple[str, str]:
    form = QuickTaskForm(request.POST)
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    what, day, time = form.cleaned_data["what"], form.cleaned_data["day"], form.cleaned_data["time"]
    kind = ActivityKind.objects.get(key={"task": "todo", "call": "call", "event": "meeting"}[what])
    data: dict[str, Any] = {"kind": kind, "subject": form.cleaned_data["subject"]}
    if what == "event" or (what == "call" and time is not None):
        zone = request.user.time_zone or "UTC"
        if time is None:
            start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
            data.update(activity_type=ActivityType.EVENT, starts_at=start, ends_at=start, all_day=True)
        else:
            start = local_datetime(day, time, zone)
            length = dt.timedelta(minutes=15 if what == "call" else 60)
            data.update(activity_type=ActivityType.EVENT, starts_at=start, ends_at=start + length)
    else:
        data.update(activity_type=ActivityType.TASK, due_on=day)
    activity = services.activity_create(actor=request.user, data=data)
    return _("%(name)s was created.") % {"name": activity}, reverse("activity_detail", args=[activity.public_id])


def _quick_contact(request: HttpRequest) -> tuple[str, str]:
    first, last = request.POST.get("first_name", "").strip(), request.POST.get("last_name", "").strip()
    email = request.POST.get("email", "").strip()
    if not last:
        raise ValidationError({"last_name": [_("Give the last name.")]})
    contact = directory_services.contact_create(
        actor=request.user, data={"first_name": first[:100], "last_name": last[:100], "email": email[:254]},
        confirm_duplicate=request.POST.get("confirm_duplicate") == "on")
    return _("%(name)s was created.") % {"name": contact}, reverse("contact_detail", args=[contact.public_id])


def _quick_account(request: HttpRequest) -> tuple[str, str]:
    name = request.POST.get("name", "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the account's name.")]})
    account = directory_services.account_create(
        actor=request.user, data={"name": name[:200], "website": request.POST.get("website", "").strip()[:300]},
        confirm_duplicate=request.POST.get("confirm_duplicate") == "on")
    return _("%(name)s was created.") % {"name": account}, reverse("account_detail", args=[account.public_id])


def _quick_note(request: HttpRequest) -> tuple[str, str]:
    account_id = request.POST.get("account", "").strip()
    account = account_choices(user=request.user).filter(public_id=account_id).first() if account_id else None
    if account is None:
        raise ValidationError({"account": [_("Choose the account the note is about.")]})
    services.note_create(actor=request.user, about=account, body=request.POST.get("body", "")[:20000])
    return _("The note was added to %(name)s.") % {"name": account.name}, \
        reverse("account_detail", args=[account.public_id])


# --- Activities -------------------------------------------------------------------------------------


def _occurrence_start(value: str | None) -> dt.datetime | None:
    """An occurrence named in a URL (?occurrence=20270301T080000Z), or None."""
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ValidationError({"occurrence": [_("Not an occurrence of this activity.")]}) from None


@login_required
def activity_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    context = selectors.activity_detail(user=request.user, public_id=public_id)
    activity = context["activity"]
    try:
        occurrence_start = _occurrence_start(request.GET.get("occurrence"))
    except ValidationError:
        occurrence_start = None
    now = timezone.now()
    context.update({
        "record": activity,
        "occurrence_start": occurrence_start,
        "upcoming": selectors.upcoming_occurrences(activity=activity, after=now) if activity.rrule else [],
        "can_update": can(request.user, Activity.record_type, Action.UPDATE, activity),
        "can_delete": can(request.user, Activity.record_type, Action.DELETE, activity),
        "can_complete": can(request.user, Activity.record_type, Action.UPDATE, activity) or (
            request.user in context["assignees"] and can(request.user, Activity.record_type, Action.UPDATE)),
        "statuses": ActivityStatus.choices,
        "note_form": NoteForm(),
        "can_create_note": can(request.user, Note.record_type, Action.CREATE),
    })
    return render(request, "activities/activity_detail.html", context)


def _initial_from_query(request: HttpRequest) -> dict[str, Any]:
    """A new activity prefilled from the calendar (a clicked day or hour) or a record's page."""
    initial: dict[str, Any] = {"activity_type": request.GET.get("type") or ActivityType.TASK}
    if initial["activity_type"] not in ActivityType.values:
        initial["activity_type"] = ActivityType.TASK
    try:
        day = dt.date.fromisoformat(request.GET["date"]) if request.GET.get("date") else _today(request.user)
    except ValueError:
        day = _today(request.user)
    initial.update(due_on=day, start_date=day, end_date=day)
    time = request.GET.get("time")
    if time:
        try:
            start = dt.time.fromisoformat(time)
            end = dt.datetime.combine(day, start) + dt.timedelta(hours=1)  # 23:00 ends at midnight, the next day
            initial.update(start_time=start, end_date=end.date(), end_time=end.time())
        except (ValueError, OverflowError):
            pass
    elif initial["activity_type"] == ActivityType.EVENT and request.GET.get("date"):
        initial["all_day"] = request.GET.get("all_day") == "1"
        initial.update(start_time=dt.time(9), end_time=dt.time(10))
    if request.GET.get("kind"):
        initial["kind"] = request.GET["kind"]
    return initial


def _regarding(request: HttpRequest) -> list[Any]:
    ref = request.POST.get("regarding") or request.GET.get("regarding")
    return selectors.record_refs(user=request.user, refs=[ref]) if ref else []


@login_required
def activity_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a task or event. A stale version re-shows the form with the reason."""
    activity = None
    if public_id is not None:
        activity = selectors.activity_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, Activity.record_type, Action.CREATE):
        raise PermissionDenied
    try:
        regarding = _regarding(request)
    except ValidationError:
        raise Http404 from None
    linked = regarding or (selectors.records_linked(user=request.user, links=[
        (link.record_type, link.record_id) for link in activity.links.all()]) if activity is not None else [])
    current = list(activity.attendees.all()) if activity is not None else []
    form = ActivityForm(request.POST or None, user=request.user, instance=activity,
                        initial=_initial_from_query(request) if activity is None else None,
                        attendee_choices=selectors.attendee_choices(user=request.user, regarding=linked,
                                                                    current=current))
    conflict = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if activity is None:
                    activity = services.activity_create(
                        actor=request.user, data=form.activity_data(),
                        assignees=list(form.cleaned_data["assignees"]), regarding=regarding,
                        attendees=form.chosen_attendees() or [])
                    messages.success(request, _("%(name)s was created.") % {"name": activity})
                else:
                    activity = services.activity_update(
                        actor=request.user, activity=activity, data=form.activity_data(),
                        version=form.cleaned_data.get("version"), assignees=list(form.cleaned_data["assignees"]),
                        attendees=form.chosen_attendees())
                    messages.success(request, _("Your changes were saved."))
                return redirect(safe_next(request, reverse("activity_detail", args=[activity.public_id])))
            except StaleVersion as exc:
                conflict = exc
            except PermissionDenied as exc:
                form.add_error("owner", str(exc))
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    target = {"starts_at": "start_time", "ends_at": "end_time", "rrule": "advanced_rule"}.get(
                        name, name)
                    form.add_error(target if target in form.fields else None, errors)
        status = 409 if conflict else 400
    return render(request, "activities/activity_form.html", {
        "form": form, "record": activity, "conflict": conflict, "regarding": regarding,
        "next": safe_next(request, ""),
    }, status=status)


@login_required
@require_POST
def activity_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=activity, detail="activity_detail", restore="activity_restore", then="calendar",
        delete=lambda version: services.activity_delete(actor=request.user, activity=activity, version=version))


@login_required
@require_POST
def activity_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=activity, detail="activity_detail", then="calendar",
                            restore=lambda: services.activity_restore(actor=request.user, activity=activity))


@login_required
@require_POST
def activity_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """Complete, reopen or cancel: the owner, or whoever it is assigned to."""
    activity = selectors.activity_get(user=request.user, public_id=public_id)
    status = request.POST.get("status", "")
    if status not in ActivityStatus.values:
        return HttpResponse(_("Unknown status."), status=400)
    try:
        services.activity_update(actor=request.user, activity=activity, data={"status": status},
                                 version=int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s is now %(status)s.") % {
            "name": activity, "status": ActivityStatus(status).label.lower()})
    today = _today(request.user)
    if request.htmx:
        response = render(request, "activities/_current_tasks.html",
                          {"tasks": selectors.current_tasks(user=request.user, today=today), "today": today,
                           "can_create": can(request.user, Activity.record_type, Action.CREATE)})
        response["HX-Trigger"] = "activitiesChanged"
        return response
    return redirect(safe_next(request, reverse("activity_detail", args=[public_id])))


@login_required
@require_POST
def activity_move(request: HttpRequest, public_id: str) -> HttpResponse:
    """Drag and drop on the calendar: to another day (same time) or, in day and week views, another hour.

    A recurring activity's occurrence (`occurrence`) moves alone; the rest of the series stays.
    """
    activity = selectors.activity_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    try:
        occurrence = _occurrence_start(request.POST.get("occurrence"))
        starts_at = _moved_start(request, activity, occurrence)
        version = int_or_none(request.POST.get("version"))
        if occurrence is not None:
            services.occurrence_move(actor=request.user, activity=activity, original_start=occurrence,
                                     starts_at=starts_at, ends_at=None, version=version)
        else:
            services.move_activity(actor=request.user, activity=activity, starts_at=starts_at, version=version)
    except StaleVersion as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain")
    except ValidationError as exc:
        return HttpResponse(error_text(exc), status=400, content_type="text/plain")
    return HttpResponse(status=204) if request.htmx or request.headers.get("X-Requested-With") else \
        redirect(safe_next(request, reverse("activity_detail", args=[public_id])))


def _moved_start(request: HttpRequest, activity: Activity, occurrence: dt.datetime | None) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        raise ValidationError({"date": [_("Drop it on a day.")]}) from None
    current = occurrence or activity.starts_at
    if activity.all_day:
        return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    time_text = request.POST.get("time")
    try:
        time = dt.time.fromisoformat(time_text) if time_text else current.astimezone(
            timezone.get_current_timezone()).time()
    except ValueError:
        raise ValidationError({"time": [_("Not a time.")]}) from None
    return local_datetime(day, time, timezone.get_current_timezone_name())


@login_required
@require_POST
def activity_occurrence(request: HttpRequest, public_id: str) -> HttpResponse:
    """Skip one occurrence of a recurring activity."""
    activity = selectors.activity_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    try:
        occurrence = _occurrence_start(request.POST.get("occurrence"))
        if occurrence is None:
            raise ValidationError({"occurrence": [_("Choose an occurrence.")]})
        services.occurrence_skip(actor=request.user, activity=activity, original_start=occurrence,
                                 version=int_or_none(request.POST.get("version")))
        messages.success(request, _("That occurrence was skipped; the others stay."))
    except (StaleVersion, ValidationError) as exc:
        messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("activity_detail", public_id=public_id)




# --- Panels on record pages: activities and notes ---------------------------------------------------


def _about(request: HttpRequest, ref: str) -> Any:
    """The record a panel is about ("account:<id>"), if the user may see it; 404 otherwise."""
    try:
        return selectors.record_ref(user=request.user, ref=ref)
    except ValidationError:
        raise Http404 from None


@login_required
def record_activities(request: HttpRequest, ref: str) -> HttpResponse:
    """The Activities panel of an account or contact page, loaded after the page."""
    record = _about(request, ref)
    return render(request, "activities/_record_activities.html", {
        "record": record,
        "activities": selectors.activities_about(user=request.user, record=record),
        "can_create": can(request.user, Activity.record_type, Action.CREATE),
    })


@login_required
def record_notes(request: HttpRequest, ref: str) -> HttpResponse:
    """The Notes panel of a record page (GET), and adding a note to it (POST)."""
    record = _about(request, ref)
    form = NoteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.note_create(actor=request.user, about=record, body=form.cleaned_data["body"])
            except ValidationError as exc:
                form.add_error("body", error_text(exc))
                status = 400
            else:
                if not request.htmx:
                    messages.success(request, _("Your note was added."))
                    return redirect(_record_url(record))
                form = NoteForm()
        else:
            status = 400
    return render(request, "activities/_record_notes.html", {
        "record": record, "note_form": form,
        "notes": selectors.notes_about(user=request.user, record=record),
        "can_create_note": can(request.user, Note.record_type, Action.CREATE),
    }, status=status)


def _record_url(record: Any) -> str:
    return detail_url(record) or reverse("my_home")


@login_required
def note_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    note = selectors.note_get(user=request.user, public_id=public_id)
    if note.owner_id != request.user.pk and not access_for(request.user).is_admin:
        raise PermissionDenied(_("Only the author may change a note."))
    about = selectors.note_about_record(user=request.user, note=note)
    form = NoteForm(request.POST or None, initial={"body": note.body, "version": note.version})
    conflict = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.note_update(actor=request.user, note=note, body=form.cleaned_data["body"],
                                     version=form.cleaned_data.get("version"))
                messages.success(request, _("Your changes were saved."))
                return redirect(_record_url(about))
            except StaleVersion as exc:
                conflict = exc
            except ValidationError as exc:
                form.add_error("body", error_text(exc))
        status = 409 if conflict else 400
    return render(request, "activities/note_form.html", {
        "form": form, "note": note, "about": about, "conflict": conflict,
        "history": selectors.note_history(user=request.user, note=note)}, status=status)


@login_required
@require_POST
def note_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    note = selectors.note_get(user=request.user, public_id=public_id)
    about = selectors.note_about_record(user=request.user, note=note)
    try:
        services.note_delete(actor=request.user, note=note, version=int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The note was deleted."))
    return redirect(_record_url(about))


def occurrence_url(occurrence: Occurrence) -> str:
    url = reverse("activity_detail", args=[occurrence.activity.public_id])
    if occurrence.original_start is not None:
        url += "?occurrence=" + occurrence.original_start.strftime("%Y%m%dT%H%M%SZ")
    return url
