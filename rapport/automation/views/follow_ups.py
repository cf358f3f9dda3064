"""A follow-up as its holder sees it, and the status dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rapport.activities.models import Activity, ActivityStatus
from rapport.automation import selectors, services
from rapport.automation.forms import RECORD_TYPE_LABELS, DashboardFilter, StageForm
from rapport.automation.models import FollowUp
from rapport.automation.views.setup import describe_trigger
from rapport.core.access import access_for, can
from rapport.core.errors import StaleVersion
from rapport.core.models import Action
from rapport.core.record_views import posted, show_errors


def _may_set_stage(user: object, follow_up: FollowUp) -> bool:
    """The assignee (whose task it is), or whoever may change the task."""
    task = follow_up.task
    if can(user, Activity.record_type, Action.UPDATE, task):
        return True
    return follow_up.assignee_id == getattr(user, "pk", None) and can(user, Activity.record_type, Action.UPDATE)


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The definition's instructions and the message for the stage, the record one click away; the
    assignee sets it Pending (with a note) or Completed."""
    follow_up = selectors.follow_up_get(user=request.user, public_id=public_id)
    may_set = _may_set_stage(request.user, follow_up)
    form = StageForm(posted(request), initial={"version": follow_up.task.version})
    status = 200
    if request.method == "POST":
        if not may_set:
            raise PermissionDenied(_("Only the follow-up's assignee, or who may change its task, sets its stage."))
        if form.is_valid():
            try:
                services.follow_up_set_stage(actor=request.user, follow_up=follow_up,
                                             status=form.cleaned_data["status"], note=form.cleaned_data["note"],
                                             version=form.cleaned_data["version"])
            except ValidationError as exc:
                show_errors(form, exc)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("The follow-up is now %(status)s.") % {
                    "status": ActivityStatus(form.cleaned_data["status"]).label.lower()})
                return redirect("follow_up_detail", public_id=public_id)
        status = status if status != 200 else 400
    record = selectors.follow_up_record(user=request.user, follow_up=follow_up)
    return render(request, "automation/follow_up_detail.html", {
        "follow_up": follow_up, "task": follow_up.task, "rule": follow_up.rule,
        "definition": follow_up.rule.definition, "stage_message": services.stage_message(follow_up),
        "record": record, "record_type_label": RECORD_TYPE_LABELS.get(follow_up.record_type, ""),
        "trigger_text": describe_trigger(follow_up.rule), "may_set": may_set, "form": form,
        "manages": services.may_manage(request.user)}, status=status)


@login_required
@require_GET
def follow_up_dashboard(request: HttpRequest) -> HttpResponse:
    """Open and closed follow-ups per user and per rule, created in a date range: everyone's for an
    administrator, the team's for a manager, one's own for everyone else."""
    form = DashboardFilter(request.GET or None)
    start = end = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["created_from"], form.cleaned_data["created_to"]
    board = selectors.dashboard(user=request.user, created_from=start, created_to=end)
    return render(request, "automation/follow_up_dashboard.html", {
        "form": form, "board": board, "manages": services.may_manage(request.user),
        "is_admin": access_for(request.user).is_admin,
        # Both the absent user and whoever took their follow-ups see the override here.
        "overrides": selectors.override_list(user=request.user, limit=10)},
        status=400 if form.is_bound and not form.is_valid() else 200)


urlpatterns: list[URLPattern] = [
    path("follow-ups/", follow_up_dashboard, name="follow_up_dashboard"),
    path("follow-ups/<str:public_id>/", follow_up_detail, name="follow_up_detail"),
]
