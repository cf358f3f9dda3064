"""Spreadsheet writers every export uses (lists, reports): CSV and XLSX, streamed, never running a formula.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is what spreadsheets read as a
formula (CSV injection). CSV gets such a cell prefixed with an apostrophe, the mark spreadsheets show as
"this is text"; `unescape_cell` takes it off again on import, so an export imports back unchanged. XLSX
cells are typed: text is written as text, never as a formula, so it needs no prefix.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import FileResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's own limit on a cell; longer text is cut rather than making the file unreadable.
XLSX_MAX_CELL = 32_767


def spreadsheet_safe(value: Any) -> Any:
    """A cell for CSV: text that would run as a formula gets the text mark; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return TEXT_MARK + value
    return value


def unescape_cell(value: str) -> str:
    """The inverse of spreadsheet_safe for an imported text cell: "'=1+2" -> "=1+2"; other text unchanged."""
    if value.startswith(TEXT_MARK) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return spreadsheet_safe(value if isinstance(value, int | float | decimal.Decimal) else str(value))


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, line by line: a byte-order mark first (so Excel reads UTF-8), then the header."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([_csv_text(name) for name in header])
    for row in rows:
        yield writer.writerow([_csv_text(value) for value in row])


def _attachment(filename: str) -> str:
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "export"
    return f'attachment; filename="{safe}"'


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download: memory stays flat however many rows `rows` yields."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def write_xlsx(handle: Any, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Export") -> None:
    """Write an XLSX workbook to a binary file: openpyxl's write-only mode, so rows are not held in memory.
    Every text cell is typed as text, so `=1+2` is shown, never computed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")

    def cell(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | decimal.Decimal | dt.date):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # Excel has no zone; callers pass local times
            return value
        text = _clean_text(str(value))[:XLSX_MAX_CELL]
        typed = WriteOnlyCell(sheet, value=text)
        typed.data_type = "s"  # never "f": a text that looks like a formula stays text
        return typed

    sheet.append([cell(name) for name in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    workbook.save(handle)


def _clean_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters; openpyxl refuses them. Tab, LF and CR are allowed.
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  title: str = "Export") -> FileResponse:
    """An XLSX download, built in a temporary file (spilled to disk past a few MB) and streamed from it."""
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    write_xlsx(handle, header, rows, title=title)
    handle.seek(0)
    response = FileResponse(handle, content_type=XLSX_CONTENT_TYPE, as_attachment=True,
                            filename=_attachment(filename).split('"')[1])
    response["X-Content-Type-Options"] = "nosniff"
    return response
