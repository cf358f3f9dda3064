"""The XLSX writer: a workbook openpyxl reads back with every value and type as written, the header bold
and frozen, text that XML cannot carry made safe, and nothing ever a formula."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from openpyxl import load_workbook

from rapport.exports.writers import XLSX_MAX_CELL, write_xlsx


def _sheet(header, rows, title="Export"):
    handle = io.BytesIO()
    write_xlsx(handle, header, rows, title=title)
    handle.seek(0)
    return load_workbook(handle).worksheets[0], handle


def test_values_come_back_with_their_types():
    oslo = dt.timezone(dt.timedelta(hours=2))
    row = ["text", 42, Decimal("1234.50"), 2.5, True, False, dt.date(2026, 5, 1),
           dt.datetime(2026, 5, 1, 14, 30, 15, 999, tzinfo=oslo), None, "", "  spaced  ", "a < b & c > d",
           "line\r\nbreak\tand tab", "Åsa 😀"]
    sheet, _handle = _sheet([f"c{i}" for i in range(len(row))], [row])
    cells = next(iter(sheet.iter_rows(min_row=2, max_row=2)))
    values = [cell.value for cell in cells]
    assert values[:4] == ["text", 42, 1234.5, 2.5]
    assert values[4] is True and values[5] is False
    assert values[6] == dt.datetime(2026, 5, 1)  # a date cell (openpyxl reads dates as datetimes)
    assert cells[6].is_date and cells[7].is_date
    assert values[7] == dt.datetime(2026, 5, 1, 14, 30, 15)  # local time as given, to the second
    assert values[8] is None and values[9] is None
    assert values[10:] == ["  spaced  ", "a < b & c > d", "line\r\nbreak\tand tab", "Åsa 😀"]
    assert [cells[i].data_type for i in (0, 1, 4)] == ["s", "n", "b"]


def test_the_header_is_bold_and_frozen_and_the_sheet_named():
    sheet, _handle = _sheet(["ID", "Name"], [["x", "y"]], title="Support items: [open]?")
    assert sheet.title == "Support items open"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert [c.value for c in sheet[1]] == ["ID", "Name"]


def test_text_xml_cannot_carry_is_cleaned_and_long_text_cut():
    sheet, _handle = _sheet(["a", "b"], [["bell\x07 and nul\x00 and \ufffe", "x" * (XLSX_MAX_CELL + 10)]])
    assert sheet["A2"].value == "bell and nul and "
    assert len(sheet["B2"].value) == XLSX_MAX_CELL


def test_no_cell_is_ever_a_formula():
    rows = [["=1+2"], ["=HYPERLINK(\"http://evil\")"], ["#N/A"], ["@sum"], ["+1"], ["-1"]]
    sheet, handle = _sheet(["=header"], rows)
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row)
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [r[0] for r in rows]
    with zipfile.ZipFile(handle) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_many_columns_get_their_letters():
    header = [f"c{i}" for i in range(60)]
    sheet, _handle = _sheet(header, [list(range(60))])
    assert sheet["BH2"].value == 59
    assert sheet.max_column == 60


def test_rows_stream_into_the_file():
    """Rows are written as they come (a generator of 20,000 rows), and each one is there."""
    sheet, _handle = _sheet(["n", "text"], ((i, f"row {i}") for i in range(20_000)))
    assert sheet.max_row == 20_001
    assert sheet["A20001"].value == 19_999 and sheet["B20001"].value == "row 19999"
