"""The reports API (see docs/reports.md).

- GET  /reports                      saved reports the user may see ({items, next}) and the report kinds
- GET  /reports/kinds                the report kinds with the filters each takes
- GET  /reports/kinds/{kind}?<filters>[&format=csv|xlsx]   a report's rows and totals, or its table as a file
- POST /reports                      save a report; GET/PATCH/DELETE /reports/{id}; POST /reports/{id}/restore
- GET  /reports/{id}/data[?format=csv|xlsx]               a saved report, run for the caller

A report counts only what the caller may see, whoever saved it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from rapport.core.apitools import BusinessRecordOut, InputSchema, ListParams, api_page, refuse_unknown_params
from rapport.core.models import Action, User, Visibility
from rapport.core.selectors import user_get, written
from rapport.reports import selectors, services
from rapport.reports.exporting import export_response
from rapport.reports.kinds import KINDS, ReportKind, kinds_for, run_report
from rapport.reports.models import NAME_MAX, SavedReport
from rapport.reports.selectors import Report

router = Router(tags=["reports"])

VERSION_HELP = "The version you read; a stale one answers 409"
FILTERS_HELP = ("The report's filters as query parameters, those GET /api/v1/reports/kinds lists for it: period "
                "(this-month, this-quarter, last-12-months...), from and to (YYYY-MM-DD), owner (a user's id or "
                "'me'), team (a team's id or 'mine'), currency, pipeline, stage, kind, rule, status, priority.")


class KindOut(Schema):
    key: str
    title: str
    description: str
    filters: list[str] = Field(..., description="The query parameters this report takes")
    dates: str = Field(..., description="What from, to and period apply to")
    default_period: str
    statuses: dict[str, str] = Field(..., description="The values its status filter takes, with their labels")


class SavedReportOut(BusinessRecordOut):
    name: str
    kind: str
    filters: dict[str, str]


class ReportsOut(Schema):
    items: list[SavedReportOut]
    next: str | None
    kinds: list[KindOut]


class KindsOut(Schema):
    items: list[KindOut]
    next: str | None = None


class ColumnOut(Schema):
    key: str
    label: str
    type: str = Field(..., description="text, int, money (a decimal as text), month (YYYY-MM) or date")


class ReportDataOut(Schema):
    kind: str
    title: str
    filters: dict[str, str] = Field(..., description="The filters applied, as the query string carries them")
    start: dt.date | None
    end: dt.date | None
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(..., description="One object per row: the columns' keys, and the ids of "
                                                        "what a row is about (owner_id, stage_id...)")
    totals: list[dict[str, Any]] = Field(..., description="One per currency where amounts are summed")
    notes: list[str]


class SavedReportCreate(InputSchema):
    name: str = Field(..., min_length=1, max_length=NAME_MAX)
    kind: str = Field(..., max_length=40, description="A report kind's key, such as pipeline-by-stage")
    filters: dict[str, str] = Field(default_factory=dict, description="Filters by name, as the report takes them")
    visibility: Visibility | None = Field(None, description="private (default), team or everyone")
    owner: str | None = Field(None, description="Public id of the owning user; default: you")


class SavedReportUpdate(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    kind: str | None = Field(None, max_length=40)
    filters: dict[str, str] | None = None
    visibility: Visibility | None = None
    owner: str | None = None
    version: int = Field(..., description=VERSION_HELP)


def kind_out(kind: ReportKind) -> dict[str, Any]:
    return {"key": kind.key, "title": str(kind.title), "description": str(kind.description),
            "filters": list(kind.filters), "dates": str(kind.dates), "default_period": kind.default_period,
            "statuses": {key: str(label) for key, label in kind.choices().items()}}


def _json(value: Any, column_kind: str = "") -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if column_kind == "month" else value.isoformat()
    return value


def report_out(kind: ReportKind, filters: Any, report: Report) -> dict[str, Any]:
    kinds = {column.key: column.kind for column in report.columns}
    return {
        "kind": kind.key, "title": str(kind.title), "filters": filters.values, "start": filters.start,
        "end": filters.end,
        "columns": [{"key": c.key, "label": str(c.label), "type": c.kind} for c in report.columns],
        "rows": [{key: _json(value, kinds.get(key, "")) for key, value in row.items()} for row in report.rows],
        "totals": [{key: _json(value, kinds.get(key, "")) for key, value in total.items()} for total in report.totals],
        "notes": [str(note) for note in report.notes],
    }


def _kind(key: str) -> ReportKind:
    kind = KINDS.get(key)
    if kind is None:
        raise HttpError(404, _("No report kind %(key)s; use one of: %(kinds)s.")
                        % {"key": key[:50], "kinds": ", ".join(KINDS)})
    return kind


def _run(request: HttpRequest, kind: ReportKind, params: Any, fmt: str | None) -> Any:
    filters, report = run_report(kind, params, user=request.user)
    if fmt in ("csv", "xlsx"):
        return export_response(kind, report, fmt)
    return report_out(kind, filters, report)


def _owner(request: HttpRequest, public_id: str) -> User:
    owner = user_get(user=request.user, public_id=public_id, active_only=True) if public_id else None
    if owner is None:
        raise ValidationError({"owner": [_("No such active user.")]})
    return owner


def _data(request: HttpRequest, body: Any) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    for name, value in list(data.items()):
        if value is None:
            raise ValidationError({name: [_("This field may not be null.")]})
    if "owner" in data:
        data["owner"] = _owner(request, data["owner"])
    return data


def _written(request: HttpRequest, report: SavedReport) -> SavedReport:
    return written(selectors.saved_report_get, SavedReport, user=request.user, record=report)


Format = Literal["json", "csv", "xlsx"]


@router.get("/reports", response=ReportsOut, summary="Saved reports and report kinds",
            description="The saved reports you own or that are shared with you (cursor-paginated; orderings: "
                        "name (default), created_at, updated_at), and the kinds of report you may open.")
def list_reports(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    refuse_unknown_params(request)
    page = api_page(selectors.saved_report_list(user=request.user), params=params,
                    allowed_orderings=selectors.SAVED_ORDERINGS, default_ordering="name")
    return {**page, "kinds": [kind_out(kind) for kind in kinds_for(request.user)]}


@router.get("/reports/kinds", response=KindsOut, summary="Report kinds",
            description="The kinds of report you may open, with the filters each takes.")
def list_kinds(request: HttpRequest) -> dict[str, Any]:
    refuse_unknown_params(request)
    # One page in a fixed order: a cursor or an ordering cannot be one this list gave out.
    if request.GET.get("cursor"):
        raise ValidationError({"cursor": [_("This list has a single page; it takes no cursor.")]})
    if request.GET.get("ordering"):
        raise ValidationError({"ordering": [_("This list has a fixed order.")]})
    return {"items": [kind_out(kind) for kind in kinds_for(request.user)], "next": None}


@router.get("/reports/kinds/{kind}", response=ReportDataOut, summary="Run a report",
            description=FILTERS_HELP + " format=csv or xlsx answers the table as a file instead of JSON. An unknown "
                        "filter, or one that does not parse, answers 400 naming it.")
def report_data(request: HttpRequest, kind: str, format: Format | None = None) -> Any:
    return _run(request, _kind(kind), request.GET, format)


@router.post("/reports", response={201: SavedReportOut}, summary="Save a report",
             description="A report kind with its filters under a name; private unless a visibility is given. The "
                         "filters are checked as running the report checks them.")
def create_report(request: HttpRequest, payload: SavedReportCreate) -> Status:
    report = services.saved_report_create(actor=request.user, data=_data(request, payload))
    return Status(201, _written(request, report))


@router.get("/reports/{report_id}", response=SavedReportOut, summary="Get a saved report")
def get_report(request: HttpRequest, report_id: str) -> SavedReport:
    return selectors.saved_report_get(user=request.user, public_id=report_id)


@router.get("/reports/{report_id}/data", response=ReportDataOut, summary="Run a saved report",
            description="The saved report's rows and totals over the records you may see (a report shared with "
                        "you shows your figures, not its owner's). format=csv or xlsx answers a file.")
def saved_report_data(request: HttpRequest, report_id: str, format: Format | None = None) -> Any:
    refuse_unknown_params(request, {"format"})
    saved = selectors.saved_report_get(user=request.user, public_id=report_id)
    return _run(request, _kind(saved.kind), saved.filters, format)


@router.patch("/reports/{report_id}", response=SavedReportOut, summary="Change a saved report",
              description="Rename it, share it (visibility), or change its kind or filters.")
def update_report(request: HttpRequest, report_id: str, payload: SavedReportUpdate) -> SavedReport:
    report = selectors.saved_report_get(user=request.user, public_id=report_id, action=Action.UPDATE)
    report = services.saved_report_update(actor=request.user, report=report, data=_data(request, payload),
                                          version=payload.version)
    return _written(request, report)


@router.delete("/reports/{report_id}", response={204: None}, summary="Delete a saved report (it can be restored)")
def delete_report(request: HttpRequest, report_id: str, version: int | None = None) -> Status:
    report = selectors.saved_report_get(user=request.user, public_id=report_id, action=Action.DELETE)
    services.saved_report_delete(actor=request.user, report=report, version=version)
    return Status(204, None)


@router.post("/reports/{report_id}/restore", response=SavedReportOut, summary="Restore a deleted saved report")
def restore_report(request: HttpRequest, report_id: str) -> SavedReport:
    report = selectors.saved_report_get(user=request.user, public_id=report_id, action=Action.DELETE, deleted=True)
    return services.saved_report_restore(actor=request.user, report=report)

