"""No spreadsheet runs a cell of an export as a formula, and every value comes back unchanged.

CSV: a text that starts with =, +, -, @, a tab or a carriage return gets an apostrophe in front, which
`unescape_cell` takes off on the way back in. XLSX: text cells are typed text ('s'), never formulas ('f'),
and hold the value itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.exports.writers import csv_lines, spreadsheet_safe, unescape_cell, write_xlsx
from tests.conftest import client_for
from tests.exports.helpers import csv_dicts, xlsx_sheet
from tests.factories import ContactFactory, OpportunityFactory

NASTY = [
    "=1+2", "+44 20 7946 0000", "-x", "@sum(A1:A2)", "\tTabbed", "\rCarriage", "=HYPERLINK(\"http://x\")",
    'He said "hi"', "line one\nline two", "a,b;c", "Åsa Ünal-Øberg", "😀 emoji", "'=already marked",
    "''=twice", "'plain apostrophe", "plain", "", "-", "=", "1,5", "  spaced  ", "#N/A", "#DIV/0!",
]


@pytest.mark.parametrize("value", NASTY)
def test_spreadsheet_safe_round_trips(value):
    assert unescape_cell(spreadsheet_safe(value)) == value


def test_formula_starts_get_the_text_mark():
    for value in ("=1+2", "+44", "-x", "@sum", "\tx", "\rx", "'=x"):
        assert spreadsheet_safe(value).startswith("'"), value
    for value in ("plain", "'plain", "1+2", "", "a=b"):
        assert spreadsheet_safe(value) == value
    assert spreadsheet_safe(-5) == -5  # a number is a number, not a formula
    assert spreadsheet_safe(Decimal("-1.50")) == Decimal("-1.50")


def _parse(lines: list[str]) -> list[list[str]]:
    text = "".join(lines)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                        max_size=30), min_size=1, max_size=6))
def test_any_text_comes_back_from_csv_unchanged(values):
    header = [f"c{i}" for i in range(len(values))]
    parsed = _parse(list(csv_lines(header, [values])))
    assert parsed[0] == header
    assert [unescape_cell(cell) for cell in parsed[1]] == values


def test_no_csv_cell_starts_like_a_formula():
    rows = _parse(list(csv_lines(["value"], [[v] for v in NASTY])))
    for (cell,) in rows[1:]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)


@pytest.mark.django_db
def test_a_contact_export_round_trips_through_csv(personas):
    """The nasty values in every text field of a contact come back as they were, after the import's unescape."""
    values = {"first_name": "=1+2", "last_name": "@sum Åsa, \"Ünal\"", "title": "-x\ttab",
              "phone": "+44 20 7946 0000", "mobile": "\rCR", "remarks": "line one\nline two, 😀\n=cmd|' /C calc'!A0"}
    contact = ContactFactory(owner=personas.owner, **values)
    response = client_for(personas.owner).get("/exports/contacts/?format=csv")
    row = csv_dicts(response)[0]
    assert row["ID"] == contact.public_id
    assert row["First name"] == values["first_name"]
    assert row["Last name"] == values["last_name"]
    assert row["Title"] == values["title"]
    assert row["Phone"] == values["phone"]
    assert row["Mobile"] == values["mobile"]
    assert row["Remarks"] == values["remarks"]


@pytest.mark.django_db
def test_the_raw_csv_marks_formulas_as_text(personas):
    ContactFactory(owner=personas.owner, first_name="=1+2", last_name="Berg", phone="+44 20")
    text = b"".join(client_for(personas.owner).get("/exports/contacts/?format=csv").streaming_content).decode()
    assert ",'=1+2," in text and ",'+44 20," in text
    assert ",=1+2," not in text


def test_xlsx_text_cells_are_typed_text_never_formulas():
    handle = io.BytesIO()
    write_xlsx(handle, ["=header", "Value", "Number", "When"],
               [[value, value, 12.5, dt.datetime(2026, 5, 1, 10, 0)] for value in NASTY if value])
    handle.seek(0)
    from openpyxl import load_workbook

    sheet = load_workbook(handle).worksheets[0]
    rows = list(sheet.iter_rows())
    assert rows[0][0].data_type == "s" and rows[0][0].value == "=header"
    values = [v for v in NASTY if v]
    for row, value in zip(rows[1:], values, strict=True):
        for cell in row[:2]:
            assert cell.data_type == "s", (value, cell.data_type)
            assert cell.value == value
        assert row[2].data_type == "n" and row[2].value == 12.5
        assert row[3].is_date and row[3].value == dt.datetime(2026, 5, 1, 10, 0)
    assert not any(cell.data_type == "f" for row in rows for cell in row)


@pytest.mark.django_db
def test_an_xlsx_export_keeps_text_as_text_and_numbers_as_numbers(personas):
    OpportunityFactory(owner=personas.owner, name="=1+2", next_step="@sum(A1)", description="-x\n+y",
                       amount=Decimal("1234.50"), expected_close_on=dt.date(2026, 6, 30))
    sheet = xlsx_sheet(client_for(personas.owner).get("/exports/opportunities/?format=xlsx"))
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    for name, value in (("Name", "=1+2"), ("Next step", "@sum(A1)"), ("Description", "-x\n+y")):
        assert row[name].data_type == "s" and row[name].value == value
    assert row["Amount"].data_type == "n" and Decimal(str(row["Amount"].value)) == Decimal("1234.5")
    assert row["Expected close"].is_date
    assert not any(cell.data_type == "f" for line in sheet.iter_rows() for cell in line)
