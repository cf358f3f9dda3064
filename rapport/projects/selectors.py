"""Reads of projects, their milestones, tasks and progress, always through visible_to(user)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rapport.activities.models import Activity, ActivityStatus
from rapport.core.access import access_record, record_visible
from rapport.core.history import history_for
from rapport.core.models import Action, User
from rapport.directory.filters import (
    account_filter_id,
    check_known_filters,
    choice_value,
    one_value,
    owner_q,
    prefix_q,
    query_text,
)
from rapport.projects.models import Milestone, Project, ProjectMember, ProjectStatus, ProjectTask

PROJECT_FILTERS = {"q", "view", "status", "manager", "owner", "account", "member"}
PROJECT_ORDERINGS = {"name": "name_key", "due_on": "due_on", "starts_on": "starts_on", "created_at": "created_at",
                     "updated_at": "updated_at"}
VIEWS = ("mine", "all")


# --- Progress ---------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Completed tasks of all tasks that count (cancelled and deleted ones do not)."""

    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        """Whole percent, never 100 before every task is done nor 0 once one is (199 of 200 is 99 %)."""
        if not self.total or not self.done:
            return 0
        if self.done >= self.total:
            return 100
        return min(99, max(1, round(100 * self.done / self.total)))

    @property
    def label(self) -> str:
        return _("%(done)s of %(total)s tasks done") % {"done": self.done, "total": self.total}


@dataclass
class ProjectProgress:
    overall: Progress = field(default_factory=Progress)
    by_milestone: dict[int | None, Progress] = field(default_factory=dict)

    def of(self, milestone: Milestone | None) -> Progress:
        return self.by_milestone.get(milestone.pk if milestone else None, Progress())


def _counted_tasks() -> QuerySet[ProjectTask]:
    return ProjectTask.objects.filter(activity__deleted_at__isnull=True).exclude(
        activity__status=ActivityStatus.CANCELLED)


def progress_of(projects: list[Project]) -> dict[int, ProjectProgress]:
    """Each project's progress, overall and per milestone: one query for any number of projects.

    Counted over all of a project's tasks, also those a reader may not see: the share done is a fact
    about the project, and says nothing of what a hidden task is."""
    result = {project.pk: ProjectProgress() for project in projects}
    rows = (_counted_tasks().filter(project_id__in=list(result)).values("project_id", "milestone_id")
            .annotate(total=Count("id"), done=Count("id", filter=Q(activity__status=ActivityStatus.COMPLETED))))
    for row in rows:
        progress = result[row["project_id"]]
        progress.by_milestone[row["milestone_id"]] = Progress(done=row["done"], total=row["total"])
        progress.overall.done += row["done"]
        progress.overall.total += row["total"]
    return result


def project_progress(project: Project) -> ProjectProgress:
    return progress_of([project])[project.pk]


# --- Projects ---------------------------------------------------------------------------------------


def project_base(*, user: Any) -> QuerySet[Project]:
    return Project.objects.visible_to(user).select_related("account", "manager", "owner")


def _user_id(value: str, user: Any, name: str) -> int:
    if value == "me":
        return int(user.pk)
    found = User.objects.filter(public_id=value).values_list("id", flat=True).first()
    if found is None:
        raise ValidationError({name: [_("No such user.")]})
    return int(found)


def filter_projects(qs: QuerySet[Project], params: Any, *, user: Any, default_view: str = "all") -> QuerySet[Project]:
    """The list's filters; anything unknown or unparseable is a ValidationError naming the parameter."""
    check_known_filters(params, PROJECT_FILTERS)
    view = choice_value(params, "view", list(VIEWS)) or default_view
    if view == "mine":
        qs = qs.filter(Q(manager_id=user.pk) | Q(Exists(ProjectMember.objects.filter(
            project_id=OuterRef("pk"), user_id=user.pk))))
    if q := query_text(params):
        qs = qs.filter(prefix_q("name_key", q))
    if status := choice_value(params, "status", ProjectStatus.values):
        qs = qs.filter(status=status)
    if manager := one_value(params, "manager"):
        qs = qs.filter(manager_id=_user_id(manager, user, "manager"))
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if member := one_value(params, "member"):
        member_id = _user_id(member, user, "member")
        qs = qs.filter(Exists(ProjectMember.objects.filter(project_id=OuterRef("pk"), user_id=member_id)))
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    return qs


def project_list(*, user: Any, params: Any, default_view: str = "mine") -> QuerySet[Project]:
    """The projects page: by default "my projects", those the user manages or works on."""
    return filter_projects(project_base(user=user), params, user=user, default_view=default_view)


def project_api_list(*, user: Any, params: Any) -> QuerySet[Project]:
    """The API's list: every project the caller may see unless view=mine says otherwise."""
    return filter_projects(project_base(user=user), params, user=user, default_view="all")


def project_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Project:
    """One project: 404 if the user may not see it, 403 if they may not do `action` to it."""
    qs = Project.objects.select_related("account", "opportunity", "manager", "owner").prefetch_related(
        "memberships__user")
    return access_record(user, Project, public_id, action, queryset=qs, deleted=deleted)


def milestones_of(project: Project) -> list[Milestone]:
    return list(project.milestones.all())


def milestone_get(*, user: Any, public_id: str, project: Project | None = None) -> Milestone:
    """A milestone of a project the user may see (and, given `project`, of that project); 404 otherwise."""
    milestone = Milestone.objects.select_related("project").filter(public_id=public_id).first()
    if milestone is None or (project is not None and milestone.project_id != project.pk):
        raise Http404
    if not Project.objects.visible_to(user).filter(pk=milestone.project_id).exists():
        raise Http404
    return milestone


def milestone_choice(*, project: Project, public_id: str | None, field_name: str = "milestone") -> Milestone | None:
    """The milestone a form or body names, which must be one of this project's; '' or None is none."""
    if not public_id:
        return None
    milestone = Milestone.objects.filter(public_id=public_id).first()
    if milestone is None:
        raise ValidationError({field_name: [_("No such milestone.")]})
    if milestone.project_id != project.pk:
        # No name: the other project may be one the user cannot see.
        raise ValidationError({field_name: [_("That is not a milestone of this project.")]})
    return milestone


@dataclass
class TaskGroup:
    milestone: Milestone | None
    tasks: list[Activity]
    progress: Progress


@dataclass
class ProjectTasks:
    groups: list[TaskGroup]
    hidden: int  # tasks of the project the reader may not see


def project_tasks(*, user: Any, project: Project, milestones: list[Milestone] | None = None,
                  progress: ProjectProgress | None = None) -> ProjectTasks:
    """The tasks of a project the user may see, grouped by milestone in the milestones' order (the
    ungrouped ones last), each group with its progress."""
    milestones = milestones if milestones is not None else milestones_of(project)
    progress = progress or project_progress(project)
    rows = list(ProjectTask.objects.filter(project=project, activity__deleted_at__isnull=True)
                .values_list("activity_id", "milestone_id"))
    visible = {a.pk: a for a in Activity.objects.visible_to(user).filter(pk__in=[r[0] for r in rows])
               .select_related("kind").prefetch_related("assignments__user").order_by("starts_at", "id")}
    grouped: dict[int | None, list[Activity]] = defaultdict(list)
    for activity_id, milestone_id in rows:
        if activity_id in visible:
            grouped[milestone_id].append(visible[activity_id])
    for tasks in grouped.values():
        tasks.sort(key=lambda a: (a.status == ActivityStatus.COMPLETED, a.starts_at, a.pk))
    groups = [TaskGroup(m, grouped.get(m.pk, []), progress.of(m)) for m in milestones]
    if grouped.get(None) or not milestones:
        groups.append(TaskGroup(None, grouped.get(None, []), progress.of(None)))
    return ProjectTasks(groups=groups, hidden=len(rows) - sum(len(t) for t in grouped.values()))


def task_get(*, user: Any, project: Project, public_id: str) -> Activity:
    """A task of the project that the user may see: 404 otherwise."""
    activity = Activity.objects.visible_to(user).filter(
        public_id=public_id, project_task__project=project).first()
    if activity is None:
        raise Http404
    return activity


def project_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    """A project with what its page shows."""
    project = project_get(user=user, public_id=public_id)
    milestones = milestones_of(project)
    progress = project_progress(project)
    return {
        "project": project,
        "account": project.account if record_visible(user, project.account) else None,
        "opportunity": project.opportunity if project.opportunity and record_visible(user, project.opportunity)
        else None,
        "members": sorted((m.user for m in project.memberships.all()), key=lambda u: u.display_name),
        "milestones": milestones,
        "progress": progress,
        "tasks": project_tasks(user=user, project=project, milestones=milestones, progress=progress),
        "history": history_for(project, user=user),
    }


def projects_about(*, user: Any, record: Any, limit: int = 50) -> list[Project]:
    """The projects of an account, or those an opportunity became, that the user may see."""
    qs = project_base(user=user)
    if record.record_type == "account":
        qs = qs.filter(account=record)
    elif record.record_type == "opportunity":
        qs = qs.filter(opportunity=record)
    else:
        return []
    return list(qs.order_by("-due_on", "-id")[:limit])


def project_written(*, user: Any, project: Project) -> Project:
    """The project as an API answer after a write: read again if the writer still sees it."""
    try:
        return project_get(user=user, public_id=project.public_id)
    except Http404:
        return Project.objects.select_related("account", "opportunity", "manager", "owner").prefetch_related(
            "memberships__user").get(pk=project.pk)
