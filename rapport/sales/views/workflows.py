"""Pages of the sales area: workflows. The Communications pane of an account's page, and the
administrators' settings of pipeline stages and workflow definitions.

Thin: parse, call a selector or service, render.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.activities import selectors as activity_selectors
from rapport.activities.models import Activity
from rapport.core.access import can
from rapport.core.models import Action
from rapport.core.record_views import error_text, posted, show_errors
from rapport.core.settings_views import admin_required
from rapport.directory.models import Account
from rapport.sales import selectors, services
from rapport.sales.forms.workflows import (
    COMMUNICATION_ERROR_FIELDS,
    CommunicationForm,
    StageForm,
    WorkflowForm,
    keep_branch_ids,
)

# --- The Communications pane of an account ---------------------------------------------------------


def _account(request: HttpRequest, ref: str) -> Account:
    """The account a pane is about ("account:<id>"), if the user may see it; 404 otherwise (and for a
    reference to any other kind of record)."""
    if not ref.startswith(f"{Account.record_type}:"):
        raise Http404
    try:
        return activity_selectors.record_ref(user=request.user, ref=ref)
    except ValidationError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def record_communications(request: HttpRequest, ref: str) -> HttpResponse:
    """The Communications pane of an account's page: every workflow's tree with the communications
    registered under each branch (GET), and registering one right there (POST).

    With htmx the pane alone answers; without, a page holding it (GET, a mistake) or the account's page.
    """
    account = _account(request, ref)
    user = request.user
    can_register = can(user, Activity.record_type, Action.CREATE)
    if request.method == "POST" and not can_register:
        raise PermissionDenied(_("You may not create activities."))
    context = selectors.account_communications(user=user, account=account)
    trees = selectors.workflow_trees()

    def new_form(data: Any = None) -> CommunicationForm:
        return CommunicationForm(data, user=user, contacts=context["contacts"], trees=trees,
                                 today=timezone.localdate())

    form = new_form(posted(request))
    registered = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                registered = services.communication_register(
                    actor=user, account=account, communication_type=form.cleaned_data["communication_type"],
                    contact=form.cleaned_data["contact"], data=form.activity_data())
            except ValidationError as exc:
                show_errors(form, exc, rename=COMMUNICATION_ERROR_FIELDS)
        if registered is None:
            status = 400
        else:
            text = _("%(name)s was registered.") % {"name": registered.activity}
            if not request.htmx:
                messages.success(request, text)
                return redirect("account_detail", public_id=account.public_id)
            context = selectors.account_communications(user=user, account=account)
            form = new_form()
            context["registered"] = registered
            context["registered_text"] = text
    context.update({"form": form, "can_register": can_register, "has_branches": bool(form.branches),
                    "open_form": status != 200,
                    "workflows": [(workflow, branches, sum(branch.total for branch in branches))
                                  for workflow, branches in context["trees"]]})
    template = "sales/_communications.html" if request.htmx else "sales/communications_page.html"
    response = render(request, template, context, status=status)
    if registered is not None:
        response["HX-Trigger"] = "activitiesChanged"
    return response


# --- Settings: pipeline stages ---------------------------------------------------------------------


def _settings(request: HttpRequest, template: str, context: dict[str, Any], *, section: str,
              status: int = 200) -> HttpResponse:
    return render(request, f"sales/{template}", {"section": section, **context}, status=status)


# A stage's name is unique in its pipeline: the model's constraint reports it for the whole record.
STAGE_ERROR_FIELDS = {"__all__": "name"}


@admin_required
def settings_pipeline(request: HttpRequest) -> HttpResponse:
    """Each pipeline with its stages in order, and adding a stage."""
    form = StageForm(posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                stage = services.stage_save(actor=request.user, data=form.stage_data(),
                                            place=form.cleaned_data["place"])
            except ValidationError as exc:
                show_errors(form, exc, rename=STAGE_ERROR_FIELDS)
            else:
                messages.success(request, _("The stage %(name)s was added to %(pipeline)s.")
                                 % {"name": stage.name, "pipeline": stage.pipeline.name})
                return redirect("settings_pipeline")
        status = 400
    return _settings(request, "settings_pipeline.html", {
        "pipelines": selectors.stage_admin_list(), "form": form}, section="pipeline", status=status)


@admin_required
def settings_stage_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change a stage (its place in the order moves it up or down), or delete it if no deal is in it."""
    stage = selectors.stage_get(public_id)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            services.stage_delete(actor=request.user, stage=stage)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("settings_stage_edit", public_id=public_id)
        messages.success(request, _("The stage %(name)s was deleted.") % {"name": stage.name})
        return redirect("settings_pipeline")
    order = list(selectors.stage_choices(pipeline=stage.pipeline, active_only=False)
                 .order_by("position", "id").values_list("pk", flat=True))
    form = StageForm(posted(request), stage=stage, place=order.index(stage.pk) + 1)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.stage_data()
            place = form.cleaned_data["place"]
            if place is None:
                data["position"] = stage.position  # left empty: where it is
            try:
                # A copy: a refused change must not show as the page's heading.
                saved = services.stage_save(actor=request.user, data=data, place=place, stage=copy.copy(stage))
            except ValidationError as exc:
                show_errors(form, exc, rename=STAGE_ERROR_FIELDS)
            else:
                messages.success(request, _("The stage %(name)s was saved.") % {"name": saved.name})
                return redirect("settings_pipeline")
        status = 400
    return _settings(request, "settings_stage_form.html", {
        "form": form, "stage": stage, "deal_count": selectors.stage_deal_count(stage)},
        section="pipeline", status=status)


# --- Settings: workflow definitions ----------------------------------------------------------------


@admin_required
def settings_workflows(request: HttpRequest) -> HttpResponse:
    return _settings(request, "settings_workflows.html", {"rows": selectors.workflow_admin_list()},
                     section="workflows")


# The services name a tree's mistakes "types.<index>...": the outline shows them.
WORKFLOW_ERROR_FIELDS = {"types": "outline"}


@admin_required
def settings_workflow_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or change a workflow: name, description, in use or not, and its tree as an indented outline."""
    workflow = selectors.workflow_get(public_id) if public_id is not None else None
    existing = selectors.workflow_tree(workflow) if workflow is not None else []
    form = WorkflowForm(posted(request), workflow=workflow, tree=existing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.workflow_data()
            if workflow is None:
                data.setdefault("position", selectors.next_workflow_position())
            tree = keep_branch_ids(form.cleaned_data["outline"], existing)
            try:
                saved = services.workflow_save(actor=request.user, data=data, tree=tree,
                                               workflow=copy.copy(workflow) if workflow is not None else None)
            except ValidationError as exc:
                show_errors(form, exc, rename=WORKFLOW_ERROR_FIELDS)
            else:
                if workflow is None:
                    messages.success(request, _("The workflow %(name)s was created.") % {"name": saved.name})
                else:
                    messages.success(request, _("The workflow %(name)s was saved.") % {"name": saved.name})
                return redirect("settings_workflows")
        status = 400
    return _settings(request, "settings_workflow_form.html", {
        "form": form, "workflow": workflow,
        "communication_count": selectors.workflow_communication_count(workflow) if workflow is not None else 0,
    }, section="workflows", status=status)


@login_required
@require_POST
@admin_required
def settings_workflow_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Delete a workflow no communication is registered under; one in use is deactivated instead."""
    workflow = selectors.workflow_get(public_id)
    try:
        services.workflow_delete(actor=request.user, workflow=workflow)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("settings_workflow_edit", public_id=public_id)
    messages.success(request, _("The workflow %(name)s was deleted.") % {"name": workflow.name})
    return redirect("settings_workflows")


urlpatterns: list[URLPattern] = [
    path("communications/about/<str:ref>/", record_communications, name="record_communications"),
    path("settings/pipeline/", settings_pipeline, name="settings_pipeline"),
    path("settings/pipeline/stages/<str:public_id>/", settings_stage_edit, name="settings_stage_edit"),
    path("settings/workflows/", settings_workflows, name="settings_workflows"),
    path("settings/workflows/new/", settings_workflow_form, name="settings_workflow_create"),
    path("settings/workflows/<str:public_id>/", settings_workflow_form, name="settings_workflow_edit"),
    path("settings/workflows/<str:public_id>/delete/", settings_workflow_delete, name="settings_workflow_delete"),
]
