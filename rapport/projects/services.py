"""Writes of projects, their members, milestones and tasks: one function per use case.

Linked records (account, opportunity, milestone) are found by the caller through the actor's
visible_to; these functions check how they fit together (an opportunity of the project's account, a
milestone of the same project) and refuse a misfit naming the field, changing nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils.translation import gettext as _

from rapport.activities import services as activities
from rapport.activities.models import Activity, ActivityStatus, ActivityType
from rapport.activities.selectors import default_task_kind
from rapport.core.access import access_for
from rapport.core.history import display_value, history_record
from rapport.core.models import Action, HistoryEntry, User
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.projects.models import Milestone, Project, ProjectMember, ProjectTask
from rapport.sales.currencies import ISO_4217, default_currency

MAX_MEMBERS = 100
MAX_MILESTONES = 100


# --- Checks -----------------------------------------------------------------------------------------


def _check_currency(data: dict[str, Any]) -> None:
    if "currency" in data:
        code = (data["currency"] or "").strip().upper()
        if code not in ISO_4217:
            raise ValidationError({"currency": [
                _("%(code)s is not a currency code; use an ISO 4217 code such as EUR or USD.")
                % {"code": data["currency"] or _("(empty)")}]})
        data["currency"] = code


def _check_budget(data: dict[str, Any]) -> None:
    if "budget" not in data:
        return
    try:
        budget = Decimal(str(data["budget"]))
    except (InvalidOperation, ValueError):
        raise ValidationError({"budget": [_("Enter an amount, such as 12000.00.")]}) from None
    if not budget.is_finite():
        raise ValidationError({"budget": [_("Enter an amount, such as 12000.00.")]})
    if budget < 0:
        raise ValidationError({"budget": [_("The budget cannot be negative.")]})
    data["budget"] = budget


def _check_dates(data: dict[str, Any], current: Project | None) -> None:
    starts_on = data.get("starts_on", getattr(current, "starts_on", None))
    due_on = data.get("due_on", getattr(current, "due_on", None))
    if starts_on is None:
        raise ValidationError({"starts_on": [_("A project needs a start date.")]})
    if due_on is None:
        raise ValidationError({"due_on": [_("A project needs a due date.")]})
    if due_on < starts_on:
        raise ValidationError({"due_on": [_("The due date (%(due)s) is before the start date (%(start)s).")
                                          % {"due": due_on.isoformat(), "start": starts_on.isoformat()}]})


def _check_links(data: dict[str, Any], current: Project | None) -> None:
    account = data.get("account", getattr(current, "account", None) if current else None)
    if account is None:
        raise ValidationError({"account": [_("A project needs an account.")]})
    opportunity = data["opportunity"] if "opportunity" in data else getattr(current, "opportunity", None)
    if opportunity is not None and opportunity.account_id != account.pk:
        # Only what the writer chose is named: the project's account, or a deal it already had, may be
        # records they cannot see.
        if "opportunity" in data:
            message = _("%(deal)s is a deal of another account than the project's.") % {"deal": opportunity}
        else:
            message = _("The deal this project came from is of another account: choose another deal or none.")
        raise ValidationError({"opportunity": [message]})


def _check_user(user: User | None, field: str) -> None:
    if user is None:
        raise ValidationError({field: [_("Choose a user.")]})
    if not user.is_active:
        raise ValidationError({field: [_("%(name)s is not an active user.") % {"name": user.display_name}]})


def _check_members(members: Sequence[User], *, already: set[int] | frozenset[int] = frozenset()) -> None:
    """New members must be active users; one already on the project who has left may stay on it."""
    if len(members) > MAX_MEMBERS:
        raise ValidationError({"members": [_("At most %d members.") % MAX_MEMBERS]})
    for member in members:
        if not member.is_active and member.pk not in already:
            raise ValidationError({"members": [_("%(name)s is not an active user.") % {"name": member.display_name}]})


def _clean(data: dict[str, Any], current: Project | None) -> dict[str, Any]:
    data = dict(data)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
        if not data["name"]:
            raise ValidationError({"name": [_("A project needs a name.")]})
    _check_currency(data)
    _check_budget(data)
    _check_dates(data, current)
    _check_links(data, current)
    manager = data.get("manager")
    # A manager who has left may stay on the project (as a member may) until someone names a new one:
    # saving other changes must not be refused because of them.
    kept = current is not None and manager is not None and manager.pk == current.manager_id
    if ("manager" in data or current is None) and not kept:
        _check_user(manager, "manager")
    return data


def may_manage(user: Any, project: Project) -> bool:
    """Whether the user may change a project's plan (milestones, tasks): the update right on its owner's
    records, or being its manager or a member while holding the update right on projects at all."""
    access = access_for(user)
    if access.covers_owner(Project.record_type, Action.UPDATE, project.owner_id):
        return True
    if not access.can(Project.record_type, Action.UPDATE) or access.user_id is None:
        return False
    return project.manager_id == access.user_id or project.memberships.filter(user_id=access.user_id).exists()


def _lock_plan(project: Project) -> None:
    """Serialise changes to one project's plan (its row locked until the transaction ends), so that two
    people adding, moving or deleting milestones at once cannot pass the limit, lose a position or file a
    task under a milestone deleted a moment before."""
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()


def _milestone_still_there(milestone: Milestone | None) -> None:
    if milestone is not None and not Milestone.objects.filter(pk=milestone.pk).exists():
        raise ValidationError({"milestone": [_("That milestone was just deleted; choose another.")]})


def _require_manage(actor: Any, project: Project) -> None:
    if not may_manage(actor, project):
        raise PermissionDenied(_("You may not change this project's plan."))


def _names(users: Sequence[User]) -> list[str]:
    return sorted(user.display_name for user in users)


def _set_members(project: Project, members: Sequence[User]) -> None:
    wanted = {user.pk for user in members}
    ProjectMember.objects.filter(project=project).exclude(user_id__in=wanted).delete()
    have = set(ProjectMember.objects.filter(project=project).values_list("user_id", flat=True))
    ProjectMember.objects.bulk_create(ProjectMember(project=project, user_id=pk) for pk in wanted - have)


# --- Projects ---------------------------------------------------------------------------------------


@transaction.atomic
def project_create(*, actor: Any, data: dict[str, Any], members: Sequence[User] = ()) -> Project:
    """Create a project. `data` holds the account (and opportunity) the caller found through visible_to."""
    data = dict(data)
    data.setdefault("manager", data.get("owner") or actor)
    data.setdefault("currency", default_currency())
    data = _clean(data, None)
    _check_members(members)
    project = record_create(Project, actor=actor, data=data)
    _set_members(project, members)
    if members:
        history_record(record=project, actor=actor, kind=HistoryEntry.Kind.UPDATED,
                       changes={"members": [[], _names(members)]})
    return project


@transaction.atomic
def project_update(*, actor: Any, project: Project, data: dict[str, Any], version: int | None,
                   members: Sequence[User] | None = None) -> Project:
    """Change a project if `version` is current (409 otherwise); `members` replaces its members."""
    data = _clean(data, project)
    related: dict[str, list[Any]] = {}
    if members is not None:
        before = list(User.objects.filter(pk__in=project.memberships.values("user_id")))
        _check_members(members, already={u.pk for u in before})
        if {u.pk for u in before} != {u.pk for u in members}:
            related["members"] = [_names(before), _names(members)]
    project = record_update(project, actor=actor, data=data, version=version, related_changes=related)
    if members is not None:
        _set_members(project, members)
    return project


@transaction.atomic
def project_members_add(*, actor: Any, project: Project, users: Sequence[User], version: int | None) -> Project:
    current = list(User.objects.filter(pk__in=project.memberships.values("user_id")))
    have = {u.pk for u in current}
    return project_update(actor=actor, project=project, data={}, version=version,
                          members=current + [u for u in users if u.pk not in have])


@transaction.atomic
def project_members_remove(*, actor: Any, project: Project, users: Sequence[User], version: int | None) -> Project:
    gone = {u.pk for u in users}
    current = list(User.objects.filter(pk__in=project.memberships.values("user_id")))
    return project_update(actor=actor, project=project, data={}, version=version,
                          members=[u for u in current if u.pk not in gone])


@transaction.atomic
def project_delete(*, actor: Any, project: Project, version: int | None = None) -> Project:
    """Soft-delete: the project, its milestones and tasks leave every list until it is restored."""
    return record_delete(project, actor=actor, version=version)


@transaction.atomic
def project_restore(*, actor: Any, project: Project) -> Project:
    return record_restore(project, actor=actor)


def _plan_changed(actor: Any, project: Project, what: str, old: Any, new: Any) -> None:
    """A milestone or task change is kept in the project's history; the project's own version stays, so
    that someone editing its details is not refused because a colleague ticked off a task."""
    history_record(record=project, actor=actor, kind=HistoryEntry.Kind.UPDATED,
                   changes={what: [display_value(old), display_value(new)]})


# --- Milestones -------------------------------------------------------------------------------------


def _milestone_data(data: dict[str, Any], project: Project) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            raise ValidationError({"name": [_("A milestone needs a name.")]})
        if len(name) > 200:
            raise ValidationError({"name": [_("At most 200 characters.")]})
        cleaned["name"] = name
    if "due_on" in data:
        due_on = data["due_on"]
        if due_on is not None and not isinstance(due_on, dt.date):
            raise ValidationError({"due_on": [_("Enter a date.")]})
        if due_on is not None and not (project.starts_on <= due_on <= project.due_on):
            raise ValidationError({"due_on": [_("Choose a date within the project, from %(start)s to %(due)s.")
                                              % {"start": project.starts_on.isoformat(),
                                                 "due": project.due_on.isoformat()}]})
        cleaned["due_on"] = due_on
    return cleaned


@transaction.atomic
def milestone_create(*, actor: Any, project: Project, data: dict[str, Any]) -> Milestone:
    """Add a milestone at the end of the project's list."""
    _require_manage(actor, project)
    if "name" not in data:
        raise ValidationError({"name": [_("A milestone needs a name.")]})
    cleaned = _milestone_data(data, project)
    _lock_plan(project)
    if project.milestones.count() >= MAX_MILESTONES:
        raise ValidationError({"name": [_("A project has at most %d milestones.") % MAX_MILESTONES]})
    last = project.milestones.aggregate(last=Max("position"))["last"]
    milestone = Milestone.objects.create(project=project, position=(last or 0) + 1, **cleaned)
    _plan_changed(actor, project, "milestones", None, f"+ {milestone.name}")
    return milestone


@transaction.atomic
def milestone_update(*, actor: Any, milestone: Milestone, data: dict[str, Any],
                     position: int | None = None) -> Milestone:
    """Rename a milestone, change its due date and, given `position` (1 first), move it there; the whole
    change is one transaction, the plan locked, so the order is read and written without a race."""
    project = milestone.project
    _require_manage(actor, project)
    cleaned = _milestone_data(data, project)
    _lock_plan(project)
    current = Milestone.objects.filter(pk=milestone.pk).select_related("project").first()
    if current is None:  # deleted by someone else since it was read
        raise Http404
    milestone = current
    changed = {name: value for name, value in cleaned.items() if getattr(milestone, name) != value}
    if changed:
        before = f"{milestone.name} ({milestone.due_on.isoformat() if milestone.due_on else '—'})"
        for name, value in changed.items():
            setattr(milestone, name, value)
        milestone.save(update_fields=list(changed))
        _plan_changed(actor, project, "milestones", before,
                      f"{milestone.name} ({milestone.due_on.isoformat() if milestone.due_on else '—'})")
    if position is not None:
        order = [m.public_id for m in project.milestones.all() if m.pk != milestone.pk]
        order.insert(max(1, min(position, len(order) + 1)) - 1, milestone.public_id)
        milestone_reorder(actor=actor, project=project, order=order)
        milestone.refresh_from_db(fields=["position"])
    return milestone


@transaction.atomic
def milestone_reorder(*, actor: Any, project: Project, order: Sequence[str]) -> list[Milestone]:
    """Put the project's milestones in the order of their public ids; every milestone must be named once."""
    _require_manage(actor, project)
    _lock_plan(project)
    milestones = {m.public_id: m for m in project.milestones.select_for_update()}
    if sorted(order) != sorted(milestones) or len(set(order)) != len(order):
        raise ValidationError({"order": [_("Name each milestone of this project exactly once.")]})
    changed = []
    for position, public_id in enumerate(order, start=1):
        milestone = milestones[public_id]
        if milestone.position != position:
            milestone.position = position
            changed.append(milestone)
    if changed:
        Milestone.objects.bulk_update(changed, ["position"])
        _plan_changed(actor, project, "milestone order", None, ", ".join(milestones[p].name for p in order))
    return [milestones[p] for p in order]


@transaction.atomic
def milestone_move(*, actor: Any, milestone: Milestone, step: int) -> list[Milestone]:
    """Move a milestone one place up (step -1) or down (+1)."""
    _lock_plan(milestone.project)
    if not Milestone.objects.filter(pk=milestone.pk).exists():
        raise Http404
    order = list(milestone.project.milestones.values_list("public_id", flat=True))
    index = order.index(milestone.public_id)
    target = min(max(index + step, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return milestone_reorder(actor=actor, project=milestone.project, order=order)


@transaction.atomic
def milestone_delete(*, actor: Any, milestone: Milestone) -> None:
    """Delete a milestone; its tasks stay in the project, no longer grouped."""
    project = milestone.project
    _require_manage(actor, project)
    _lock_plan(project)
    if not Milestone.objects.filter(pk=milestone.pk).exists():
        return  # deleted a moment ago by someone else: nothing more to do, nor to record
    name = milestone.name
    milestone.delete()
    _plan_changed(actor, project, "milestones", f"- {name}", None)


# --- Tasks ------------------------------------------------------------------------------------------


def _check_milestone(milestone: Milestone | None, project: Project) -> None:
    if milestone is not None and milestone.project_id != project.pk:
        raise ValidationError({"milestone": [_("That is not a milestone of this project.")]})


@transaction.atomic
def task_add(*, actor: Any, project: Project, subject: str, due_on: dt.date | None = None,
             milestone: Milestone | None = None, assignee: User | None = None, description: str = "",
             priority: str | None = None) -> Activity:
    """A new task of the project: an activity regarding it, assigned to `assignee` (default: the project's
    manager), due on `due_on` (default: the milestone's due date, else the project's)."""
    _require_manage(actor, project)
    _check_milestone(milestone, project)
    _lock_plan(project)
    _milestone_still_there(milestone)
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": [_("A task needs a subject.")]})
    assignee = assignee or project.manager
    _check_user(assignee, "assignee")
    due_on = due_on or (milestone.due_on if milestone is not None else None) or project.due_on
    data: dict[str, Any] = {"activity_type": ActivityType.TASK, "kind": default_task_kind(), "subject": subject,
                            "description": description or "", "due_on": due_on,
                            # The task is shared as its project is, so that who sees one sees the other.
                            "visibility": project.visibility}
    if priority:
        data["priority"] = priority
    try:
        activity = activities.activity_create(actor=actor, data=data, assignees=[assignee], regarding=[project])
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "assignees" in exc.error_dict:
            raise ValidationError({"assignee": exc.error_dict["assignees"]}) from None
        raise
    ProjectTask.objects.create(project=project, activity=activity, milestone=milestone)
    _plan_changed(actor, project, "tasks", None, f"+ {subject}")
    return activity


def project_task(*, project: Project, activity: Activity) -> ProjectTask:
    task = ProjectTask.objects.filter(project=project, activity=activity).first()
    if task is None:
        raise ValidationError({"task": [_("%(task)s is not a task of this project.") % {"task": activity}]})
    return task


@transaction.atomic
def task_move(*, actor: Any, project: Project, activity: Activity, milestone: Milestone | None) -> ProjectTask:
    """Move a task to another milestone of its project (None: out of every milestone)."""
    _require_manage(actor, project)
    task = project_task(project=project, activity=activity)
    _check_milestone(milestone, project)
    _lock_plan(project)
    _milestone_still_there(milestone)
    if task.milestone_id != (milestone.pk if milestone else None):
        before = task.milestone
        task.milestone = milestone
        task.save(update_fields=["milestone"])
        _plan_changed(actor, project, "tasks", f"{activity.subject}: {before or '—'}",
                      f"{activity.subject}: {milestone or '—'}")
    return task


@transaction.atomic
def task_status(*, actor: Any, project: Project, activity: Activity, status: str, version: int | None) -> Activity:
    """Complete, reopen or cancel a task of the project, through the activities app's rules (the task's
    owner or assignees, or whoever may change it)."""
    project_task(project=project, activity=activity)
    if status not in ActivityStatus.values:
        raise ValidationError({"status": [_("Unknown status; use one of: %s.") % ", ".join(ActivityStatus.values)]})
    return activities.activity_update(actor=actor, activity=activity, data={"status": status}, version=version)
