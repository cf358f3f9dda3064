"""Pages of the support desk: the list, the item's form and page, one's private copy, delete and undo,
and the Support panel of account, contact and opportunity pages. Thin: parse, call a selector or service,
render. The answers to requests (assign, accept, decline, the email links) are in views/requests.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rapport.activities.selectors import panel_record
from rapport.core.access import can
from rapport.core.errors import StaleVersion
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, restore_and_show, show_errors, show_saved
from rapport.directory.models import Account, Contact
from rapport.directory.selectors import account_choices
from rapport.sales.models import Opportunity
from rapport.sales.selectors import account_opportunity_choices
from rapport.support import selectors, services
from rapport.support.filters import SUPPORT_ORDERINGS, VIEWS
from rapport.support.forms import AssignForm, DeclineForm, PrivateCopyForm, SupportItemForm
from rapport.support.models import PrivateCopy, SupportItem, SupportPriority, SupportStatus

ITEM = SupportItem.record_type
PAGES = "support"  # the URL names' prefix: support_list, support_edit, support_delete…
VIEW_LABELS = {
    "mine": gettext_lazy("Mine"), "assigned": gettext_lazy("Assigned to me"),
    "awaiting": gettext_lazy("Awaiting my answer"), "team": gettext_lazy("My team's"),
    "returned": gettext_lazy("Returned to me"), "": gettext_lazy("All"),
}


def _name(item: SupportItem) -> str:
    return item.reference


# --- The list --------------------------------------------------------------------------------------


def _tabs(request: HttpRequest, current: str, awaiting: int) -> list[dict[str, Any]]:
    """The views of the list, as links that keep no other filter but the status."""
    status = request.GET.get("status", "")
    tabs = []
    for view in (*VIEWS, ""):
        query = "&".join(part for part in (f"view={view}" if view else "", f"status={status}" if status else "")
                         if part)
        label = str(VIEW_LABELS[view])
        tabs.append({"url": f"?{query}" if query else "?", "label": label, "current": view == current,
                     "count": awaiting if view == "awaiting" else None})
    return tabs


@login_required
def support_list(request: HttpRequest) -> HttpResponse:
    """Items by view (mine, assigned to me, awaiting my answer…), status, priority, category, account and
    age; newest first. With htmx, only the results are re-rendered."""
    if not can(request.user, ITEM, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.support_item_list)
    context, status = list_context(request, selector=selectors.support_item_list, orderings=SUPPORT_ORDERINGS,
                                   default_ordering="-created_at", name=PAGES)
    today = timezone.localdate()
    for item in context["items"]:
        item.overdue = item.is_overdue(today)
    params = context["params"]
    account_id = params.get("account", "")
    view = params.get("view", "")
    context.update({
        "can_create": can(request.user, ITEM, Action.CREATE),
        "view": view,
        "tabs": _tabs(request, view, selectors.awaiting_answer_count(request.user)),
        "statuses": [("open", _("Open")), ("closed", _("Resolved or closed")), *SupportStatus.choices],
        "priorities": SupportPriority.choices,
        "categories": [(category.name, category.name) for category in selectors.categories(active_only=False)],
        "filter_account": account_choices(user=request.user).filter(public_id=account_id).first()
        if account_id else None,
    })
    if request.htmx and request.htmx.target == "results":
        return render(request, "support/_item_results.html", context, status=status)
    return render(request, "support/item_list.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------


def _preselect(request: HttpRequest) -> dict[str, Any]:
    """"New support item" from an account, contact or deal page starts linked to it."""
    chosen: dict[str, Any] = {}
    for name, model in (("account", Account), ("contact", Contact), ("opportunity", Opportunity)):
        if public_id := request.GET.get(name, "").strip():
            chosen[name] = model.objects.visible_to(request.user).filter(public_id=public_id).first()
    if chosen.get("account") is None:
        linked = chosen.get("contact") or chosen.get("opportunity")
        account_id = getattr(linked, "account_id", None)
        if account_id:
            chosen["account"] = account_choices(user=request.user).filter(pk=account_id).first()
    return chosen


def _opportunity_options(request: HttpRequest) -> HttpResponse:
    """The opportunity select's options for the account just chosen on the form."""
    account_id = request.GET.get("account", "").strip()
    account = account_choices(user=request.user).filter(public_id=account_id).first() if account_id else None
    return render(request, "support/_opportunity_options.html", {
        "options": account_opportunity_choices(user=request.user, account=account)})


@login_required
def support_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit an item. A stale version re-shows the form with the reason (409)."""
    item = None
    if public_id is not None:
        item = selectors.support_item_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, ITEM, Action.CREATE):
        raise PermissionDenied
    if request.method == "GET" and request.GET.get("part") == "opportunities":
        return _opportunity_options(request)
    form = SupportItemForm(request.POST or None, instance=item, user=request.user,
                           preselect=_preselect(request) if item is None else None)
    conflict = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if item is None:
                    item = services.support_item_create(
                        actor=request.user, data=form.record_data(), assignee=form.cleaned_data.get("assign_to"),
                        message=form.cleaned_data.get("message") or "")
                    messages.success(request, _("%(ref)s was created.") % {"ref": item.reference})
                else:
                    item = services.support_item_update(actor=request.user, item=item, data=form.record_data(),
                                                        version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=item, detail="support_detail", then="support_list",
                                  name=_name(item))
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc, rename={"assignee": "assign_to"})
    return render(request, "support/item_form.html", {"form": form, "item": item, "conflict": conflict},
                  status=status)


# --- One item --------------------------------------------------------------------------------------


def detail_context(request: HttpRequest, public_id: str) -> dict[str, Any]:
    """What the item's page shows: the public fields, the viewer's own copy, the chain, what they may do."""
    context = selectors.support_item_detail(user=request.user, public_id=public_id)
    item: SupportItem = context["item"]
    pending = context["pending"]
    user = request.user
    context.update({
        "record": item,
        "pages": {"name": PAGES},
        # The service's own rules (the owner and those over them, or the one handling it).
        "can_update": services.may_change(user, item),
        "can_delete": can(user, ITEM, Action.DELETE, item),
        "can_assign": item.is_open and services.may_assign(user, item, pending),
        "assign_form": AssignForm(exclude=[item.assignee], initial={"version": item.version}),
        "decline_form": DeclineForm(initial={"request": pending.public_id}) if context["awaiting_me"] else None,
        "copy_form": PrivateCopyForm(copy=context["private_copy"]) if context["private_copy"] else None,
    })
    return context


@login_required
def support_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "support/item_detail.html", detail_context(request, public_id))


@login_required
@require_POST
def support_copy_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Change one's own copy of the item: nobody else's copy is ever found here."""
    item = selectors.support_item_get(user=request.user, public_id=public_id)
    copy: PrivateCopy | None = selectors.private_copy_for(user=request.user, item=item)
    if copy is None:
        raise Http404
    form = PrivateCopyForm(request.POST, copy=copy)
    status = 400
    if form.is_valid():
        try:
            services.private_copy_update(actor=request.user, copy=copy, data=form.copy_data(),
                                         version=form.cleaned_data.get("version"))
            messages.success(request, _("Your copy was saved."))
            return redirect("support_detail", public_id=item.public_id)
        except StaleVersion as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            show_errors(form, exc)
    context = detail_context(request, public_id)
    context["copy_form"] = form
    return render(request, "support/item_detail.html", context, status=status)


@login_required
@require_POST
def support_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    item = selectors.support_item_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=item, detail="support_detail", restore="support_restore", then="support_list",
        name=_name(item),
        delete=lambda version: services.support_item_delete(actor=request.user, item=item, version=version))


@login_required
@require_POST
def support_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    item = selectors.support_item_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=item, detail="support_detail", then="support_list", name=_name(item),
                            restore=lambda: services.support_item_restore(actor=request.user, item=item))


# --- The Support panel of account, contact and opportunity pages -----------------------------------


@login_required
def record_support_items(request: HttpRequest, ref: str) -> HttpResponse:
    """The record's newest items the user may see, loaded after the record's page."""
    record = panel_record(user=request.user, ref=ref, types=("account", "contact", "opportunity"))
    items = selectors.record_support_items(user=request.user, record=record)
    today = timezone.localdate()
    for item in items:
        item.overdue = item.is_overdue(today)
    return render(request, "support/_item_panel.html", {
        "record": record, "items": items, "field": record.record_type,
        "list_url": f"{reverse('support_list')}?{record.record_type}={record.public_id}"
        if record.record_type in ("account", "contact") else None,
        "can_create": can(request.user, ITEM, Action.CREATE),
    })
