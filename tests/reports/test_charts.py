"""The charts: well-formed SVG with a title and a description, drawn for a phone (a narrow viewBox, labels on
their own line), and every value in them the value in the table beside them."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from rapport.reports import charts
from rapport.reports.kinds import KINDS, run_report
from rapport.reports.selectors import Chart, Series
from tests.conftest import client_for
from tests.reports.world import build_world

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
MONTHLY = {"from": "2026-01-01", "to": "2026-12-31"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def chart_values(root: ET.Element) -> dict[tuple[str, str], str]:
    """(category label, series key) -> data-value of every bar, segment and point."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        for mark in group:
            if mark.get("data-value") is not None:
                found[(group.get("data-label"), mark.get("data-series"))] = mark.get("data-value")
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_chart_is_well_formed_accessible_svg_whose_numbers_are_the_tables(personas, kind):
    build_world(personas)
    params = MONTHLY if kind in ("pipeline-by-month", "won-lost") else {}
    _filters, report = run_report(KINDS[kind], params, user=personas.admin)
    assert report.charts, f"{kind} draws no chart for the test world"
    for index, chart in enumerate(report.charts):
        root = parse(charts.render(chart, f"c{index}"))
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"c{index}-title c{index}-desc"
        assert root.find(f"{SVG}title").text == chart.title
        assert root.find(f"{SVG}desc").text
        assert root.get("viewBox").startswith(f"0 0 {charts.WIDTH} ")  # drawn for a phone's width
        shown = chart_values(root)
        rows = report.rows
        if chart.unit:  # amounts: one chart per currency, each with that currency's rows only
            rows = [row for row in rows if row["currency"] == chart.unit]
        for category, values in zip(chart.categories, chart.values, strict=True):
            label = category.strftime("%Y-%m") if isinstance(category, dt.date) else str(category)
            for series, value in zip(chart.series, values, strict=True):
                assert shown[(label, series.key)] == str(value)
        _same_as_table(kind, chart, rows, shown)


def _same_as_table(kind: str, chart: Chart, rows: list[dict], shown: dict) -> None:
    """Each table row's figure is the chart's, read back from the SVG."""
    for row in rows:
        if kind in ("pipeline-by-stage", "pipeline-by-owner"):
            label = row["stage" if kind == "pipeline-by-stage" else "owner"]
            assert shown[(label, "amount")] == str(row["amount"])
        elif kind == "pipeline-by-month":
            assert shown[(row["month"].strftime("%Y-%m"), "amount")] == str(row["amount"])
        elif kind == "won-lost":
            month = row["month"].strftime("%Y-%m")
            assert (shown[(month, "won_amount")], shown[(month, "lost_amount")]) == (
                str(row["won_amount"]), str(row["lost_amount"]))
        elif kind == "activities":
            assert shown[(row["user"], row["kind_key"])] == str(row["activities"])
        elif kind.startswith("follow-ups"):
            label = row["rule" if kind == "follow-ups-by-rule" else "user"]
            for key in ("overdue", "open", "closed"):
                assert shown[(label, key)] == str(row[key])
        elif kind == "support":
            assert shown[(row["status"], row["priority_key"])] == str(row["items"])
        elif kind == "campaigns":
            for key in ("sent", "replied", "bounced", "unsubscribed", "skipped", "queued", "waiting"):
                assert shown[(row["campaign"], key)] == str(row[key])
        elif kind == "accounts-by-stage":
            assert shown[(row["stage"], "accounts")] == str(row["accounts"])


def test_the_page_shows_the_chart_and_the_table_with_the_same_figures(personas):
    build_world(personas)
    page = client_for(personas.owner).get("/reports/pipeline-by-stage/").content.decode()
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) == 2  # EUR and USD
    eur = chart_values(parse(svgs[0]))
    assert eur == {("Prospecting", "amount"): "1500.50", ("Proposal", "amount"): "2000.00"}
    # The table prints the same amounts, grouped as the user's language writes them.
    for text in ("1,500.50", "2,000.00", "300.00", "3,500.50"):
        assert text in page


def test_long_labels_are_cut_with_the_whole_label_in_the_title_and_nothing_is_left_unescaped():
    name = "<Acme & Sons> " + "Very long company name " * 5
    chart = Chart(type="bars", title="Deals & <more>", categories=[name], series=[Series("amount", "Amount")],
                  values=[[Decimal("12.50")]], money=True, unit="EUR")
    root = parse(charts.render(chart, "x"))
    label = next(root.iter(f"{SVG}text"))
    assert label.text.endswith("…") and len(label.text) <= charts.LABEL_CHARS
    assert next(root.iter(f"{SVG}g")).get("data-label") == name
    assert root.find(f"{SVG}title").text == "Deals & <more>"


def test_a_long_month_axis_labels_only_every_few_months_so_labels_never_overlap():
    months = [dt.date(2020 + i // 12, i % 12 + 1, 1) for i in range(36)]
    chart = Chart(type="columns", title="Three years", categories=months, series=[Series("amount", "Amount")],
                  values=[[Decimal(i)] for i in range(36)], money=True, unit="EUR")
    root = parse(charts.render(chart, "m"))
    xs = [float(text.get("x")) for text in root.iter(f"{SVG}text") if text.get("class") == "axis"]
    assert 6 <= len(xs) < 36
    assert all(b - a >= charts.LABEL_SPACE for a, b in itertools.pairwise(xs))
    assert len(list(root.iter(f"{SVG}rect"))) == 36  # every month is still drawn


def test_an_empty_report_draws_no_chart_and_says_so(personas):
    page = client_for(personas.owner).get("/reports/won-lost/").content.decode()
    assert "<svg" not in page.split('id="main"')[1]
    assert "Nothing to count with these filters." in page
