"""Pages of the reports app: the list of reports, a report with its filters, chart and table, its export,
saved reports (save, open, rename and share, delete and undo) and the manager dashboard of My Home.

Thin: parse, call a selector or service, render. A report's filters travel in its address.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.access import access_for, can
from rapport.core.errors import StaleVersion
from rapport.core.models import Action, Team, Visibility
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show
from rapport.core.selectors import user_choices
from rapport.core.text import int_or_none
from rapport.reports import charts, selectors, services
from rapport.reports.exporting import EXPORT_FORMATS, export_response
from rapport.reports.filters import MINE, PERIODS
from rapport.reports.kinds import KINDS, ReportKind, kind_get, kinds_for, may_run, run_report
from rapport.reports.models import NAME_MAX, SavedReport
from rapport.reports.selectors import Report

REPORT = SavedReport.record_type

DASHBOARD_SECONDS = 60  # how long a manager's dashboard figures are reused (per user and rights)

# --- Shared pieces ---------------------------------------------------------------------------------


def _choices(kind: ReportKind, user: Any) -> dict[str, Any]:
    """The options of the filter form: only the lists this report's filters need (one query each)."""
    found: dict[str, Any] = {"periods": list(PERIODS.items()), "statuses": list(kind.choices().items())}
    if "owner" in kind.filters:
        found["owners"] = user_choices(user=user)
        found["teams"] = list(Team.objects.order_by("name").values_list("public_id", "name"))
    if "stage" in kind.filters or "pipeline" in kind.filters:
        from rapport.sales.models import PipelineStage

        stages = list(PipelineStage.objects.select_related("pipeline"))
        found["pipelines"] = list(dict.fromkeys((s.pipeline.public_id, s.pipeline.name) for s in stages))
        several = len(found["pipelines"]) > 1
        found["stages"] = [(s.public_id, f"{s.pipeline.name}: {s.name}" if several else s.name) for s in stages
                           if s.outcome == "open" or kind.key == "won-lost"]
    if "kind" in kind.filters:
        from rapport.activities.models import ActivityKind

        found["activity_kinds"] = list(ActivityKind.objects.order_by("position", "label").values_list("key", "label"))
    if "rule" in kind.filters:
        from rapport.automation.models import Rule

        found["rules"] = list(Rule.objects.order_by("name").values_list("public_id", "name"))
    if "priority" in kind.filters:
        from rapport.support.models import SupportPriority

        found["priorities"] = list(SupportPriority.choices)
    return found

def _drawn(report: Report, prefix: str) -> list[dict[str, Any]]:
    return [{"chart": chart, "svg": charts.render(chart, f"{prefix}-{index}"), "id": f"{prefix}-{index}"}
            for index, chart in enumerate(report.charts)]

def _report_context(request: HttpRequest, kind: ReportKind, params: Any) -> tuple[dict[str, Any], int]:
    errors: dict[str, list[str]] = {}
    filters = report = None
    try:
        filters, report = run_report(kind, params, user=request.user)
    except ValidationError as exc:
        errors = exc.message_dict
    values = filters.values if filters else {name: params.get(name, "") for name in kind.filters}
    query = urlencode(values)
    return {
        "kind": kind,
        "report": report,
        "filters": filters,
        "values": values,
        "query": query,
        "errors": errors,
        "charts": _drawn(report, "chart") if report else [],
        "choices": _choices(kind, request.user),
        "visibilities": Visibility.choices,
        "can_save": can(request.user, REPORT, Action.CREATE),
        "name_max": NAME_MAX,
        "mine": MINE,
        "export_csv": f"{reverse('report_export', args=[kind.key])}?{urlencode({**values, 'format': 'csv'})}",
        "export_xlsx": f"{reverse('report_export', args=[kind.key])}?{urlencode({**values, 'format': 'xlsx'})}",
    }, 400 if errors else 200

# --- The list of reports -------------------------------------------------------------------------------

@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    """Every report the user may open, and the saved reports they own or that are shared with them."""
    saved = selectors.saved_reports_for_index(user=request.user)
    for item in saved:
        item.kind_title = KINDS[item.kind].title if item.kind in KINDS else item.kind  # type: ignore[attr-defined]
    return render(request, "reports/report_index.html", {"kinds": kinds_for(request.user), "saved": saved})

# --- One report ------------------------------------------------------------------------------------------

@login_required
def report_view(request: HttpRequest, kind: str) -> HttpResponse:
    report_kind = kind_get(kind)
    if not may_run(request.user, report_kind):
        raise PermissionDenied
    context, status = _report_context(request, report_kind, request.GET)
    return render(request, "reports/report_page.html", context, status=status)

@login_required
def report_export(request: HttpRequest, kind: str) -> HttpResponseBase:
    """The report's table as CSV or XLSX (?format=), with the filters of its address."""
    report_kind = kind_get(kind)
    if not may_run(request.user, report_kind):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse(_("Choose the format csv or xlsx."), status=400, content_type="text/plain; charset=utf-8")
    try:
        _filters, report = run_report(report_kind, request.GET, user=request.user)
    except ValidationError as exc:
        return HttpResponse(error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    return export_response(report_kind, report, fmt)

# --- Saved reports -------------------------------------------------------------------------------------

def _posted_filters(request: HttpRequest) -> dict[str, str]:
    """The filters a save form carries: the report's query string, as one field."""
    params = QueryDict(request.POST.get("params", "")[:4000])
    return {name: params.get(name, "") for name in params if params.get(name, "") != ""}

@login_required
@require_POST
def saved_report_create(request: HttpRequest) -> HttpResponse:
    """Save the report being looked at, with its filters, under a name."""
    if not can(request.user, REPORT, Action.CREATE):
        raise PermissionDenied
    report_kind = kind_get(request.POST.get("kind", ""))
    if not may_run(request.user, report_kind):
        raise PermissionDenied
    data = {"name": request.POST.get("name", ""), "kind": report_kind.key, "filters": _posted_filters(request),
            "visibility": request.POST.get("visibility") or Visibility.PRIVATE}
    try:
        saved = services.saved_report_create(actor=request.user, data=data)
    except ValidationError as exc:
        context, _status = _report_context(request, report_kind, QueryDict(request.POST.get("params", "")[:4000]))
        context.update({"save_errors": exc.message_dict, "save_name": data["name"],
                        "save_visibility": data["visibility"]})
        return render(request, "reports/report_page.html", context, status=400)
    messages.success(request, _("The report was saved as %(name)s.") % {"name": saved.name})
    return redirect("saved_report_detail", public_id=saved.public_id)

@login_required
def saved_report_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A saved report, run for whoever opens it: its filters, or the ones the address changes them to."""
    saved = selectors.saved_report_get(user=request.user, public_id=public_id)
    report_kind = kind_get(saved.kind)
    if not may_run(request.user, report_kind):
        raise PermissionDenied
    changed = any(name in request.GET for name in report_kind.filters)
    params = request.GET if changed else saved.filters
    context, status = _report_context(request, report_kind, params)
    context.update({
        "saved": saved,
        "changed": changed and context["values"] != saved.filters,
        "can_update": can(request.user, REPORT, Action.UPDATE, saved),
        "can_delete": can(request.user, REPORT, Action.DELETE, saved),
    })
    return render(request, "reports/report_page.html", context, status=status)

@login_required
def saved_report_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Rename or share a saved report; from its page, also keep the filters now shown (`params`)."""
    saved = selectors.saved_report_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data: dict[str, Any] = {}
        for name in ("name", "visibility"):
            if name in request.POST:
                data[name] = request.POST[name]
        if "params" in request.POST:
            data["filters"] = _posted_filters(request)
        try:
            services.saved_report_update(actor=request.user, report=saved, data=data,
                                         version=int_or_none(request.POST.get("version")))
        except StaleVersion as exc:
            errors, status = {"__all__": [str(exc)]}, 409
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("saved_report_detail", public_id=saved.public_id)
        saved.refresh_from_db()
    return render(request, "reports/saved_report_form.html", {
        "saved": saved, "errors": errors, "visibilities": Visibility.choices, "name_max": NAME_MAX,
        "name_value": request.POST.get("name", saved.name) if request.method == "POST" else saved.name,
        "kind": KINDS.get(saved.kind),
    }, status=status)

@login_required
@require_POST
def saved_report_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    saved = selectors.saved_report_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=saved, detail="saved_report_detail", restore="saved_report_restore", then="report_index",
        delete=lambda version: services.saved_report_delete(actor=request.user, report=saved, version=version))

@login_required
@require_POST
def saved_report_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    saved = selectors.saved_report_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=saved, detail="saved_report_detail", then="report_index",
                            restore=lambda: services.saved_report_restore(actor=request.user, report=saved))

# --- The manager dashboard (My Home) ---------------------------------------------------------------------

DASHBOARD_TILES = (
    # (report kind, its filters, the tile's title: marked here, translated where drawn)
    ("pipeline-by-stage", {}, gettext_noop("Open pipeline by stage")),
    ("won-lost", {"period": "this-quarter"}, gettext_noop("Won and lost this quarter")),
    ("follow-ups-by-user", {"status": "overdue"}, gettext_noop("Overdue follow-ups per user")),
    ("support", {"status": "open"}, gettext_noop("Open support items by priority")),
)

def dashboard_tiles(user: Any) -> list[dict[str, Any]]:
    """The tiles of the manager dashboard: each a report with its filters, over the manager's people."""
    team = selectors.dashboard_team_param(user)
    tiles = []
    for key, params, title in DASHBOARD_TILES:
        kind = KINDS[key]
        if not may_run(user, kind):
            continue
        values = {**params, **team}
        _filters, report = run_report(kind, values, user=user)
        tiles.append({"kind": kind, "title": _(title), "report": report, "charts": _drawn(report, f"tile-{key}"),
                      "url": reverse("report_view", args=[key]) + (f"?{urlencode(values)}" if values else "")})
    return tiles

def _dashboard_key(user: Any) -> str:
    """Per user, their rights (a change of role or team shows at once), the day and the language."""
    access = access_for(user)
    rights = repr((access.is_admin, sorted(access.team_member_ids), sorted(access.managed_member_ids),
                   sorted(access.default_scopes.items()), sorted(access.overrides.items())))
    digest = hashlib.sha256(rights.encode()).hexdigest()[:16]
    return f"reports:dashboard:{user.pk}:{digest}:{timezone.localdate().isoformat()}:{get_language()}"

@login_required
def report_dashboard(request: HttpRequest) -> HttpResponse:
    """My Home's manager dashboard, loaded after the page. Its figures are kept for a minute per user (the
    full reports are always current); someone who is not a manager gets nothing."""
    if not selectors.sees_dashboard(request.user):
        return HttpResponse("")
    key = _dashboard_key(request.user)
    html = cache.get(key)
    if html is None:
        html = render_to_string("reports/_dashboard.html", {
            "tiles": dashboard_tiles(request.user), "at": timezone.localtime(),
            "team": bool(selectors.dashboard_team_param(request.user)),
        }, request=request)
        cache.set(key, html, DASHBOARD_SECONDS)
    return HttpResponse(html)
