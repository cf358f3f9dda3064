"""Pages of the sales area: opportunities, the pipeline board and the forecast.

Thin: parse, call a selector or service, render. The list, form, delete and undo
follow the account pages (rapport/directory/views.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities.selectors import panel_record
from rapport.core.access import can, record_visible
from rapport.core.errors import StaleVersion
from rapport.core.listing import PAGE_SIZE, filter_params, sort_links
from rapport.core.models import Action
from rapport.core.pagination import capped_count, keyset_page, parse_limit, parse_ordering
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show, safe_next, show_saved
from rapport.core.selectors import user_choices
from rapport.core.text import int_or_none
from rapport.directory.models import Account, Contact
from rapport.directory.selectors import account_choices
from rapport.sales import selectors, services
from rapport.sales.filters import OPPORTUNITY_ORDERINGS
from rapport.sales.forms.opportunities import (
    ContactRoleFormSet,
    MoreContactRolesFormSet,
    OpportunityForm,
    grouped_stage_choices,
)
from rapport.sales.models import Opportunity, Pipeline

RECORD_TYPE = Opportunity.record_type
# What the shared directory partials (_record_actions.html) need to build this record type's URLs.
PAGES = SimpleNamespace(name=RECORD_TYPE)
# Form-only parameters of the list's filter form (the account picker's search box).
NOT_FILTERS = ("lookup",)






# --- The list -----------------------------------------------------------------------------------


def _list_params(request: HttpRequest) -> QueryDict:
    params = filter_params(request)
    for name in NOT_FILTERS:
        params.pop(name, None)
    return params


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """A filtered, sorted, keyset-paged list. With htmx, only the results are re-rendered."""
    if not can(request.user, RECORD_TYPE, Action.READ):
        raise PermissionDenied
    params = _list_params(request)
    if request.GET.get("part") == "count":
        try:
            total, more = capped_count(selectors.opportunity_list(user=request.user, params=params))
        except ValidationError:
            return HttpResponse("", status=400)
        return render(request, "directory/_count.html", {"total": total, "more": more})
    error = None
    status = 200
    page = None
    ordering_raw = request.GET.get("ordering") or "name"
    link_params = params.copy()
    try:
        ordering = parse_ordering(ordering_raw, OPPORTUNITY_ORDERINGS, "name")
        qs = selectors.opportunity_list(user=request.user, params=params)
        limit = parse_limit(request.GET.get("limit"), PAGE_SIZE)
        if limit != PAGE_SIZE:
            link_params["limit"] = str(limit)
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=limit)
    except ValidationError as exc:
        error = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
        status = 400
        ordering_raw = "name"
    base_query = link_params.urlencode()
    selected_account = None
    if params.get("account"):
        selected_account = account_choices(user=request.user).filter(public_id=params["account"]).first()
    context = {
        "pages": PAGES,
        "page": page,
        "items": page.items if page else [],
        "error": error,
        "params": params,
        "ordering": ordering_raw,
        "base_query": base_query,
        "sort_links": sort_links(base_query, ordering_raw, OPPORTUNITY_ORDERINGS),
        "owners": user_choices(user=request.user),
        "selected_owner": params.get("owner", ""),
        "stage_groups": grouped_stage_choices(list(selectors.stage_choices(active_only=False))),
        "selected_account": selected_account,
        "detail_prefix": reverse("opportunity_list"),
        "can_create": can(request.user, RECORD_TYPE, Action.CREATE),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "sales/_opportunity_results.html", context, status=status)
    return render(request, "sales/opportunity_list.html", context, status=status)


# --- The board ----------------------------------------------------------------------------------


def _board_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
    """The board for `query` (pipeline, owner): its columns, each card marked with whether the user may move it."""
    pipeline = None
    if pipeline_id := (query.get("pipeline") or "").strip():
        pipeline = Pipeline.objects.filter(public_id=pipeline_id).first()
        if pipeline is None:
            raise Http404
    owner = (query.get("owner") or "").strip()
    context = selectors.pipeline_board(user=request.user, pipeline=pipeline, params={"owner": owner} if owner else {})
    stages = [column.stage for column in context["columns"]]
    for column in context["columns"]:
        for card in column.cards:
            card.movable = can(request.user, RECORD_TYPE, Action.UPDATE, card)
    board_query = QueryDict(mutable=True)
    board_query["pipeline"] = context["pipeline"].public_id
    if owner:
        board_query["owner"] = owner
    context.update({
        "stages": stages,
        # Each card's Move list and links are built from these, not a reverse() or a loop per card:
        # a board shows up to a few hundred cards.
        "stage_options": [(stage.public_id, stage.name) for stage in stages],
        "detail_prefix": reverse("opportunity_list"),
        "owners": user_choices(user=request.user),
        "selected_owner": owner,
        "board_url": f"{reverse('opportunity_board')}?{board_query.urlencode()}",
        "can_create": can(request.user, RECORD_TYPE, Action.CREATE),
    })
    return context


@login_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    """One column per stage of a pipeline; cards move by drag and drop or by each card's small form."""
    if not can(request.user, RECORD_TYPE, Action.READ):
        raise PermissionDenied
    status = 200
    try:
        context = _board_context(request, request.GET)
    except ValidationError as exc:  # an unknown owner in the filter, or no pipeline set up at all
        status = 400 if Pipeline.objects.exists() else 200
        context = {"notice": error_text(exc), "notice_error": True, "columns": [], "pipelines": [],
                   "can_create": False}
        if status == 400:
            context = {**_board_context(request, QueryDict(f"pipeline={request.GET.get('pipeline', '')}")
                                        if request.GET.get("pipeline") else QueryDict()),
                       "notice": context["notice"], "notice_error": True}
    if request.htmx and request.htmx.target == "board":
        return render(request, "sales/_opportunity_board.html", context, status=status)
    return render(request, "sales/opportunity_board.html", context, status=status)


@login_required
@require_POST
def opportunity_move(request: HttpRequest, public_id: str) -> HttpResponse:
    """A card dropped on another column (or moved with its form): the deal enters that stage."""
    opportunity = selectors.opportunity_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    fallback = f"{reverse('opportunity_board')}?pipeline={opportunity.stage.pipeline.public_id}"
    next_url = safe_next(request, fallback)
    status = 200
    try:
        try:
            stage = selectors.stage_get(request.POST.get("stage") or "")
        except Http404:
            raise ValidationError({"stage": [_("Choose a stage to move the deal to.")]}) from None
        moved = services.opportunity_move(actor=request.user, opportunity=opportunity, stage=stage,
                                          version=int_or_none(request.POST.get("version")))
        notice = _("%(name)s moved to %(stage)s.") % {"name": moved, "stage": stage}
    except StaleVersion as exc:
        status, notice = 409, str(exc)
    except ValidationError as exc:
        status, notice = 400, error_text(exc)
    if request.htmx:
        # The board is drawn again, so the card, both columns' totals and any change by others show at once.
        query = QueryDict(urlsplit(next_url).query) if urlsplit(next_url).path == reverse("opportunity_board") \
            else QueryDict(f"pipeline={opportunity.stage.pipeline.public_id}")
        try:
            context = _board_context(request, query)
        except (ValidationError, Http404):
            context = _board_context(request, QueryDict(f"pipeline={opportunity.stage.pipeline.public_id}"))
        context.update({"notice": notice, "notice_error": status != 200})
        return render(request, "sales/_opportunity_board.html", context, status=status)
    if status == 400:
        context = _board_context(request, QueryDict(f"pipeline={opportunity.stage.pipeline.public_id}"))
        context.update({"notice": notice, "notice_error": True})
        return render(request, "sales/opportunity_board.html", context, status=400)
    (messages.success if status == 200 else messages.error)(request, notice)
    return redirect(next_url)


# --- The forecast -------------------------------------------------------------------------------

CHART_HEIGHT = 160
CHART_BAR = 56
CHART_GAP = 16
CHART_TOP = 22  # room for the value above the tallest bar
CHART_BOTTOM = 22  # room for the month under the bars


@dataclass
class Bar:
    month: dt.date
    value: Decimal
    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> int:
        return self.x + self.width // 2


@dataclass
class Chart:
    currency: str
    bars: list[Bar]
    width: int
    height: int
    baseline: int

    @property
    def min_width(self) -> int:
        """Narrower than this the labels overlap: on a phone, a long period scrolls sideways instead."""
        return self.width * 3 // 5


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def forecast_charts(result: selectors.Forecast) -> list[Chart]:
    """Bars of the weighted amount per month, one chart per currency (amounts are never added across them)."""
    months = _months(result.start, result.end)
    by_currency: dict[str, dict[dt.date, Decimal]] = {}
    for row in result.by_month:
        by_currency.setdefault(row.currency, {})[row.key] = row.weighted
    charts = []
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    for currency, values in sorted(by_currency.items()):
        top = max(values.values(), default=Decimal(0)) or Decimal(1)
        bars = []
        for index, month in enumerate(months):
            value = values.get(month, Decimal(0))
            height = int(plot * value / top) if value else 0
            bars.append(Bar(month=month, value=value, x=CHART_GAP + index * (CHART_BAR + CHART_GAP),
                            y=CHART_TOP + plot - height, width=CHART_BAR, height=height))
        charts.append(Chart(currency=currency, bars=bars, width=CHART_GAP + len(months) * (CHART_BAR + CHART_GAP),
                            height=CHART_HEIGHT, baseline=CHART_TOP + plot))
    return charts


@login_required
def opportunity_forecast(request: HttpRequest) -> HttpResponse:
    """Open deals expected to close in a period: by month, by owner, in total, weighted by probability."""
    if not can(request.user, RECORD_TYPE, Action.READ):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    result = None
    try:
        result = selectors.forecast(user=request.user, params=request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
    return render(request, "sales/opportunity_forecast.html", {
        "result": result,
        "charts": forecast_charts(result) if result else [],
        "errors": errors,
        "from_value": request.GET.get("from") or (result.start.strftime("%Y-%m") if result else ""),
        "to_value": request.GET.get("to") or (result.end.strftime("%Y-%m") if result else ""),
        "owners": user_choices(user=request.user),
        "selected_owner": request.GET.get("owner", ""),
    }, status=400 if errors else 200)


# --- One opportunity ----------------------------------------------------------------------------


@login_required
def opportunity_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    context = selectors.opportunity_detail(user=request.user, public_id=public_id)
    opportunity = context["opportunity"]
    context.update({
        "pages": PAGES,
        "record": opportunity,
        "can_update": can(request.user, RECORD_TYPE, Action.UPDATE, opportunity),
        "can_delete": can(request.user, RECORD_TYPE, Action.DELETE, opportunity),
        "close_warning": services.close_date_warning(opportunity),
    })
    return render(request, "sales/opportunity_detail.html", context)


def _initial_contacts(request: HttpRequest, record: Opportunity | None) -> list[dict[str, str]]:
    if record is not None:
        return [{"contact": row.contact.public_id, "role": row.role}
                for row in selectors.visible_contact_roles(user=request.user, opportunity=record)]
    contact_id = request.GET.get("contact")
    if contact_id and Contact.objects.visible_to(request.user).filter(public_id=contact_id).exists():
        return [{"contact": contact_id, "role": ""}]
    return []


@login_required
def opportunity_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a deal and its people. A stale version re-shows the form with the reason (409)."""
    record = None
    if public_id is not None:
        record = selectors.opportunity_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, RECORD_TYPE, Action.CREATE):
        raise PermissionDenied
    account = None
    if record is None and request.GET.get("account"):
        account = account_choices(user=request.user).filter(public_id=request.GET["account"]).first()
    form = OpportunityForm(request.POST or None, instance=record, user=request.user, account=account)
    initial = _initial_contacts(request, record)
    formset_class = MoreContactRolesFormSet if initial else ContactRoleFormSet
    contacts = formset_class(request.POST or None, prefix="contacts", form_kwargs={"user": request.user},
                             initial=initial)
    # A post without the people part (a script, an old page) leaves the deal's people as they are.
    posts_contacts = request.method == "POST" and f"{contacts.prefix}-TOTAL_FORMS" in request.POST
    conflict = None
    denied = False
    status = 200
    if request.method == "POST":
        if form.is_valid() and (not posts_contacts or contacts.is_valid()):
            roles = None
            if posts_contacts:
                roles = contacts.contact_roles()
                if record is not None:  # people this user may not see stay on the deal
                    roles += selectors.hidden_contact_roles(user=request.user, opportunity=record)
            try:
                if record is None:
                    record = services.opportunity_create(actor=request.user, data=form.record_data(),
                                                         contacts=roles or [])
                    messages.success(request, _("%(name)s was created.") % {"name": record})
                else:
                    record = services.opportunity_update(actor=request.user, opportunity=record,
                                                         data=form.record_data(), contacts=roles,
                                                         version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                if warning := services.close_date_warning(record):
                    messages.warning(request, warning)
                return show_saved(request, record=record, detail="opportunity_detail", then="opportunity_list")
            except StaleVersion as exc:
                conflict = exc
            except PermissionDenied as exc:  # an owner outside the user's scope: said on the field
                form.add_error("owner", str(exc))
                denied = True
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
        status = 409 if conflict else 403 if denied else 400
    return render(request, "sales/opportunity_form.html", {
        "form": form, "contacts": contacts, "record": record, "conflict": conflict,
    }, status=status)


@login_required
@require_POST
def opportunity_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = selectors.opportunity_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=opportunity, detail="opportunity_detail", restore="opportunity_restore",
        then="opportunity_list",
        delete=lambda version: services.opportunity_delete(actor=request.user, opportunity=opportunity,
                                                           version=version))


@login_required
@require_POST
def opportunity_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = selectors.opportunity_get(user=request.user, public_id=public_id, action=Action.DELETE,
                                            deleted=True)
    return restore_and_show(request, record=opportunity, detail="opportunity_detail", then="opportunity_list",
                            restore=lambda: services.opportunity_restore(actor=request.user, opportunity=opportunity))


# --- Panels and pickers -------------------------------------------------------------------------


@login_required
def record_opportunities(request: HttpRequest, ref: str) -> HttpResponse:
    """The Opportunities panel of an account or contact page, loaded after the page."""
    record = panel_record(user=request.user, ref=ref, types=("account", "contact"))
    rows: list[tuple[Opportunity, str | None]]
    account: Account | None
    if isinstance(record, Account):
        rows = [(opportunity, None) for opportunity in
                selectors.account_opportunities(user=request.user, account=record)]
        account = record
    elif isinstance(record, Contact):
        rows = [(row.opportunity, row.role) for row in
                selectors.contact_opportunities(user=request.user, contact=record)]
        prefetch_related_objects([opportunity for opportunity, _role in rows], "owner")  # one query, not one a row
        account = record.account if record_visible(request.user, record.account) else None
    else:
        raise Http404
    return render(request, "sales/_opportunity_panel.html", {
        "record": record,
        "rows": rows,
        "account": account,
        "is_contact": isinstance(record, Contact),
        "can_create": can(request.user, RECORD_TYPE, Action.CREATE),
    })


urlpatterns: list[URLPattern] = [
    path("opportunities/", opportunity_list, name="opportunity_list"),
    path("opportunities/board/", opportunity_board, name="opportunity_board"),
    path("opportunities/forecast/", opportunity_forecast, name="opportunity_forecast"),
    path("opportunities/new/", opportunity_form, name="opportunity_create"),
    path("opportunities/about/<str:ref>/", record_opportunities, name="record_opportunities"),
    path("opportunities/<str:public_id>/", opportunity_detail, name="opportunity_detail"),
    path("opportunities/<str:public_id>/edit/", opportunity_form, name="opportunity_edit"),
    path("opportunities/<str:public_id>/move/", opportunity_move, name="opportunity_move"),
    path("opportunities/<str:public_id>/delete/", opportunity_delete, name="opportunity_delete"),
    path("opportunities/<str:public_id>/restore/", opportunity_restore, name="opportunity_restore"),
]
