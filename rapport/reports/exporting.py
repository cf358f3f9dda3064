"""A report's table as a file: CSV or XLSX through the shared writers (never a formula), with a total
row per currency after the rows. Used by the report pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.exports.writers import csv_response, xlsx_response
from rapport.reports.kinds import ReportKind
from rapport.reports.selectors import Report

EXPORT_FORMATS = ("csv", "xlsx")


def export_cell(column: Any, value: Any) -> Any:
    """A cell for a spreadsheet or the API: months as YYYY-MM, the rest as they are."""
    if column.kind == "month" and isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return value


def export_rows(report: Report) -> list[list[Any]]:
    """The table as a spreadsheet has it: its rows, then a total row per currency (or one)."""
    rows = [[export_cell(column, value) for column, value in zip(report.columns, row, strict=True)]
            for row in report.table_rows()]
    for total in report.totals:
        cells = [total.get(column.key, "") for column in report.columns]
        cells[0] = _("Total")
        rows.append(cells)
    return rows


def export_response(kind: ReportKind, report: Report, fmt: str) -> FileResponse | StreamingHttpResponse:
    stamp = timezone.localdate().isoformat()
    filename = f"{kind.key}-{stamp}.{fmt}"
    header = [column.label for column in report.columns]
    if fmt == "xlsx":
        return xlsx_response(filename, header, export_rows(report), title=str(kind.title)[:31])
    return csv_response(filename, header, export_rows(report))
