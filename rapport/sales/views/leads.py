"""Pages of the sales area: leads. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.access import can, record_visible
from rapport.core.errors import StaleVersion
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, restore_and_show, show_errors, show_saved
from rapport.core.registry import detail_url
from rapport.directory.selectors import account_choices, contact_choices
from rapport.sales import selectors, services
from rapport.sales.currencies import currency_choices
from rapport.sales.filters import LEAD_ORDERINGS
from rapport.sales.forms.leads import LeadConvertForm, LeadForm
from rapport.sales.models import Lead, LeadStatus

LEAD = Lead.record_type


# --- List ------------------------------------------------------------------------------------------


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads by name, status, source or owner. With htmx, only the results are re-rendered."""
    if not can(request.user, LEAD, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.lead_list)
    context, status = list_context(request, selector=selectors.lead_list, orderings=LEAD_ORDERINGS,
                                   default_ordering="name", name=LEAD)
    context["statuses"] = LeadStatus.choices
    if request.htmx and request.htmx.target == "results":
        return render(request, "sales/_lead_results.html", context, status=status)
    return render(request, "sales/lead_list.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------


def _preselect(request: HttpRequest) -> dict[str, Any]:
    """?account= and ?contact= name what a new lead is about (ignored unless the user may see them)."""
    found: dict[str, Any] = {}
    if account_id := request.GET.get("account", "").strip():
        found["account"] = account_choices(user=request.user).filter(public_id=account_id).first()
    if contact_id := request.GET.get("contact", "").strip():
        found["contact"] = contact_choices(user=request.user).filter(public_id=contact_id).first()
    return found


@login_required
def lead_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a lead. A stale version re-shows the form with the reason (409)."""
    lead = None
    if public_id is not None:
        lead = selectors.lead_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, LEAD, Action.CREATE):
        raise PermissionDenied
    form = LeadForm(request.POST or None, instance=lead, user=request.user,
                    preselect=_preselect(request) if lead is None else None)
    conflict = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if lead is None:
                    lead = services.lead_create(actor=request.user, data=form.record_data())
                    messages.success(request, _("%(name)s was created.") % {"name": lead})
                else:
                    lead = services.lead_update(actor=request.user, lead=lead, data=form.record_data(),
                                                version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=lead, detail="lead_detail", then="lead_list")
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:  # an owner outside the user's scope: say so on the field
                form.add_error("owner", str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc)
    return render(request, "sales/lead_form.html", {"form": form, "lead": lead, "conflict": conflict},
                  status=status)


# --- Detail, delete, restore -----------------------------------------------------------------------


@login_required
def lead_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    context = selectors.lead_detail(user=request.user, public_id=public_id)
    lead = context["lead"]
    context.update({
        "record": lead,
        "pages": {"name": LEAD},
        "opportunity_url": detail_url(context["opportunity"]) if context["opportunity"] else None,
        "can_update": can(request.user, LEAD, Action.UPDATE, lead),
        "can_delete": can(request.user, LEAD, Action.DELETE, lead),
        "can_convert": lead.status != LeadStatus.CONVERTED and can(request.user, LEAD, Action.UPDATE, lead),
    })
    return render(request, "sales/lead_detail.html", context)


@login_required
@require_POST
def lead_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=lead, detail="lead_detail", restore="lead_restore", then="lead_list",
        delete=lambda version: services.lead_delete(actor=request.user, lead=lead, version=version))


@login_required
@require_POST
def lead_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    lead = selectors.lead_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=lead, detail="lead_detail", then="lead_list",
                            restore=lambda: services.lead_restore(actor=request.user, lead=lead))


# --- Convert ---------------------------------------------------------------------------------------


@login_required
def lead_convert(request: HttpRequest, public_id: str) -> HttpResponse:
    """Turn a lead into an account, a contact and an opportunity: a form, then one service call."""
    lead = selectors.lead_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    converted = lead.status == LeadStatus.CONVERTED
    form = LeadConvertForm(request.POST or None, user=request.user, lead=lead)
    conflict = None
    status = 200
    if request.method == "POST" and converted:
        conflict, status = _("This lead is converted already."), 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            create_opportunity = form.cleaned_data["create_opportunity"]
            try:
                lead = services.lead_convert(
                    actor=request.user, lead=lead, version=form.cleaned_data.get("version"),
                    account=form.chosen_account(), contact=form.chosen_contact(),
                    new_account=form.chosen_account() is None, new_contact=form.chosen_contact() is None,
                    create_opportunity=create_opportunity,
                    opportunity_data=form.opportunity_data() if create_opportunity else None)
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You may not convert this lead."))
                status = 403
            except ValidationError as exc:
                if "status" in exc.message_dict:  # converted meanwhile, in another tab
                    conflict, status = _("This lead is converted already."), 409
                else:
                    show_errors(form, exc, {"name": "opportunity_name"})
            else:
                messages.success(request, _("%(name)s was converted.") % {"name": lead})
                for record in (lead.opportunity, lead.account):
                    if record_visible(request.user, record) and (url := detail_url(record)):
                        return redirect(url)
                return redirect("lead_detail", public_id=lead.public_id)
    detail: dict[str, Any] = {}
    if converted:
        detail = selectors.lead_detail(user=request.user, public_id=public_id)
        detail["opportunity_url"] = detail_url(detail["opportunity"]) if detail["opportunity"] else None
    return render(request, "sales/lead_convert.html", {
        "lead": lead, "form": form, "conflict": conflict, "converted": converted,
        "currencies": currency_choices(), **detail,
    }, status=status)


urlpatterns: list[URLPattern] = [
    path("leads/", lead_list, name="lead_list"),
    path("leads/new/", lead_form, name="lead_create"),
    path("leads/<str:public_id>/", lead_detail, name="lead_detail"),
    path("leads/<str:public_id>/edit/", lead_form, name="lead_edit"),
    path("leads/<str:public_id>/delete/", lead_delete, name="lead_delete"),
    path("leads/<str:public_id>/restore/", lead_restore, name="lead_restore"),
    path("leads/<str:public_id>/convert/", lead_convert, name="lead_convert"),
]
