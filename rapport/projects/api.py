"""The projects API (see docs/projects.md).

- GET  /projects                         projects the caller may see ({items, next}); filters view, q, status,
                                         manager, member, owner, account
- POST /projects                         create; GET/PATCH/DELETE /projects/{id}; POST /projects/{id}/restore
- GET  /projects/{id}/milestones         its milestones in order, each with its progress; POST adds one
- PATCH/DELETE /projects/{id}/milestones/{milestone_id}
- GET  /projects/{id}/tasks              its tasks the caller may see; POST adds one (an activity regarding it)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.activities.models import Activity
from rapport.core.access import record_visible
from rapport.core.apitools import (
    BusinessRecordOut,
    InputSchema,
    ListParams,
    RefOut,
    api_page,
    ref_out,
    refuse_unknown_params,
)
from rapport.core.models import Action, User, Visibility
from rapport.core.selectors import user_get
from rapport.directory.models import Account
from rapport.projects import selectors, services
from rapport.projects.models import Milestone, Project, ProjectStatus
from rapport.projects.selectors import PROJECT_ORDERINGS, ProjectProgress
from rapport.sales.models import Opportunity

router = Router(tags=["Projects"])

VERSION_HELP = "The version you read; a stale one answers 409"


class ProgressOut(Schema):
    done: int = Field(..., description="Completed tasks")
    total: int = Field(..., description="Tasks that count: all but cancelled (and deleted) ones")
    percent: int


def _progress(progress: Any) -> dict[str, int]:
    return {"done": progress.done, "total": progress.total, "percent": progress.percent}


class MilestoneOut(Schema):
    id: str
    name: str
    due_on: dt.date | None
    position: int
    progress: ProgressOut

    @staticmethod
    def resolve_id(obj: Milestone) -> str:
        return obj.public_id

    @staticmethod
    def resolve_progress(obj: Milestone) -> dict[str, int]:
        return _progress(obj.progress)


class ProjectOut(BusinessRecordOut):
    name: str
    account: RefOut | None = Field(..., description="null when you may not see the account")
    opportunity: RefOut | None = Field(..., description="The deal it came from; null when none or not visible")
    manager: RefOut
    members: list[RefOut]
    starts_on: dt.date
    due_on: dt.date
    status: str
    budget: str = Field(..., description="A decimal string, such as 12000.00")
    currency: str
    description: str

    @staticmethod
    def resolve_account(obj: Project, context: dict[str, Any]) -> dict[str, str] | None:
        return ref_out(obj.account) if record_visible(context["request"].user, obj.account) else None

    @staticmethod
    def resolve_opportunity(obj: Project, context: dict[str, Any]) -> dict[str, str] | None:
        deal = obj.opportunity
        return ref_out(deal) if deal is not None and record_visible(context["request"].user, deal) else None

    @staticmethod
    def resolve_manager(obj: Project) -> dict[str, str] | None:
        return ref_out(obj.manager)

    @staticmethod
    def resolve_members(obj: Project) -> list[dict[str, str] | None]:
        return [ref_out(m.user) for m in sorted(obj.memberships.all(), key=lambda m: m.user.display_name)]

    @staticmethod
    def resolve_budget(obj: Project) -> str:
        return f"{obj.budget:.2f}"


class ProjectDetailOut(ProjectOut):
    progress: ProgressOut
    milestones: list[MilestoneOut]

    @staticmethod
    def resolve_progress(obj: Project) -> dict[str, int]:
        return _progress(obj.progress)

    @staticmethod
    def resolve_milestones(obj: Project) -> list[Milestone]:
        return obj.milestone_list


class ProjectPage(Schema):
    items: list[ProjectOut]
    next: str | None


class MilestonePage(Schema):
    items: list[MilestoneOut]
    next: str | None


class TaskOut(Schema):
    id: str = Field(..., description="The activity's id: read or change it under /api/v1/activities/{id} too")
    version: int
    subject: str
    status: str
    due_on: dt.date | None
    milestone: str | None = Field(..., description="The milestone's id; null when the task is in none")
    assignees: list[RefOut]

    @staticmethod
    def resolve_id(obj: Activity) -> str:
        return obj.public_id

    @staticmethod
    def resolve_milestone(obj: Activity) -> str | None:
        return getattr(obj, "milestone_public_id", None)

    @staticmethod
    def resolve_assignees(obj: Activity) -> list[dict[str, str] | None]:
        return [ref_out(a.user) for a in obj.assignments.all()]


class TaskPage(Schema):
    items: list[TaskOut]
    next: str | None
    hidden: int = Field(..., description="Tasks of the project you may not see (they count in its progress)")


class ProjectListParams(ListParams):
    view: str | None = Field(None, description="all (default): every project you may see; mine: those you manage "
                                               "or are a member of")
    q: str | None = Field(None, description="Start of the name")
    status: str | None = Field(None, description="planned, active, on_hold, completed or cancelled")
    manager: str | None = Field(None, description="A user's id, or 'me'")
    member: str | None = Field(None, description="A user's id, or 'me'")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    account: str | None = Field(None, description="An account's id")


class ProjectFields(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    opportunity: str | None = Field(None, description="Id of a deal of the same account; '' clears it")
    manager: str | None = Field(None, description="A user's id; default: the owner")
    members: list[str] | None = Field(None, max_length=services.MAX_MEMBERS,
                                      description="Users' ids; replaces the members")
    starts_on: dt.date | None = None
    due_on: dt.date | None = Field(None, description="On or after starts_on")
    status: ProjectStatus | None = None
    budget: Decimal | None = Field(None, max_digits=14, decimal_places=2, description="Not negative")
    currency: str | None = Field(None, max_length=10, description="An ISO 4217 code; default: the site's")
    description: str | None = Field(None, max_length=10000)
    visibility: Visibility | None = None
    owner: str | None = Field(None, description="Public id of the owning user; default: you")


class ProjectCreate(ProjectFields):
    name: str = Field(..., min_length=1, max_length=200)
    account: str = Field(..., description="Public id of the account")
    starts_on: dt.date
    due_on: dt.date


class ProjectUpdate(ProjectFields):
    account: str | None = Field(None, description="Public id of the account")
    version: int = Field(..., description=VERSION_HELP)


class MilestoneCreate(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    due_on: dt.date | None = Field(None, description="Within the project's dates")


class MilestoneUpdate(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    due_on: dt.date | None = None
    position: int | None = Field(None, ge=1, description="Its place in the list, 1 first; the others move")


class TaskCreate(InputSchema):
    subject: str = Field(..., min_length=1, max_length=200)
    due_on: dt.date | None = Field(None, description="Default: the milestone's due date, else the project's")
    milestone: str | None = Field(None, description="A milestone of this project")
    assignee: str | None = Field(None, description="A user's id; default: the project manager")
    description: str | None = Field(None, max_length=20000)


# --- Helpers ----------------------------------------------------------------------------------------


def _user(request: HttpRequest, public_id: str, field: str) -> User:
    found = user_get(user=request.user, public_id=public_id) if public_id else None
    if found is None:
        raise ValidationError({field: [_("No such user.")]})
    return found


def _data(request: HttpRequest, payload: Any) -> tuple[dict[str, Any], list[User] | None]:
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    for name, value in data.items():
        if value is None and name != "opportunity":
            raise ValidationError({name: [_("This field may not be null.")]})
    if "owner" in data:
        data["owner"] = _user(request, data["owner"], "owner")
        if not data["owner"].is_active:
            raise ValidationError({"owner": [_("The owner must be an active user.")]})
    if "manager" in data:
        data["manager"] = _user(request, data["manager"], "manager")
    if "account" in data:
        account = Account.objects.visible_to(request.user).filter(public_id=data["account"]).first()
        if account is None:
            raise ValidationError({"account": [_("No such account.")]})
        data["account"] = account
    if "opportunity" in data:
        if data["opportunity"]:
            deal = Opportunity.objects.visible_to(request.user).filter(public_id=data["opportunity"]).first()
            if deal is None:
                raise ValidationError({"opportunity": [_("No such opportunity.")]})
            data["opportunity"] = deal
        else:
            data["opportunity"] = None
    members = None
    if "members" in data:
        ids = data.pop("members")
        found = {u.public_id: u for u in User.objects.filter(public_id__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise ValidationError({"members": [_("No such user: %(id)s.") % {"id": missing[0][:30]}]})
        members = [found[i] for i in dict.fromkeys(ids)]
    return data, members


def _detail(request: HttpRequest, project: Project, *, written: bool = True) -> Project:
    """The project with its progress and milestones, as GET answers it; after a write, read again as the
    writer now sees it."""
    if written:
        project = selectors.project_written(user=request.user, project=project)
    progress: ProjectProgress = selectors.project_progress(project)
    milestones = selectors.milestones_of(project)
    for milestone in milestones:
        milestone.progress = progress.of(milestone)
    project.progress = progress.overall
    project.milestone_list = milestones
    return project


def _milestone(request: HttpRequest, project: Project, milestone_id: str) -> Milestone:
    return selectors.milestone_get(user=request.user, public_id=milestone_id, project=project)


def _may_manage(request: HttpRequest, project: Project) -> None:
    if not services.may_manage(request.user, project):
        raise PermissionDenied(_("You may not change this project's plan."))


# --- Projects ---------------------------------------------------------------------------------------


@router.get("/projects", response=ProjectPage, summary="List projects",
            description="Filters: view (all, the default, or mine: those you manage or are a member of), q (name "
                        "prefix), status, manager, member and owner (a user's id or 'me'), account (an id). "
                        "Orderings: name, due_on (default), starts_on, created_at, updated_at (prefix - to reverse).")
def list_projects(request: HttpRequest, params: Query[ProjectListParams]) -> dict:
    qs = selectors.project_api_list(user=request.user, params=request.GET).prefetch_related(
        "memberships__user").select_related("opportunity")
    return api_page(qs, params=params, allowed_orderings=PROJECT_ORDERINGS, default_ordering="due_on")


@router.post("/projects", response={201: ProjectDetailOut}, summary="Create a project",
             description="A project for an account, optionally from one of its deals. The manager defaults to the "
                         "owner; members see the project and may add tasks to it.")
def create_project(request: HttpRequest, payload: ProjectCreate) -> Status:
    data, members = _data(request, payload)
    project = services.project_create(actor=request.user, data=data, members=members or [])
    return Status(201, _detail(request, project))


@router.get("/projects/{project_id}", response=ProjectDetailOut, summary="Get a project",
            description="With its progress (completed tasks of all but cancelled ones) and its milestones.")
def get_project(request: HttpRequest, project_id: str) -> Project:
    refuse_unknown_params(request)
    return _detail(request, selectors.project_get(user=request.user, public_id=project_id), written=False)


@router.patch("/projects/{project_id}", response=ProjectDetailOut, summary="Change a project",
              description="Only the fields sent change; members, when sent, replaces the members.")
def update_project(request: HttpRequest, project_id: str, payload: ProjectUpdate) -> Project:
    project = selectors.project_get(user=request.user, public_id=project_id, action=Action.UPDATE)
    data, members = _data(request, payload)
    project = services.project_update(actor=request.user, project=project, data=data, members=members,
                                      version=payload.version)
    return _detail(request, project)


@router.delete("/projects/{project_id}", response={204: None}, summary="Delete a project (it can be restored)")
def delete_project(request: HttpRequest, project_id: str, version: int | None = None) -> Status:
    project = selectors.project_get(user=request.user, public_id=project_id, action=Action.DELETE)
    services.project_delete(actor=request.user, project=project, version=version)
    return Status(204, None)


@router.post("/projects/{project_id}/restore", response=ProjectDetailOut, summary="Restore a deleted project")
def restore_project(request: HttpRequest, project_id: str) -> Project:
    project = selectors.project_get(user=request.user, public_id=project_id, action=Action.DELETE, deleted=True)
    project = services.project_restore(actor=request.user, project=project)
    return _detail(request, project)


# --- Milestones -------------------------------------------------------------------------------------


def _with_progress(project: Project, milestones: list[Milestone]) -> list[Milestone]:
    progress = selectors.project_progress(project)
    for milestone in milestones:
        milestone.progress = progress.of(milestone)
    return milestones


@router.get("/projects/{project_id}/milestones", response=MilestonePage, summary="A project's milestones",
            description="In their order, each with its progress. One page: a project has at most 100.")
def list_milestones(request: HttpRequest, project_id: str) -> dict:
    refuse_unknown_params(request)
    project = selectors.project_get(user=request.user, public_id=project_id)
    return {"items": _with_progress(project, selectors.milestones_of(project)), "next": None}


@router.post("/projects/{project_id}/milestones", response={201: MilestoneOut}, summary="Add a milestone",
             description="At the end of the list.")
def create_milestone(request: HttpRequest, project_id: str, payload: MilestoneCreate) -> Status:
    project = selectors.project_get(user=request.user, public_id=project_id)
    _may_manage(request, project)
    milestone = services.milestone_create(actor=request.user, project=project,
                                          data=payload.model_dump(exclude_unset=True))
    return Status(201, _with_progress(project, [milestone])[0])


@router.patch("/projects/{project_id}/milestones/{milestone_id}", response=MilestoneOut,
              summary="Change a milestone", description="Rename it, change its due date (null clears it) or move it "
                                                        "to another position.")
def update_milestone(request: HttpRequest, project_id: str, milestone_id: str, payload: MilestoneUpdate) -> Milestone:
    project = selectors.project_get(user=request.user, public_id=project_id)
    milestone = _milestone(request, project, milestone_id)
    _may_manage(request, project)
    data = payload.model_dump(exclude_unset=True)
    if data.get("name", "") is None:
        raise ValidationError({"name": [_("This field may not be null.")]})
    if data.get("position", 0) is None:
        raise ValidationError({"position": [_("This field may not be null.")]})
    position = data.pop("position", None)
    milestone = services.milestone_update(actor=request.user, milestone=milestone, data=data, position=position)
    return _with_progress(project, [milestone])[0]


@router.delete("/projects/{project_id}/milestones/{milestone_id}", response={204: None},
               summary="Delete a milestone", description="Its tasks stay in the project, in no milestone.")
def delete_milestone(request: HttpRequest, project_id: str, milestone_id: str) -> Status:
    refuse_unknown_params(request)
    project = selectors.project_get(user=request.user, public_id=project_id)
    milestone = _milestone(request, project, milestone_id)
    _may_manage(request, project)
    services.milestone_delete(actor=request.user, milestone=milestone)
    return Status(204, None)


# --- Tasks ------------------------------------------------------------------------------------------


def _task_rows(request: HttpRequest, project: Project) -> tuple[list[Activity], int]:
    tasks = selectors.project_tasks(user=request.user, project=project)
    rows = []
    for group in tasks.groups:
        for task in group.tasks:
            task.milestone_public_id = group.milestone.public_id if group.milestone else None
            rows.append(task)
    return rows, tasks.hidden


@router.get("/projects/{project_id}/tasks", response=TaskPage, summary="A project's tasks",
            description="The tasks you may see, by milestone in order (those in none last). Complete one with "
                        "PATCH /api/v1/activities/{id} and status=completed.")
def list_tasks(request: HttpRequest, project_id: str) -> dict:
    refuse_unknown_params(request)
    project = selectors.project_get(user=request.user, public_id=project_id)
    rows, hidden = _task_rows(request, project)
    return {"items": rows, "next": None, "hidden": hidden}


@router.post("/projects/{project_id}/tasks", response={201: TaskOut}, summary="Add a task",
             description="A task (an activity regarding the project) in a milestone of this project, assigned to "
                         "the project manager unless an assignee is given.")
def create_task(request: HttpRequest, project_id: str, payload: TaskCreate) -> Status:
    project = selectors.project_get(user=request.user, public_id=project_id)
    _may_manage(request, project)
    data = payload.model_dump(exclude_unset=True)
    for name in ("subject",):
        if data.get(name, "") is None:
            raise ValidationError({name: [_("This field may not be null.")]})
    milestone = selectors.milestone_choice(project=project, public_id=data.get("milestone"))
    assignee = _user(request, data["assignee"], "assignee") if data.get("assignee") else None
    task = services.task_add(actor=request.user, project=project, subject=data["subject"],
                             due_on=data.get("due_on"), milestone=milestone, assignee=assignee,
                             description=data.get("description") or "")
    task = Activity.objects.prefetch_related("assignments__user").get(pk=task.pk)
    task.milestone_public_id = milestone.public_id if milestone else None
    return Status(201, task)
