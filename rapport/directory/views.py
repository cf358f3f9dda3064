"""Pages for accounts and contacts. Thin: parse, call a selector or service, render.

Accounts and contacts have the same page shapes, so one set of views serves
both, configured by a `DirectoryPages` each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rapport.core.access import can
from rapport.core.errors import PossibleDuplicate, StaleVersion
from rapport.core.listing import filter_params, sort_links
from rapport.core.models import Action
from rapport.core.pagination import capped_count, keyset_page, parse_limit, parse_ordering
from rapport.core.record_views import delete_and_offer_undo, restore_and_show, show_saved
from rapport.core.selectors import user_choices
from rapport.directory import selectors, services
from rapport.directory.filters import ACCOUNT_ORDERINGS, CONTACT_ORDERINGS
from rapport.directory.forms import AccountForm, AddressFormSet, ContactForm
from rapport.directory.models import Account, Address, Contact, RelationshipStage

PAGE_SIZE = 50


@dataclass(frozen=True)
class DirectoryPages:
    """What differs between the account pages and the contact pages."""

    name: str  # "account" / "contact": template and URL name prefix
    model: type[Model]
    list_selector: Callable[..., Any]
    detail_selector: Callable[..., dict[str, Any]]
    get_selector: Callable[..., Any]
    form_class: type[Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    restore: Callable[..., Any]
    orderings: dict[str, str]
    title: Any
    new_title: Any


ACCOUNT_PAGES = DirectoryPages(
    name="account", model=Account, list_selector=selectors.account_rows,
    detail_selector=selectors.account_detail, get_selector=selectors.account_get, form_class=AccountForm,
    create=services.account_create, update=services.account_update, delete=services.account_delete,
    restore=services.account_restore, orderings=ACCOUNT_ORDERINGS, title=gettext_lazy("Accounts"),
    new_title=gettext_lazy("New account"),
)
CONTACT_PAGES = DirectoryPages(
    name="contact", model=Contact, list_selector=selectors.contact_rows,
    detail_selector=selectors.contact_detail, get_selector=selectors.contact_get, form_class=ContactForm,
    create=services.contact_create, update=services.contact_update, delete=services.contact_delete,
    restore=services.contact_restore, orderings=CONTACT_ORDERINGS, title=gettext_lazy("Contacts"),
    new_title=gettext_lazy("New contact"),
)


@login_required
def record_list(request: HttpRequest, *, pages: DirectoryPages) -> HttpResponse:
    """A filtered, sorted, keyset-paged list. With htmx, only the results are re-rendered."""
    if not can(request.user, pages.name, Action.READ):
        raise PermissionDenied
    params = filter_params(request)
    if request.GET.get("part") == "count":
        return _record_count(request, pages=pages, params=params)
    error = None
    status = 200
    page = None
    ordering_raw = request.GET.get("ordering") or "name"
    link_params = params.copy()  # what every sort and pager link carries
    try:
        ordering = parse_ordering(ordering_raw, pages.orderings, "name")
        qs = pages.list_selector(user=request.user, params=params)
        limit = parse_limit(request.GET.get("limit"), PAGE_SIZE)
        if limit != PAGE_SIZE:
            link_params["limit"] = str(limit)
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=limit)
    except ValidationError as exc:
        error = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
        status = 400
        ordering_raw = "name"
    base_query = link_params.urlencode()
    context = {
        "pages": pages,
        "page": page,
        "items": page.items if page else [],
        "error": error,
        "params": params,
        "ordering": ordering_raw,
        "base_query": base_query,
        "sort_links": sort_links(base_query, ordering_raw, pages.orderings),
        "owners": user_choices(user=request.user),
        # Row links are built from one prefix rather than one reverse() per row.
        "detail_prefix": reverse(f"{pages.name}_list"),
        "selected_owner": params.get("owner", ""),
        "stages": RelationshipStage.choices,
        "can_create": can(request.user, pages.name, Action.CREATE),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, f"directory/_{pages.name}_results.html", context, status=status)
    return render(request, f"directory/{pages.name}_list.html", context, status=status)


def _record_count(request: HttpRequest, *, pages: DirectoryPages, params: QueryDict) -> HttpResponse:
    """The list's total, exact up to 1,000: fetched by the page after its rows, so they show at once."""
    try:
        total, more = capped_count(pages.list_selector(user=request.user, params=params))
    except ValidationError:
        return HttpResponse("", status=400)
    return render(request, "directory/_count.html", {"total": total, "more": more})


@login_required
def record_detail(request: HttpRequest, public_id: str, *, pages: DirectoryPages) -> HttpResponse:
    context = pages.detail_selector(user=request.user, public_id=public_id)
    record = context[pages.name]
    context.update({
        "pages": pages,
        "record": record,
        "can_update": can(request.user, pages.name, Action.UPDATE, record),
        "can_delete": can(request.user, pages.name, Action.DELETE, record),
    })
    return render(request, f"directory/{pages.name}_detail.html", context)


def _address_formset(request: HttpRequest, record: Any) -> Any:
    queryset = record.addresses.all() if record is not None else Address.objects.none()
    return AddressFormSet(request.POST or None, queryset=queryset, prefix="addresses")


@login_required
def record_form(request: HttpRequest, public_id: str | None = None, *, pages: DirectoryPages) -> HttpResponse:
    """Create or edit. A stale version or a possible duplicate re-shows the form with the reason."""
    record = None
    if public_id is not None:
        record = pages.get_selector(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, pages.name, Action.CREATE):
        raise PermissionDenied
    form = pages.form_class(request.POST or None, instance=record, user=request.user)
    addresses = _address_formset(request, record)
    duplicates: list[Any] = []
    conflict = None
    denied = False
    status = 200
    if request.method == "POST":
        if form.is_valid() and addresses.is_valid():
            address_data = [data for f in addresses.forms if (data := f.address_data()) is not None]
            try:
                if record is None:
                    record = pages.create(actor=request.user, data=form.record_data(), addresses=address_data,
                                          confirm_duplicate=form.cleaned_data.get("confirm_duplicate", False))
                    messages.success(request, _("%(name)s was created.") % {"name": record})
                else:
                    record = pages.update(actor=request.user, **{pages.name: record}, data=form.record_data(),
                                          version=form.cleaned_data.get("version"), addresses=address_data)
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=record, detail=f"{pages.name}_detail", then=f"{pages.name}_list")
            except PossibleDuplicate as exc:
                duplicates = exc.duplicates
                form.data = form.data.copy()
                form.data["confirm_duplicate"] = "on"
            except StaleVersion as exc:
                conflict = exc
            except PermissionDenied as exc:  # an owner outside the user's scope: say so on the field
                form.add_error("owner", str(exc))
                denied = True
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
        status = 409 if (duplicates or conflict) else 403 if denied else 400
    return render(request, "directory/record_form.html", {
        "pages": pages, "form": form, "addresses": addresses, "record": record,
        "duplicates": duplicates, "conflict": conflict,
    }, status=status)


@login_required
@require_POST
def record_delete(request: HttpRequest, public_id: str, *, pages: DirectoryPages) -> HttpResponse:
    record = pages.get_selector(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=record, detail=f"{pages.name}_detail", restore=f"{pages.name}_restore",
        then=f"{pages.name}_list",
        delete=lambda version: pages.delete(actor=request.user, **{pages.name: record}, version=version))


@login_required
@require_POST
def record_restore(request: HttpRequest, public_id: str, *, pages: DirectoryPages) -> HttpResponse:
    record = pages.get_selector(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=record, detail=f"{pages.name}_detail", then=f"{pages.name}_list",
                            restore=lambda: pages.restore(actor=request.user, **{pages.name: record}))


@login_required
def contact_lookup(request: HttpRequest) -> HttpResponse:
    """Options for a contact picker: the contacts whose name starts with what was typed."""
    query = (request.GET.get("lookup") or "").strip()[:100]
    selected = request.GET.get("selected", "")
    options = selectors.contact_lookup(user=request.user, query=query)
    current = None
    if selected and all(c.public_id != selected for c in options):
        current = selectors.contact_choices(user=request.user).filter(public_id=selected).first()
    return render(request, "directory/_contact_options.html",
                  {"options": options, "current": current, "selected": selected})


@login_required
def account_lookup(request: HttpRequest) -> HttpResponse:
    """Options for an account picker: the accounts whose name starts with what was typed."""
    query = (request.GET.get("lookup") or "").strip()[:100]
    selected = request.GET.get("selected", "")
    options = selectors.account_lookup(user=request.user, query=query)
    current = None
    if selected and all(a.public_id != selected for a in options):
        current = selectors.account_choices(user=request.user).filter(public_id=selected).first()
    return render(request, "directory/_account_options.html",
                  {"options": options, "current": current, "selected": selected, "query": query})


# --- The relationship cycle ------------------------------------------------------------------------

# The stages as the chart stacks them, bottom up: the order of the cycle, then "no stage".
CHART_WIDTH, CHART_HEIGHT = 640, 230
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 40, 8, 12, 42


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... at least `value`: a round top for the chart's scale."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def stage_chart(months: list[selectors.StageMonth], stages: list[tuple[str, Any]]) -> dict[str, Any]:
    """The geometry of the stage-changes chart: a bar per month, stacked by the stage entered."""
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    top = _nice_ceiling(max([month.total for month in months] + [1]))
    slot = plot_width / max(len(months), 1)
    bars = []
    for index, month in enumerate(months):
        x = CHART_LEFT + index * slot
        base = CHART_TOP + plot_height
        segments = []
        for value, label in stages:
            count = month.counts.get(value, 0)
            if not count:
                continue
            height = count / top * plot_height
            base -= height
            segments.append({"y": round(base, 1), "height": round(height, 1), "stage": value or "none",
                             "label": label, "count": count})
        bars.append({"month": month.month, "total": month.total, "x": round(x + slot * .2, 1),
                     "width": round(slot * .6, 1), "center": round(x + slot / 2, 1), "segments": segments,
                     "total_y": round(base - 4, 1), "show_year": index == 0 or month.month.month == 1})
    ticks = [{"value": value, "y": round(CHART_TOP + plot_height - value / top * plot_height, 1)}
             for value in sorted({0, top // 2, top})]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "right": CHART_WIDTH - CHART_RIGHT,
            "bottom": CHART_TOP + plot_height, "label_y": CHART_TOP + plot_height + 16,
            "year_y": CHART_TOP + plot_height + 32, "bars": bars, "ticks": ticks}


@login_required
def account_stages(request: HttpRequest) -> HttpResponse:
    """The relationship cycle: visible accounts per stage, and the stage changes of the last 12 months."""
    if not can(request.user, ACCOUNT_PAGES.name, Action.READ):
        raise PermissionDenied
    summary = selectors.account_stage_summary(user=request.user)
    return render(request, "directory/account_stages.html", {
        **summary, "chart": stage_chart(summary["months"], summary["stages"])})
