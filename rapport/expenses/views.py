"""Pages of the expenses app: the list, the approvals waiting for a manager, an expense's form and page with
its actions (submit, approve, reject, reimburse), totals, the export of approved expenses, and the Expenses
panel of project, account and opportunity pages. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.activities.selectors import panel_record
from rapport.core.access import can
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.listing import filter_params, list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show, safe_next, show_errors
from rapport.core.selectors import user_choices
from rapport.core.text import int_or_none
from rapport.directory.selectors import account_choices
from rapport.expenses import selectors, services
from rapport.expenses.filters import EXPENSE_ORDERINGS, TOTALS_BY
from rapport.expenses.forms import ExpenseForm, RejectForm
from rapport.expenses.models import EDITABLE, Expense, ExpenseStatus
from rapport.sales.currencies import currency_choices

EXPENSE = Expense.record_type


def _require_read(request: HttpRequest) -> None:
    if not can(request.user, EXPENSE, Action.READ):
        raise PermissionDenied


def _list_extras(request: HttpRequest, context: dict[str, Any]) -> None:
    account_id = context["params"].get("account", "")
    context.update({
        "statuses": ExpenseStatus.choices,
        "categories": list(selectors.categories(active_only=False).values_list("name", "name")),
        "filter_account": account_choices(user=request.user).filter(public_id=account_id).first()
        if account_id else None,
        "may_approve": selectors.may_approve(request.user),
    })


# --- Lists -----------------------------------------------------------------------------------------


@login_required
def expense_list(request: HttpRequest) -> HttpResponse:
    """The expenses the user may see (their own; a manager's team's too), newest first."""
    _require_read(request)
    if request.GET.get("part") == "count":
        return list_count(request, selectors.expense_list)
    context, status = list_context(request, selector=selectors.expense_list, orderings=EXPENSE_ORDERINGS,
                                   default_ordering="-spent_on", name=EXPENSE)
    _list_extras(request, context)
    if request.htmx and request.htmx.target == "results":
        return render(request, "expenses/_expense_results.html", context, status=status)
    return render(request, "expenses/expense_list.html", context, status=status)


@login_required
def expense_approvals(request: HttpRequest) -> HttpResponse:
    """Submitted expenses waiting for the user's decision: their team's (everyone's for an administrator)."""
    _require_read(request)
    if request.GET.get("part") == "count":
        return list_count(request, selectors.approval_list)
    context, status = list_context(request, selector=selectors.approval_list, orderings=EXPENSE_ORDERINGS,
                                   default_ordering="submitted_at", name=EXPENSE)
    _list_extras(request, context)
    context["reject_form"] = RejectForm()
    if request.htmx and request.htmx.target == "results":
        return render(request, "expenses/_approval_results.html", context, status=status)
    return render(request, "expenses/expense_approvals.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------


def _preset(request: HttpRequest) -> dict[str, Any]:
    """The project, account or opportunity a "New expense" link of their page names (?project=…)."""
    from rapport.projects.models import Project
    from rapport.sales.models import Opportunity

    found: dict[str, Any] = {}
    if project_id := request.GET.get("project", "").strip():
        found["project"] = Project.objects.visible_to(request.user).filter(public_id=project_id).first()
    if opportunity_id := request.GET.get("opportunity", "").strip():
        found["opportunity"] = Opportunity.objects.visible_to(request.user).filter(public_id=opportunity_id).first()
    if account_id := request.GET.get("account", "").strip():
        found["account"] = account_choices(user=request.user).filter(public_id=account_id).first()
    for source in ("project", "opportunity"):
        if found.get(source) is not None and found.get("account") is None:
            found["account"] = found[source].account
    return found


@login_required
def expense_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create an expense (a draft) or change a draft or rejected one, with a receipt to upload."""
    expense = None
    if public_id is not None:
        expense = selectors.expense_get(user=request.user, public_id=public_id, action=Action.UPDATE)
        if not services.may_write(request.user, expense):
            raise PermissionDenied(_("Only the person who spent the money may change this expense."))
        if request.method == "GET" and expense.status not in EDITABLE:
            messages.info(request, _("Only a draft or a rejected expense can be changed; this one is %(status)s.")
                          % {"status": expense.get_status_display().lower()})
            return redirect("expense_detail", public_id=expense.public_id)
    elif not can(request.user, EXPENSE, Action.CREATE):
        raise PermissionDenied
    form = ExpenseForm(request.POST or None, request.FILES or None, user=request.user, instance=expense,
                       preset=_preset(request) if expense is None else None)
    status = 200
    conflict: Exception | None = None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            receipt = form.cleaned_data.get("receipt")
            try:
                if expense is None:
                    expense = services.expense_create(actor=request.user, data=form.record_data(), receipt=receipt)
                    messages.success(request, _("Your expense was saved as a draft. Submit it when it is ready."))
                else:
                    expense = services.expense_update(actor=request.user, expense=expense, data=form.record_data(),
                                                      version=form.cleaned_data.get("version"), receipt=receipt)
                    messages.success(request, _("Your changes were saved."))
                return redirect("expense_detail", public_id=expense.public_id)
            except (StaleVersion, Conflict) as exc:
                conflict, status = exc, 409
            except ValidationError as exc:
                show_errors(form, exc, rename={"reason": "description"})
    return render(request, "expenses/expense_form.html", {
        "form": form, "expense": expense, "conflict": conflict, "currencies": currency_choices(),
    }, status=status)


# --- One expense -----------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, public_id: str) -> dict[str, Any]:
    context = selectors.expense_detail(user=request.user, public_id=public_id)
    expense = context["expense"]
    user = request.user
    editable = expense.status in EDITABLE and services.may_write(user, expense)
    context.update({
        "record": expense,
        "pages": {"name": EXPENSE},
        "can_update": editable and can(user, EXPENSE, Action.UPDATE, expense),
        "can_delete": editable and can(user, EXPENSE, Action.DELETE, expense),
        "can_submit": editable and can(user, EXPENSE, Action.UPDATE, expense),
        "can_decide": expense.status == ExpenseStatus.SUBMITTED and services.may_decide(user, expense),
        "can_reimburse": expense.status == ExpenseStatus.APPROVED and services.may_reimburse(user, expense),
        "reject_form": RejectForm(),
    })
    return context


@login_required
def expense_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "expenses/expense_detail.html", _detail_context(request, public_id))


@login_required
@require_POST
def expense_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    expense = selectors.expense_get(user=request.user, public_id=public_id, action=Action.DELETE)
    try:
        return delete_and_offer_undo(
            request, record=expense, detail="expense_detail", restore="expense_restore", then="expense_list",
            name=_("The expense"),
            delete=lambda version: services.expense_delete(actor=request.user, expense=expense, version=version))
    except Conflict as exc:
        return _refused(request, public_id, str(exc), 409)


@login_required
@require_POST
def expense_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    expense = selectors.expense_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=expense, detail="expense_detail", then="expense_list",
                            name=_("The expense"),
                            restore=lambda: services.expense_restore(actor=request.user, expense=expense))


def _refused(request: HttpRequest, public_id: str, message: str, status: int,
             reject_form: RejectForm | None = None) -> HttpResponse:
    """The expense's page again, with why the action was refused (and nothing changed)."""
    context = _detail_context(request, public_id)
    context["action_error"] = message
    if reject_form is not None:
        context["reject_form"] = reject_form
    return render(request, "expenses/expense_detail.html", context, status=status)


def _act(request: HttpRequest, public_id: str, verb: str) -> HttpResponse:
    expense = selectors.expense_get(user=request.user, public_id=public_id)
    version = int_or_none(request.POST.get("version"))
    reject_form = None
    try:
        if verb == "submit":
            services.expense_submit(actor=request.user, expense=expense, version=version)
            messages.success(request, _("Your expense was submitted for approval."))
        elif verb == "approve":
            services.expense_approve(actor=request.user, expense=expense, version=version)
            messages.success(request, _("The expense was approved."))
        elif verb == "reject":
            reject_form = RejectForm(request.POST)
            services.expense_reject(actor=request.user, expense=expense, version=version,
                                    reason=request.POST.get("reason", ""))
            messages.success(request, _("The expense was rejected."))
        else:
            services.expense_reimburse(actor=request.user, expense=expense, version=version)
            messages.success(request, _("The expense was marked reimbursed."))
    except (StaleVersion, Conflict) as exc:
        return _refused(request, public_id, str(exc), 409)
    except ValidationError as exc:
        if reject_form is not None:
            reject_form.is_valid()
            show_errors(reject_form, exc)
        return _refused(request, public_id, error_text(exc), 400, reject_form)
    return redirect(safe_next(request, reverse("expense_detail", args=[public_id])))


@login_required
@require_POST
def expense_submit(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "submit")


@login_required
@require_POST
def expense_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "approve")


@login_required
@require_POST
def expense_reject(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "reject")


@login_required
@require_POST
def expense_reimburse(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(request, public_id, "reimburse")


# --- Totals and export -----------------------------------------------------------------------------


@login_required
def expense_totals(request: HttpRequest) -> HttpResponse:
    """Sums per project, account, user or month, one row per currency, with the list's filters."""
    _require_read(request)
    by = request.GET.get("by") or "month"
    params = filter_params(request)
    params.pop("by", None)
    error = None
    rows: list[Any] = []
    try:
        rows = selectors.expense_totals(user=request.user, by=by, params=params)
    except ValidationError as exc:
        error = error_text(exc)
    context = {"rows": rows, "by": by, "by_choices": [(key, _(key.title())) for key in TOTALS_BY],
               "params": params, "error": error, "query": params.urlencode(),
               "owners": user_choices(user=request.user), "selected_owner": params.get("owner", "")}
    _list_extras(request, context)
    status = 400 if error else 200
    if request.htmx and request.htmx.target == "results":
        return render(request, "expenses/_totals_results.html", context, status=status)
    return render(request, "expenses/expense_totals.html", context, status=status)


@login_required
@require_GET
def expense_export(request: HttpRequest) -> HttpResponseBase:
    """Approved (and reimbursed) expenses with the list's filters, as CSV or XLSX (?format=)."""
    from rapport.expenses.exporting import approved_expenses_resource
    from rapport.exports.downloads import export_response
    from rapport.exports.selectors import TooManyRows, export_open

    try:
        export = export_open(user=request.user, resource=approved_expenses_resource(), query=request.GET)
    except ValidationError as exc:
        return HttpResponse(error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    except TooManyRows as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain; charset=utf-8")
    return export_response(export)


# --- The Expenses panel of a project, account or opportunity page ----------------------------------


@login_required
def record_expenses(request: HttpRequest, ref: str) -> HttpResponse:
    record = panel_record(user=request.user, ref=ref, types=("project", "account", "opportunity"))
    panel = selectors.record_expenses(user=request.user, record=record)
    return render(request, "expenses/_expense_panel.html", {
        "record": record, "panel": panel, "can_create": can(request.user, EXPENSE, Action.CREATE),
        "filter_name": record.record_type,
    })
