"""Pages of the sales area: orders. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities.selectors import panel_record
from rapport.core.access import can
from rapport.core.errors import StaleVersion
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, restore_and_show, show_errors, show_saved
from rapport.core.registry import detail_url
from rapport.core.text import int_or_none
from rapport.directory.selectors import account_choices
from rapport.sales import selectors, services
from rapport.sales.currencies import currency_choices
from rapport.sales.filters import ORDER_ORDERINGS
from rapport.sales.forms.orders import OrderForm, OrderLineFormSet, line_initial
from rapport.sales.models import Order, OrderStatus

ORDER = Order.record_type
LINES_PREFIX = "lines"
MORE_ROWS = 3
# "lines.2.amount": a service's error about one line.
LINE_ERROR = re.compile(r"^lines\.(\d+)\.(\w+)$")


# --- List ------------------------------------------------------------------------------------------


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    """Orders by number, account, status, owner and date; newest first. With htmx, only the results."""
    if not can(request.user, ORDER, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.order_list)
    context, status = list_context(request, selector=selectors.order_list, orderings=ORDER_ORDERINGS,
                                   default_ordering="-ordered_on", name=ORDER)
    account_id = context["params"].get("account", "")
    context.update({
        "statuses": OrderStatus.choices,
        # The account filter shows the chosen account's name (if the user may see it).
        "filter_account": account_choices(user=request.user).filter(public_id=account_id).first()
        if account_id else None,
    })
    if request.htmx and request.htmx.target == "results":
        return render(request, "sales/_order_results.html", context, status=status)
    return render(request, "sales/order_list.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------


def _lines_formset(request: HttpRequest, order: Order | None) -> Any:
    """The lines formset; "Add rows" posts the form back with MORE_ROWS more empty rows, saving nothing."""
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None and "more_lines" in data:
        key = f"{LINES_PREFIX}-TOTAL_FORMS"
        total = int_or_none(data.get(key)) or 0
        data[key] = str(min(total + MORE_ROWS, services.MAX_ORDER_LINES))
    return OrderLineFormSet(data, initial=line_initial(order), prefix=LINES_PREFIX)


def _opportunity_options(request: HttpRequest) -> HttpResponse:
    """The opportunity select's options for the account just chosen on the form."""
    account_id = request.GET.get("account", "").strip()
    account = account_choices(user=request.user).filter(public_id=account_id).first() if account_id else None
    return render(request, "sales/_order_opportunity_options.html", {
        "options": selectors.account_opportunity_choices(user=request.user, account=account)})


def _unchecked(form: Any, lines: Any) -> None:
    """Show what was typed without judging it yet: "Add rows" is not a save."""
    form._errors = ErrorDict()
    lines._errors = [ErrorDict() for _row in lines.forms]
    lines._non_form_errors = lines.error_class()
    for row in lines.forms:
        row._errors = ErrorDict()


def _line_errors(lines: Any, rows: list[int], exc: ValidationError) -> ValidationError | None:
    """Put a service's errors about lines on their rows; what is left, for the order's own fields."""
    rest: dict[str, list[str]] = {}
    for name, errors in exc.message_dict.items():
        match = LINE_ERROR.match(name)
        if match and int(match.group(1)) < len(rows):
            form = lines.forms[rows[int(match.group(1))]]
            field = match.group(2)
            form.add_error(field if field in form.fields else None, errors)
        elif name == "lines":
            lines._non_form_errors = lines.error_class([*lines.non_form_errors(), *errors])
        else:
            rest[name] = errors
    return ValidationError(rest) if rest else None


@login_required
def order_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit an order and its lines. A stale version re-shows the form with the reason (409)."""
    order = None
    if public_id is not None:
        order = selectors.order_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, ORDER, Action.CREATE):
        raise PermissionDenied
    if request.method == "GET" and request.GET.get("part") == "opportunities":
        return _opportunity_options(request)
    preselected = None
    if order is None and (account_id := request.GET.get("account", "").strip()):
        preselected = account_choices(user=request.user).filter(public_id=account_id).first()
    initial = {"ordered_on": timezone.localdate()} if order is None else None
    form = OrderForm(request.POST or None, instance=order, user=request.user, account=preselected, initial=initial)
    lines = _lines_formset(request, order)
    conflict = None
    status = 200
    if request.method == "POST" and "more_lines" in request.POST:
        _unchecked(form, lines)
    elif request.method == "POST":
        status = 400
        if form.is_valid() and lines.is_valid():
            rows = [index for index, line in enumerate(lines.forms) if line.line_data() is not None]
            line_data = [lines.forms[index].line_data() for index in rows]
            try:
                if order is None:
                    order = services.order_create(actor=request.user, data=form.record_data(), lines=line_data)
                    messages.success(request, _("Order %(number)s was created.") % {"number": order})
                else:
                    order = services.order_update(actor=request.user, order=order, data=form.record_data(),
                                                  version=form.cleaned_data.get("version"), lines=line_data)
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=order, detail="order_detail", then="order_list",
                                  name=_("Order %(number)s") % {"number": order})
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:  # an owner outside the user's scope: say so on the field
                form.add_error("owner", str(exc))
                status = 403
            except ValidationError as exc:
                rest = _line_errors(lines, rows, exc)
                if rest is not None:
                    show_errors(form, rest)
    return render(request, "sales/order_form.html", {
        "form": form, "lines": lines, "order": order, "conflict": conflict, "currencies": currency_choices(),
    }, status=status)


# --- Detail, delete, restore -----------------------------------------------------------------------


@login_required
def order_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    context = selectors.order_detail(user=request.user, public_id=public_id)
    order = context["order"]
    context.update({
        "record": order,
        "pages": {"name": ORDER},
        "opportunity_url": detail_url(context["opportunity"]) if context["opportunity"] else None,
        "lines_total": sum((line.amount for line in context["lines"]), start=Decimal("0")),
        "can_update": can(request.user, ORDER, Action.UPDATE, order),
        "can_delete": can(request.user, ORDER, Action.DELETE, order),
    })
    return render(request, "sales/order_detail.html", context)


@login_required
@require_POST
def order_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=order, detail="order_detail", restore="order_restore", then="order_list",
        name=_("Order %(number)s") % {"number": order},
        delete=lambda version: services.order_delete(actor=request.user, order=order, version=version))


@login_required
@require_POST
def order_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=order, detail="order_detail", then="order_list",
                            name=_("Order %(number)s") % {"number": order},
                            restore=lambda: services.order_restore(actor=request.user, order=order))


# --- The Orders panel of an account page -----------------------------------------------------------


@login_required
def record_orders(request: HttpRequest, ref: str) -> HttpResponse:
    """The account's latest orders the user may see, loaded after the account page."""
    account = panel_record(user=request.user, ref=ref, types=("account",))
    orders = selectors.account_orders(user=request.user, account=account)
    last = next((order.ordered_on for order in orders if order.status != OrderStatus.CANCELLED), None)
    return render(request, "sales/_order_panel.html", {
        "account": account, "orders": orders, "last_ordered_on": last,
        "can_create": can(request.user, ORDER, Action.CREATE),
    })


urlpatterns: list[URLPattern] = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_form, name="order_create"),
    path("orders/about/<str:ref>/", record_orders, name="record_orders"),
    path("orders/<str:public_id>/", order_detail, name="order_detail"),
    path("orders/<str:public_id>/edit/", order_form, name="order_edit"),
    path("orders/<str:public_id>/delete/", order_delete, name="order_delete"),
    path("orders/<str:public_id>/restore/", order_restore, name="order_restore"),
]
