"""Pages of the projects app: the list ("my projects" first), the form, the project page with its plan
(milestones, tasks, progress, timeline), and the Projects panel of account and opportunity pages.

Thin: parse, call a selector or service, render.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities.models import Activity, ActivityStatus
from rapport.activities.selectors import panel_record
from rapport.core.access import access_for, can
from rapport.core.errors import StaleVersion
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import (
    delete_and_offer_undo,
    error_text,
    restore_and_show,
    show_errors,
    show_saved,
)
from rapport.core.text import int_or_none
from rapport.directory.selectors import account_choices
from rapport.projects import selectors, services
from rapport.projects.forms import MilestoneForm, ProjectForm, TaskForm
from rapport.projects.models import Project, ProjectStatus
from rapport.projects.timeline import timeline_svg
from rapport.sales.models import Opportunity

RECORD_TYPE = Project.record_type
PAGES = SimpleNamespace(name=RECORD_TYPE)
NOT_FILTERS = ("lookup",)


def _today() -> dt.date:
    return timezone.localdate()


# --- The list ---------------------------------------------------------------------------------------


def _selector(*, user: Any, params: Any) -> Any:
    for name in NOT_FILTERS:
        params.pop(name, None)
    return selectors.project_list(user=user, params=params)


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """My projects by default (those I manage or work on); view=all for every project I may see."""
    if not can(request.user, RECORD_TYPE, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, _selector)
    context, status = list_context(request, selector=_selector, orderings=selectors.PROJECT_ORDERINGS,
                                   default_ordering="due_on", name=RECORD_TYPE)
    items = context["items"]
    progress = selectors.progress_of(items)
    for project in items:
        project.progress = progress[project.pk].overall
    params = context["params"]
    selected_account = None
    if params.get("account"):
        selected_account = account_choices(user=request.user).filter(public_id=params["account"]).first()
    context.update({
        "pages": PAGES,
        "view": params.get("view") or "mine",
        "statuses": ProjectStatus.choices,
        "selected_manager": params.get("manager", ""),
        "selected_account": selected_account,
    })
    if request.htmx and request.htmx.target == "results":
        return render(request, "projects/_project_results.html", context, status=status)
    return render(request, "projects/project_list.html", context, status=status)


# --- One project ------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, public_id: str) -> dict[str, Any]:
    context = selectors.project_detail(user=request.user, public_id=public_id)
    project = context["project"]
    today = _today()
    may_manage = services.may_manage(request.user, project)
    access = access_for(request.user)
    may_update_tasks = access.can(Activity.record_type, Action.UPDATE)
    for group in context["tasks"].groups:
        for task in group.tasks:
            # The activities app's rule for a status change: the update right on the task's owner, or being
            # one of its assignees with the update right on activities. Others get no button to press.
            task.may_set_status = access.covers_owner(Activity.record_type, Action.UPDATE, task.owner_id) or (
                may_update_tasks and any(a.user_id == request.user.pk for a in task.assignments.all()))
    context.update({
        "pages": PAGES,
        "record": project,
        "today": today,
        "can_update": can(request.user, RECORD_TYPE, Action.UPDATE, project),
        "can_delete": can(request.user, RECORD_TYPE, Action.DELETE, project),
        "may_manage": may_manage,
        "may_add_tasks": may_manage and can(request.user, Activity.record_type, Action.CREATE),
        "timeline": timeline_svg(project, context["tasks"], today=today),
        "milestone_form": MilestoneForm(prefix="milestone"),
        "task_form": TaskForm(prefix="task", milestones=context["milestones"]),
    })
    return context


@login_required
def project_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "projects/project_detail.html", _detail_context(request, public_id))


def _plan(request: HttpRequest, project: Project, *, status: int = 200, **extra: Any) -> HttpResponse:
    """After a change of the plan: with htmx, the plan section again (tasks, progress, timeline); else
    the project's page."""
    if request.htmx:
        context = _detail_context(request, project.public_id)
        context.update(extra)
        response = render(request, "projects/_plan.html", context, status=status)
        response["HX-Trigger"] = "activitiesChanged"
        return response
    for error in extra.get("errors", []):
        messages.error(request, error)
    return redirect("project_detail", public_id=project.public_id)


@login_required
def project_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a project. A stale version re-shows the form with the reason (409)."""
    record = None
    if public_id is not None:
        record = selectors.project_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, RECORD_TYPE, Action.CREATE):
        raise PermissionDenied
    account = opportunity = None
    if record is None:
        if request.GET.get("opportunity"):
            opportunity = Opportunity.objects.visible_to(request.user).select_related("account").filter(
                public_id=request.GET["opportunity"]).first()
        if request.GET.get("account"):
            account = account_choices(user=request.user).filter(public_id=request.GET["account"]).first()
        elif opportunity is not None:
            # The deal's account, only if the user may see it: the form would show its name.
            account = account_choices(user=request.user).filter(pk=opportunity.account_id).first()
    form = ProjectForm(request.POST or None, instance=record, user=request.user, account=account,
                       opportunity=opportunity)
    conflict = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            members = list(form.cleaned_data.get("members") or [])
            try:
                if record is None:
                    record = services.project_create(actor=request.user, data=form.record_data(), members=members)
                    messages.success(request, _("%(name)s was created.") % {"name": record})
                else:
                    record = services.project_update(actor=request.user, project=record, data=form.record_data(),
                                                     members=members, version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=record, detail="project_detail", then="project_list")
            except StaleVersion as exc:
                conflict = exc
            except PermissionDenied as exc:
                form.add_error("owner", str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc)
        status = 409 if conflict else status if status != 200 else 400
    return render(request, "projects/project_form.html", {"form": form, "record": record, "conflict": conflict},
                  status=status)


@login_required
@require_POST
def project_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=project, detail="project_detail", restore="project_restore", then="project_list",
        delete=lambda version: services.project_delete(actor=request.user, project=project, version=version))


@login_required
@require_POST
def project_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=project, detail="project_detail", then="project_list",
                            restore=lambda: services.project_restore(actor=request.user, project=project))


# --- The plan: milestones and tasks -----------------------------------------------------------------


def _managed(request: HttpRequest, project: Project) -> None:
    if not services.may_manage(request.user, project):
        raise PermissionDenied


@login_required
@require_POST
def milestone_create(request: HttpRequest, public_id: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, public_id=public_id)
    _managed(request, project)
    form = MilestoneForm(request.POST, prefix="milestone")
    if form.is_valid():
        try:
            milestone = services.milestone_create(actor=request.user, project=project, data=form.cleaned_data)
        except ValidationError as exc:
            return _plan(request, project, status=400, errors=[error_text(exc)])
        if not request.htmx:
            messages.success(request, _("Milestone %(name)s was added.") % {"name": milestone})
        return _plan(request, project)
    return _plan(request, project, status=400, errors=[f"{form.fields[n].label}: {' '.join(e)}"
                                                       for n, e in form.errors.items()])


@login_required
def milestone_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    milestone = selectors.milestone_get(user=request.user, public_id=public_id)
    project = selectors.project_get(user=request.user, public_id=milestone.project.public_id)
    _managed(request, project)
    form = MilestoneForm(request.POST or None, initial={"name": milestone.name, "due_on": milestone.due_on})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.milestone_update(actor=request.user, milestone=milestone, data=form.cleaned_data)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("Your changes were saved."))
                return redirect("project_detail", public_id=project.public_id)
        status = 400
    return render(request, "projects/milestone_form.html", {"form": form, "milestone": milestone,
                                                             "project": project}, status=status)


@login_required
@require_POST
def milestone_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    milestone = selectors.milestone_get(user=request.user, public_id=public_id)
    project = milestone.project
    _managed(request, project)
    services.milestone_delete(actor=request.user, milestone=milestone)
    if not request.htmx:
        messages.success(request, _("Milestone %(name)s was deleted; its tasks stay in the project.")
                         % {"name": milestone.name})
    return _plan(request, project)


@login_required
@require_POST
def milestone_move(request: HttpRequest, public_id: str) -> HttpResponse:
    milestone = selectors.milestone_get(user=request.user, public_id=public_id)
    project = milestone.project
    _managed(request, project)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is None:
        return _plan(request, project, status=400, errors=[_("direction: up or down.")])
    services.milestone_move(actor=request.user, milestone=milestone, step=step)
    return _plan(request, project)


@login_required
@require_POST
def task_create(request: HttpRequest, public_id: str) -> HttpResponse:
    project = selectors.project_get(user=request.user, public_id=public_id)
    _managed(request, project)
    if not can(request.user, Activity.record_type, Action.CREATE):
        raise PermissionDenied
    form = TaskForm(request.POST, prefix="task", milestones=selectors.milestones_of(project))
    if not form.is_valid():
        return _plan(request, project, status=400, errors=[f"{form.fields[n].label}: {' '.join(e)}"
                                                           for n, e in form.errors.items()])
    try:
        milestone = selectors.milestone_choice(project=project, public_id=form.cleaned_data["milestone"])
        task = services.task_add(actor=request.user, project=project, subject=form.cleaned_data["subject"],
                                 due_on=form.cleaned_data["due_on"], milestone=milestone,
                                 assignee=form.cleaned_data["assignee"])
    except ValidationError as exc:
        return _plan(request, project, status=400, errors=[error_text(exc)])
    if not request.htmx:
        messages.success(request, _("Task %(name)s was added.") % {"name": task})
    return _plan(request, project)


def _project_of_task(request: HttpRequest, public_id: str) -> tuple[Project, Activity]:
    """A task the user may see and its project, which they must see too: 404 otherwise."""
    project_public_id = Project.objects.filter(tasks__activity__public_id=public_id).values_list(
        "public_id", flat=True).first()
    if project_public_id is None:
        raise Http404
    project = selectors.project_get(user=request.user, public_id=project_public_id)
    return project, selectors.task_get(user=request.user, project=project, public_id=public_id)


@login_required
@require_POST
def task_status(request: HttpRequest, public_id: str) -> HttpResponse:
    """Complete (or reopen) a task from the project page: whoever the activities app lets change it."""
    project, activity = _project_of_task(request, public_id)
    status = request.POST.get("status", "")
    if status not in ActivityStatus.values:
        return _plan(request, project, status=400, errors=[_("Unknown status.")])
    try:
        services.task_status(actor=request.user, project=project, activity=activity, status=status,
                             version=int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        return _plan(request, project, status=409, errors=[str(exc)])
    except ValidationError as exc:
        return _plan(request, project, status=400, errors=[error_text(exc)])
    return _plan(request, project)


@login_required
@require_POST
def task_milestone(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move a task to another milestone of its project."""
    project, activity = _project_of_task(request, public_id)
    _managed(request, project)
    try:
        milestone = selectors.milestone_choice(project=project, public_id=request.POST.get("milestone"))
        services.task_move(actor=request.user, project=project, activity=activity, milestone=milestone)
    except ValidationError as exc:
        return _plan(request, project, status=400, errors=[error_text(exc)])
    return _plan(request, project)


# --- The Projects panel of account and opportunity pages ---------------------------------------------


@login_required
def record_projects(request: HttpRequest, ref: str) -> HttpResponse:
    record = panel_record(user=request.user, ref=ref, types=("account", "opportunity"))
    projects = selectors.projects_about(user=request.user, record=record)
    progress = selectors.progress_of(projects)
    for project in projects:
        project.progress = progress[project.pk].overall
    create_query = f"?opportunity={record.public_id}" if record.record_type == "opportunity" else \
        f"?account={record.public_id}"
    return render(request, "projects/_record_projects.html", {
        "record": record, "projects": projects, "create_url": reverse("project_create") + create_query,
        "can_create": can(request.user, RECORD_TYPE, Action.CREATE),
    })
