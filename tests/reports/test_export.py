"""Exports: a report's table goes out as CSV and XLSX and reads back as the same rows and totals, with the
filters of its address; a name that looks like a formula never runs as one."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from rapport.exports.writers import unescape_cell
from tests.conftest import client_for
from tests.factories import OpportunityFactory
from tests.reports.world import build_world

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_round_trip_of_the_pipeline(personas):
    build_world(personas)
    response = client_for(personas.owner).get("/reports/pipeline-by-stage/export/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="pipeline-by-stage-')
    assert _csv(response) == [
        ["Stage", "Currency", "Deals", "Amount", "Weighted"],
        ["Prospecting", "EUR", "2", "1500.50", "200.10"],
        ["Proposal", "EUR", "1", "2000.00", "1200.00"],
        ["Proposal", "USD", "1", "300.00", "150.00"],
        ["Total", "EUR", "3", "3500.50", "1400.10"],
        ["Total", "USD", "1", "300.00", "150.00"],
    ]


def test_xlsx_round_trip_with_filters_and_months(personas, api_for):
    build_world(personas)
    response = api_for(personas.owner).get("reports/kinds/won-lost", format="xlsx",
                                           **{"from": "2026-01-01", "to": "2026-02-28", "currency": "EUR"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))
    numbers = [tuple(Decimal(str(c)) if isinstance(c, int | float) else c for c in row) for row in rows]
    assert numbers == [
        ("Month", "Currency", "Won deals", "Won amount", "Lost deals", "Lost amount"),
        ("2026-01", "EUR", 1, Decimal("400.00"), 1, Decimal("150.25")),
        ("2026-02", "EUR", 1, Decimal("600.00"), 0, Decimal("0.00")),
        ("Total", "EUR", 2, Decimal("1000.00"), 1, Decimal("150.25")),
    ]


def test_a_saved_report_exports_the_callers_figures(personas, api_for):
    OpportunityFactory(owner=personas.owner, amount=Decimal("10.00"), visibility="private")
    api = api_for(personas.owner)
    created = api.post("reports", {"name": "Mine", "kind": "pipeline-by-owner", "visibility": "everyone"})
    report_id = created.json()["id"]
    mine = _csv(api.get(f"reports/{report_id}/data", format="csv"))
    theirs = _csv(api_for(personas.outsider).get(f"reports/{report_id}/data", format="csv"))
    assert mine[1][1:4] == ["EUR", "1", "10.00"]
    assert theirs == [["Owner", "Currency", "Deals", "Amount", "Weighted"]]


def test_a_name_that_looks_like_a_formula_is_text(personas):
    OpportunityFactory(owner=personas.owner, amount=Decimal("5.00"))
    personas.owner.first_name, personas.owner.last_name = "=HYPERLINK(1)", ""
    personas.owner.save()
    response = client_for(personas.owner).get("/reports/pipeline-by-owner/export/", {"format": "csv"})
    cell = _csv(response)[1][0]
    assert cell == "'=HYPERLINK(1)" and unescape_cell(cell) == "=HYPERLINK(1)"
    xlsx = client_for(personas.owner).get("/reports/pipeline-by-owner/export/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet["A2"].value == "=HYPERLINK(1)" and sheet["A2"].data_type == "s"
