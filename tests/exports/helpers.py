"""Reading an export back the way a spreadsheet or an importer would."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from rapport.exports.writers import unescape_cell


def body(response: Any) -> bytes:
    """The whole file, streamed or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_table(response: Any) -> list[list[str]]:
    """The CSV's rows (header first) as the csv module parses them, text marks taken off."""
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff"), "the CSV starts with a byte-order mark, for Excel"
    return [[unescape_cell(cell) for cell in row] for row in csv.reader(io.StringIO(text[1:], newline=""))]


def csv_dicts(response: Any) -> list[dict[str, str]]:
    header, *rows = csv_table(response)
    return [dict(zip(header, row, strict=True)) for row in rows]


def csv_ids(response: Any) -> list[str]:
    return [row["ID"] for row in csv_dicts(response)]


def xlsx_sheet(response: Any) -> Any:
    return load_workbook(io.BytesIO(body(response))).worksheets[0]


def xlsx_dicts(response: Any) -> list[dict[str, Any]]:
    rows = list(xlsx_sheet(response).iter_rows(values_only=True))
    header, *data = rows
    return [dict(zip(header, row, strict=True)) for row in data]
