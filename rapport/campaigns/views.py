"""Pages of distribution lists and campaigns, the "Distribution lists" panel of account and contact
pages, and the public unsubscribe page. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.activities.selectors import panel_record
from rapport.campaigns import selectors, services
from rapport.campaigns.filters import (
    CAMPAIGN_ORDERINGS,
    LIST_ORDERINGS,
    RECIPIENT_ORDERINGS,
)
from rapport.campaigns.forms import CampaignForm, DistributionListForm, MemberForm, PreviewForm
from rapport.campaigns.models import Campaign, CampaignStatus, DistributionList, ListKind, RecipientStatus
from rapport.core.access import can
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.listing import PAGE_SIZE, filter_params, list_context, list_count, sort_links
from rapport.core.models import Action
from rapport.core.pagination import capped_count, keyset_page, parse_limit, parse_ordering
from rapport.core.record_views import (
    delete_and_offer_undo,
    error_text,
    restore_and_show,
    show_errors,
    show_saved,
)
from rapport.core.text import int_or_none
from rapport.directory.selectors import contact_choices

LIST = DistributionList.record_type
CAMPAIGN = Campaign.record_type
MEMBER_ORDERINGS = {"name": "name_key"}


def _paged(request: HttpRequest, qs_for: Callable[[Any], Any], orderings: dict[str, str],
           default: str) -> tuple[dict[str, Any], int]:
    """A keyset page of a record's rows (members, recipients): filters from the query string."""
    params = filter_params(request)
    link_params = params.copy()
    ordering_raw = request.GET.get("ordering") or default
    page, error = None, None
    try:
        ordering = parse_ordering(ordering_raw, orderings, default)
        limit = parse_limit(request.GET.get("limit"), PAGE_SIZE)
        if limit != PAGE_SIZE:
            link_params["limit"] = str(limit)
        page = keyset_page(qs_for(params), ordering=ordering, cursor=request.GET.get("cursor"), limit=limit)
    except ValidationError as exc:
        error = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
        ordering_raw = default
    base_query = link_params.urlencode()
    return {"page": page, "items": page.items if page else [], "error": error, "params": params,
            "ordering": ordering_raw, "base_query": base_query,
            "sort_links": sort_links(base_query, ordering_raw, orderings)}, 400 if error else 200


def _count(request: HttpRequest, qs_for: Callable[[Any], Any]) -> HttpResponse:
    try:
        total, more = capped_count(qs_for(filter_params(request)))
    except ValidationError:
        return HttpResponse("", status=400)
    return render(request, "directory/_count.html", {"total": total, "more": more})


# --- Distribution lists ------------------------------------------------------------------------------


@login_required
def distribution_list_list(request: HttpRequest) -> HttpResponse:
    """Lists by name, category and kind; with htmx, only the results are re-rendered."""
    if not can(request.user, LIST, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.distribution_list_list)
    context, status = list_context(request, selector=selectors.distribution_list_list, orderings=LIST_ORDERINGS,
                                   default_ordering="name", name=LIST)
    context.update({"categories": selectors.list_categories(user=request.user), "kinds": ListKind.choices})
    if request.htmx and request.htmx.target == "results":
        return render(request, "campaigns/_list_results.html", context, status=status)
    return render(request, "campaigns/list_list.html", context, status=status)


def _list_form(request: HttpRequest, distribution_list: DistributionList | None) -> HttpResponse:
    form = DistributionListForm(request.POST or None, instance=distribution_list, user=request.user)
    conflict, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if distribution_list is None:
                    saved = services.distribution_list_create(actor=request.user, data=form.record_data())
                    messages.success(request, _("%(name)s was created.") % {"name": saved.name})
                else:
                    saved = services.distribution_list_update(actor=request.user, distribution_list=distribution_list,
                                                              data=form.record_data(),
                                                              version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=saved, detail="distribution_list_detail",
                                  then="distribution_list_list")
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc, rename={"criteria": "filter_q"})
    return render(request, "campaigns/list_form.html", {"form": form, "distribution_list": distribution_list,
                                                        "conflict": conflict}, status=status)


@login_required
def distribution_list_create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, LIST, Action.CREATE):
        raise PermissionDenied
    return _list_form(request, None)


@login_required
def distribution_list_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    return _list_form(request, distribution_list)


def _members_for(request: HttpRequest, distribution_list: DistributionList) -> Callable[[Any], Any]:
    def members(params: Any) -> Any:
        if params:
            raise ValidationError({name: [_("Unknown filter.")] for name in params})
        return selectors.member_rows(user=request.user, distribution_list=distribution_list)
    return members


@login_required
def distribution_list_detail(request: HttpRequest, public_id: str, member_form: MemberForm | None = None,
                             status: int = 200) -> HttpResponse:
    """A list: its filter or its people (as the viewer sees them), 50 to a page, and its history."""
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id)
    members = _members_for(request, distribution_list)
    if request.GET.get("part") == "count":
        return _count(request, members)
    context, page_status = _paged(request, members, MEMBER_ORDERINGS, "name")
    context.update(selectors.list_detail(user=request.user, distribution_list=distribution_list))
    static = distribution_list.kind == ListKind.STATIC
    may_change = can(request.user, LIST, Action.UPDATE, distribution_list)
    context.update({
        "record": distribution_list,
        "pages": {"name": LIST},
        "can_update": may_change,
        "can_delete": can(request.user, LIST, Action.DELETE, distribution_list),
        "can_add": static and may_change,
        "member_form": member_form or (MemberForm(user=request.user) if static and may_change else None),
        "campaign_url": f"{reverse('campaign_create')}?list={distribution_list.public_id}"
        if can(request.user, CAMPAIGN, Action.CREATE) else None,
    })
    return render(request, "campaigns/list_detail.html", context, status=max(status, page_status))


@login_required
@require_POST
def distribution_list_member_add(request: HttpRequest, public_id: str) -> HttpResponse:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    form = MemberForm(request.POST, user=request.user)
    if form.is_valid():
        contact = form.cleaned_data["contact"]
        try:
            added = services.list_members_add(actor=request.user, distribution_list=distribution_list,
                                              contacts=[contact])
        except ValidationError as exc:
            show_errors(form, exc, rename={"contacts": "contact"})
        else:
            if added:
                messages.success(request, _("%(who)s is on the list now.") % {"who": contact.full_name})
            else:
                messages.info(request, _("%(who)s was on the list already.") % {"who": contact.full_name})
            return redirect("distribution_list_detail", public_id=public_id)
    return distribution_list_detail(request, public_id, member_form=form, status=400)


@login_required
@require_POST
def distribution_list_member_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    contact = contact_choices(user=request.user).filter(public_id=request.POST.get("contact", "")).first()
    if contact is None:
        raise Http404
    try:
        removed = services.list_member_remove(actor=request.user, distribution_list=distribution_list,
                                              contact=contact)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if removed:
            messages.success(request, _("%(who)s was taken off the list.") % {"who": contact.full_name})
    return redirect("distribution_list_detail", public_id=public_id)


@login_required
@require_POST
def distribution_list_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id, action=Action.DELETE)
    try:
        return delete_and_offer_undo(
            request, record=distribution_list, detail="distribution_list_detail", restore="distribution_list_restore",
            then="distribution_list_list",
            delete=lambda version: services.distribution_list_delete(actor=request.user,
                                                                     distribution_list=distribution_list,
                                                                     version=version))
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("distribution_list_detail", public_id=public_id)


@login_required
@require_POST
def distribution_list_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=public_id, action=Action.DELETE,
                                                        deleted=True)
    return restore_and_show(request, record=distribution_list, detail="distribution_list_detail",
                            then="distribution_list_list",
                            restore=lambda: services.distribution_list_restore(actor=request.user,
                                                                               distribution_list=distribution_list))


# --- The panel of account and contact pages ---------------------------------------------------------------


@login_required
def record_distribution_lists(request: HttpRequest, ref: str) -> HttpResponse:
    """The lists an account's people, or a contact, are on (filtered by category); on a contact's page,
    "Add to list" posts here with the list's id."""
    record = panel_record(user=request.user, ref=ref, types=("account", "contact"))
    if request.method == "POST":
        if record.record_type != "contact":
            raise Http404
        chosen = request.POST.get("distribution_list", "").strip()
        if not chosen:
            messages.error(request, _("Choose a list."))
            return redirect("contact_detail", public_id=record.public_id)
        distribution_list = selectors.distribution_list_get(user=request.user, public_id=chosen,
                                                            action=Action.UPDATE)
        try:
            added = services.list_members_add(actor=request.user, distribution_list=distribution_list,
                                              contacts=[record])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            text = _("%(who)s is on %(list)s now.") if added else _("%(who)s was on %(list)s already.")
            messages.success(request, text % {"who": record.full_name, "list": distribution_list.name})
        return redirect("contact_detail", public_id=record.public_id)
    category = request.GET.get("category", "").strip()[:80]
    panel = selectors.record_lists(user=request.user, record=record, category=category)
    add_lists = selectors.lists_to_add_to(user=request.user) if record.record_type == "contact" else []
    on_lists = {row.distribution_list.pk for row in panel.rows}
    return render(request, "campaigns/_record_panel.html", {
        "record": record, "panel": panel, "category": category,
        "add_lists": [row for row in add_lists if row.pk not in on_lists],
        "can_create": can(request.user, LIST, Action.CREATE),
    })


# --- Campaigns ---------------------------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, CAMPAIGN, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.campaign_list)
    context, status = list_context(request, selector=selectors.campaign_list, orderings=CAMPAIGN_ORDERINGS,
                                   default_ordering="-created_at", name=CAMPAIGN)
    context["statuses"] = CampaignStatus.choices
    if request.htmx and request.htmx.target == "results":
        return render(request, "campaigns/_campaign_results.html", context, status=status)
    return render(request, "campaigns/campaign_list.html", context, status=status)


def _campaign_form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    initial = {}
    if campaign is None and (chosen := request.GET.get("list", "").strip()):
        initial["distribution_list"] = chosen
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user, initial=initial)
    conflict, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if campaign is None:
                    saved = services.campaign_create(actor=request.user, data=form.record_data())
                    messages.success(request, _("%(name)s was created as a draft.") % {"name": saved.name})
                else:
                    saved = services.campaign_update(actor=request.user, campaign=campaign, data=form.record_data(),
                                                     version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=saved, detail="campaign_detail", then="campaign_list")
            except (StaleVersion, Conflict) as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign,
                                                            "conflict": conflict}, status=status)


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, CAMPAIGN, Action.CREATE):
        raise PermissionDenied
    return _campaign_form(request, None)


@login_required
def campaign_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("campaign_detail", public_id=public_id)
    return _campaign_form(request, campaign)


def _recipients_for(user: Any, campaign: Campaign) -> Callable[[Any], Any]:
    return lambda params: selectors.recipient_list(user=user, campaign=campaign, params=params)


@login_required
def campaign_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A campaign: what it sends to whom, how far it got (counts per status), its recipients (filtered by
    status, 50 to a page) and a preview for a person on its list."""
    campaign = selectors.campaign_get(user=request.user, public_id=public_id)
    recipients = _recipients_for(request.user, campaign)
    if request.GET.get("part") == "count":
        return _count(request, recipients)
    context, status = _paged(request, recipients, RECIPIENT_ORDERINGS, "added")
    context.update(selectors.campaign_detail(user=request.user, campaign=campaign))
    may_change = can(request.user, CAMPAIGN, Action.UPDATE, campaign)
    draft = campaign.status == CampaignStatus.DRAFT
    counts = context["counts"]
    context.update({
        "record": campaign,
        "pages": {"name": CAMPAIGN},
        "can_update": may_change and draft,
        "can_delete": can(request.user, CAMPAIGN, Action.DELETE, campaign) and campaign.status != "sending",
        "can_start": may_change and draft,
        "can_cancel": may_change and campaign.status == CampaignStatus.SENDING,
        "status_links": [(value, label, counts[value]) for value, label in RecipientStatus.choices],
        "total": sum(counts.values()),
        "preview_form": PreviewForm(user=request.user,
                                    candidates=selectors.preview_candidates(user=request.user, campaign=campaign))
        if draft or campaign.status == CampaignStatus.SENDING else None,
    })
    if request.htmx and request.htmx.target == "results":
        return render(request, "campaigns/_recipient_results.html", context, status=status)
    return render(request, "campaigns/campaign_detail.html", context, status=status)


@login_required
def campaign_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """The campaign's message as one person would get it (the unsubscribe link is an example); without a
    choice, the first person on the list."""
    from rapport.templating.selectors import merge_contact_get

    campaign = selectors.campaign_get(user=request.user, public_id=public_id)
    chosen = request.GET.get("contact", "").strip()
    if not chosen:
        first = selectors.preview_candidates(user=request.user, campaign=campaign, limit=1)
        chosen = first[0].public_id if first else ""
    try:
        contact = merge_contact_get(user=request.user, public_id=chosen)
    except ValidationError as exc:
        return render(request, "campaigns/_preview.html", {"error": error_text(exc)}, status=400)
    subject, body, headers = services.message_for(campaign, None, contact=contact, token="preview")
    return render(request, "campaigns/_preview.html", {
        "contact": contact, "subject": subject, "body": body, "headers": headers,
        "from_email": campaign.from_email or _("the server's sender address")})


def _campaign_action(request: HttpRequest, public_id: str, act: Callable[[Campaign, int | None], Any],
                     done: str) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    try:
        act(campaign, int_or_none(request.POST.get("version")))
    except (Conflict, StaleVersion) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done % {"name": campaign.name})
    return redirect("campaign_detail", public_id=public_id)


@login_required
@require_POST
def campaign_start(request: HttpRequest, public_id: str) -> HttpResponse:
    return _campaign_action(
        request, public_id,
        lambda campaign, version: services.campaign_start(actor=request.user, campaign=campaign, version=version),
        _("%(name)s is sending. Its recipients are fixed; the first messages are on their way."))


@login_required
@require_POST
def campaign_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    return _campaign_action(
        request, public_id,
        lambda campaign, version: services.campaign_cancel(actor=request.user, campaign=campaign, version=version),
        _("%(name)s was cancelled: nobody else gets it."))


@login_required
@require_POST
def campaign_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, public_id=public_id, action=Action.DELETE)
    try:
        return delete_and_offer_undo(
            request, record=campaign, detail="campaign_detail", restore="campaign_restore", then="campaign_list",
            delete=lambda version: services.campaign_delete(actor=request.user, campaign=campaign, version=version))
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("campaign_detail", public_id=public_id)


@login_required
@require_POST
def campaign_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    campaign = selectors.campaign_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=campaign, detail="campaign_detail", then="campaign_list",
                            restore=lambda: services.campaign_restore(actor=request.user, campaign=campaign))


# --- Unsubscribing (public) --------------------------------------------------------------------------


@csrf_exempt  # the link's random token is the credential; mail providers post one-click unsubscribes (RFC 8058)
@xframe_options_deny
def campaign_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """No sign-in: GET asks to confirm (mail scanners open links), POST unsubscribes — from the page's
    button or a mail program's one-click request. Nothing about the person is shown."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if services.recipient_for_token(token) is None:
        return render(request, "campaigns/unsubscribe.html", {"unknown": True}, status=404)
    if request.method == "POST":
        services.recipient_unsubscribe(token=token)
        return render(request, "campaigns/unsubscribe.html", {"done": True})
    return render(request, "campaigns/unsubscribe.html", {"token": token})
