"""Pages of the request cycle: assign (reassign, pass on), accept and decline, in the app and from the
links of a request email; and the "Awaiting my answer" panel of My Home.

The item's page and the page an email link opens post the same fields (`assignee`, `message`, `reason`,
`request`) and call the same services. A GET never changes anything: mail scanners open links.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.access import record_visible
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.record_views import error_text, show_errors, show_saved
from rapport.support import selectors, services
from rapport.support.forms import AcceptForm, AssignForm, DeclineForm
from rapport.support.models import RequestState, SupportItem, SupportRequest
from rapport.support.views.items import detail_context

ANSWER_FORMS: dict[str, type[Form]] = {"accept": AcceptForm, "decline": DeclineForm, "reassign": AssignForm}


def _form(action: str, data: Any, req: SupportRequest) -> Form:
    if action == "reassign":
        return AssignForm(data, exclude=[req.recipient], initial={"request": req.public_id})
    return ANSWER_FORMS[action](data, initial={"request": req.public_id})


def _perform(user: Any, action: str, req: SupportRequest, form: Form) -> str:
    """Answer the request as the form says; the success message. Services raise what went wrong."""
    if action == "accept":
        services.support_accept(actor=user, request=req)
        return _("You accepted %(ref)s. It is on your task list.") % {"ref": req.item.reference}
    if action == "decline":
        services.support_decline(actor=user, request=req, reason=form.cleaned_data["reason"])
        return _("You declined %(ref)s; %(owner)s was told.") % {"ref": req.item.reference, "owner": req.item.owner}
    if req.state != RequestState.PENDING:
        raise Conflict(services.why_closed(req))
    assignee = form.cleaned_data["assignee"]
    services.support_assign(actor=user, item=req.item, recipient=assignee, message=form.cleaned_data["message"],
                            version=form.cleaned_data.get("version"))
    return _("%(ref)s was passed on to %(who)s.") % {"ref": req.item.reference, "who": assignee.display_name}


def _done(request: HttpRequest, item: SupportItem, text: str) -> HttpResponse:
    """Back to the item; to the list when the answer took it out of the user's sight (passed on, declined)."""
    messages.success(request, text)
    item.refresh_from_db()
    return show_saved(request, record=item, detail="support_detail", then="support_list", name=item.reference)


# --- From the email's links ------------------------------------------------------------------------


def _link_error(request: HttpRequest, text: str, status: int) -> HttpResponse:
    return render(request, "support/answer_error.html", {"error": text}, status=status)


@login_required
def support_answer(request: HttpRequest, token: str, action: str) -> HttpResponse:
    """Accept, decline or pass on a request from its email: the GET shows the item and the form, the POST
    answers. A forged or expired link answers 400, another user's 403, an answered request 409."""
    if action not in services.LINK_ACTIONS:
        raise Http404
    try:
        req = services.request_from_link(token, user=request.user)
    except ValidationError as exc:
        return _link_error(request, error_text(exc), 400)
    except PermissionDenied as exc:
        return _link_error(request, str(exc), 403)
    if req.state != RequestState.PENDING:
        return _link_error(request, services.why_closed(req), 409)
    form = _form(action, request.POST if request.method == "POST" else None, req)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                return _done(request, req.item, _perform(request.user, action, req, form))
            except Conflict as exc:
                return _link_error(request, str(exc), 409)
            except StaleVersion as exc:
                return _link_error(request, str(exc), 409)
            except PermissionDenied as exc:
                return _link_error(request, str(exc), 403)
            except ValidationError as exc:
                show_errors(form, exc)
    item = req.item
    return render(request, "support/answer.html", {
        "req": req, "item": item, "action": action, "form": form,
        "account": item.account if record_visible(request.user, item.account) else None,
        "contact": item.contact if record_visible(request.user, item.contact) else None,
        "links": {name: reverse("support_answer", args=[token, name]) for name in services.LINK_ACTIONS},
    }, status=status)


# --- On the item's page ----------------------------------------------------------------------------


def _request_of(request: HttpRequest, item: SupportItem) -> SupportRequest:
    """The request the form names (it must be about this item), else the item's open one."""
    public_id = request.POST.get("request", "").strip()
    if not public_id:
        pending = selectors.pending_request(item)
        if pending is None:
            raise Conflict(_("Nobody is being asked to handle %s now.") % item.reference)
        return pending
    req = selectors.request_get(user=request.user, public_id=public_id)
    if req.item_id != item.pk:
        raise Http404
    return req


def _in_app(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    item = selectors.support_item_get(user=request.user, public_id=public_id)
    form: Form
    try:
        if action == "assign":
            req = None
            form = AssignForm(request.POST, exclude=[item.assignee])
        else:
            req = _request_of(request, item)
            form = _form(action, request.POST, req)
        if not form.is_valid():
            return _page_again(request, public_id, action, form, status=400)
        if req is None:
            assignee = form.cleaned_data["assignee"]
            services.support_assign(actor=request.user, item=item, recipient=assignee,
                                    message=form.cleaned_data["message"], version=form.cleaned_data.get("version"))
            text = _("%(ref)s was assigned to %(who)s; they were asked to accept it.") % {
                "ref": item.reference, "who": assignee.display_name}
            if assignee.pk == request.user.pk:
                text = _("You took %(ref)s on. It is on your task list.") % {"ref": item.reference}
            return _done(request, item, text)
        return _done(request, item, _perform(request.user, action, req, form))
    except (Conflict, StaleVersion) as exc:
        return _page_again(request, public_id, action, None, status=409, error=str(exc))
    except ValidationError as exc:
        show_errors(form, exc)
        return _page_again(request, public_id, action, form, status=400)


def _page_again(request: HttpRequest, public_id: str, action: str, form: Form | None, *, status: int,
                error: str = "") -> HttpResponse:
    """The item's page again, with the form as it was posted and why it did not go through."""
    context = detail_context(request, public_id)
    if form is not None:
        context["assign_form" if action in ("assign", "reassign") else f"{action}_form"] = form
    context["action_error"] = error
    context["open_action"] = action
    return render(request, "support/item_detail.html", context, status=status)


@login_required
@require_POST
def support_assign(request: HttpRequest, public_id: str) -> HttpResponse:
    """Ask someone to handle the item. With `request` posted, its recipient passes it on."""
    return _in_app(request, public_id, "reassign" if request.POST.get("request") else "assign")


@login_required
@require_POST
def support_accept(request: HttpRequest, public_id: str) -> HttpResponse:
    return _in_app(request, public_id, "accept")


@login_required
@require_POST
def support_decline(request: HttpRequest, public_id: str) -> HttpResponse:
    return _in_app(request, public_id, "decline")


# --- My Home -----------------------------------------------------------------------------------------


@login_required
def support_awaiting(request: HttpRequest) -> HttpResponse:
    """The requests waiting for the user's answer, oldest first: a panel of My Home (empty if none)."""
    requests = selectors.awaiting_answer(user=request.user)
    if not requests:
        return HttpResponse("")
    return render(request, "support/_awaiting_panel.html", {"requests": requests})
