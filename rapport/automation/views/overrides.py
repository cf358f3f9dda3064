"""Follow-up overrides: while a user is away, their follow-ups go to a colleague or are spread over a team."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from rapport.automation import selectors, services
from rapport.automation.forms import OverrideForm
from rapport.automation.views.common import manager_required, render_setup
from rapport.core.errors import Conflict
from rapport.core.record_views import error_text, posted, show_errors


@manager_required
@require_GET
def override_list(request: HttpRequest) -> HttpResponse:
    return render_setup(request, "override_list.html", {
        "overrides": selectors.override_list(user=request.user)}, tab="overrides")


@manager_required
def override_new(request: HttpRequest) -> HttpResponse:
    form = OverrideForm(posted(request), user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                override = services.override_create(
                    actor=request.user, absent=data["absent"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                    to_user=data["to_user"], to_team=data["to_team"], note=data["note"])
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                moved = override.moves.count()
                messages.success(request, ngettext(
                    "The override for %(name)s was saved; %(count)d open follow-up moved.",
                    "The override for %(name)s was saved; %(count)d open follow-ups moved.", moved)
                    % {"name": override.absent.display_name, "count": moved})
                return redirect("override_list")
        status = 400
    return render_setup(request, "override_form.html", {"form": form}, tab="overrides", status=status)


@login_required
@require_POST
@manager_required
def override_revert(request: HttpRequest, public_id: str) -> HttpResponse:
    """Give back the follow-ups still open that the override moved."""
    override = selectors.override_get(user=request.user, public_id=public_id)
    try:
        back = services.override_revert(actor=request.user, override=override)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, ngettext(
            "The override was reverted: %(count)d follow-up went back to %(name)s.",
            "The override was reverted: %(count)d follow-ups went back to %(name)s.", back)
            % {"count": back, "name": override.absent.display_name})
    return redirect("override_list")


urlpatterns: list[URLPattern] = [
    path("settings/automation/overrides/", override_list, name="override_list"),
    path("settings/automation/overrides/new/", override_new, name="override_new"),
    path("settings/automation/overrides/<str:public_id>/revert/", override_revert, name="override_revert"),
]
