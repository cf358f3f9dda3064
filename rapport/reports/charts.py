"""Charts drawn on the server as SVG: horizontal bars (plain or stacked) for categories, columns and lines
for months.

Each chart is drawn in a narrow coordinate space (WIDTH units) and scaled by its viewBox, so that on a
phone (about 360 px for the chart) a unit is about a pixel and the 12-unit text stays readable; labels of
bars sit on their own line above the bar, so long names never overlap, and a month axis labels every
second or third month when the months would crowd. Every bar, segment and point carries its value in
`data-value` and a <title>, exactly the value of the table beside it; the chart's <title> and <desc> say
what it shows for screen readers.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.utils.dates import MONTHS_3
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from rapport.reports.selectors import Chart

WIDTH = 360
ROW = 38  # a bar's row: its label's line, then the bar
BAR_HEIGHT = 14
VALUE_ROOM = 100  # right of the longest bar, for its value
LABEL_CHARS = 48
PLOT_HEIGHT = 150
AXIS_LEFT = 46
AXIS_BOTTOM = 34
TOP = 14
LABEL_SPACE = 26  # a month label needs this many units


def format_value(value: Any, *, money: bool = False) -> str:
    """A value as the table shows it: amounts with two decimals (none when whole), counts grouped."""
    if money:
        amount = Decimal(value)
        places = 0 if amount == amount.to_integral_value() else 2
        return number_format(amount, decimal_pos=places, force_grouping=True)
    return number_format(value, force_grouping=True)


def compact(value: float) -> str:
    """An axis tick: 950, 12k, 1.5M."""
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _label(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _series_class(index: int, key: str) -> str:
    return f"s{index % 8} series-{escape(key)}"


def render(chart: Chart, chart_id: str) -> SafeString:
    """The chart as an <svg> element (well-formed XML)."""
    if chart.type in ("bars", "stacked"):
        body, height, width = _bars(chart)
    else:
        body, height, width = _months(chart)
    title = escape(chart.title)
    desc = escape(_describe(chart))
    return mark_safe(  # noqa: S308 - every text and attribute above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart chart-{escape(chart.type)}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMinYMin meet" data-chart-type="{escape(chart.type)}">'
        f'<title id="{chart_id}-title">{title}</title><desc id="{chart_id}-desc">{desc}</desc>{body}</svg>')


def _describe(chart: Chart) -> str:
    """What the chart shows, in words: every category with its values (the table below has them too)."""
    unit = f" {chart.unit}" if chart.unit else ""
    parts = []
    for category, values in zip(chart.categories, chart.values, strict=True):
        shown = ", ".join(f"{series.label} {format_value(value, money=chart.money)}{unit}"
                          for series, value in zip(chart.series, values, strict=True))
        parts.append(f"{_label(category)}: {shown}")
    return "; ".join(parts) + "." if parts else _("Nothing to show.")


def _bars(chart: Chart) -> tuple[str, int, int]:
    plot = WIDTH - VALUE_ROOM
    totals = [sum(values, Decimal(0)) if chart.money else sum(values) for values in chart.values]
    top = max([float(total) for total in totals] or [0]) or 1.0
    out = []
    unit = f" {chart.unit}" if chart.unit else ""
    for index, (category, values, total) in enumerate(zip(chart.categories, chart.values, totals, strict=True)):
        y = 4 + index * ROW
        label = _label(category)
        out.append(f'<g class="row" data-label="{escape(label)}"><title>{escape(label)}</title>'
                   f'<text class="label" x="0" y="{y + 13}">{escape(_short(label))}</text>')
        x = 0.0
        for series_index, (series, value) in enumerate(zip(chart.series, values, strict=True)):
            width = plot * float(value) / top
            if value and width < 1.5:
                width = 1.5
            out.append(
                f'<rect class="{_series_class(series_index, series.key)}" x="{_n(x)}" y="{y + 18}" '
                f'width="{_n(width)}" height="{BAR_HEIGHT}" data-series="{escape(series.key)}" '
                f'data-value="{value}"><title>{escape(label)} · {escape(series.label)}: '
                f'{format_value(value, money=chart.money)}{escape(unit)}</title></rect>')
            x += width
        out.append(f'<text class="value" x="{_n(x + 4)}" y="{y + 30}">'
                   f'{format_value(total, money=chart.money)}</text></g>')
    height = 8 + len(chart.categories) * ROW
    return "".join(out), height, WIDTH


def _month_label(month: dt.date) -> str:
    return str(MONTHS_3[month.month]).title()


def _months(chart: Chart) -> tuple[str, int, int]:
    months: list[dt.date] = chart.categories
    count = max(len(months), 1)
    slot = (WIDTH - AXIS_LEFT - 8) / count
    step = max(1, math.ceil(LABEL_SPACE / slot))
    peak = max([float(v) for values in chart.values for v in values] or [0])
    ceiling = nice_ceiling(peak)
    base = TOP + PLOT_HEIGHT

    def y_of(value: Any) -> float:
        return base - PLOT_HEIGHT * float(value) / ceiling

    out = []
    for fraction in (0, 0.5, 1):
        y = base - PLOT_HEIGHT * fraction
        out.append(f'<line class="grid" x1="{AXIS_LEFT}" x2="{WIDTH - 4}" y1="{_n(y)}" y2="{_n(y)}"/>'
                   f'<text class="tick" x="{AXIS_LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">'
                   f'{compact(ceiling * fraction)}</text>')
    unit = f" {chart.unit}" if chart.unit else ""
    groups = len(chart.series)
    bar = slot * 0.7 / groups
    points: list[list[tuple[float, float]]] = [[] for _s in chart.series]
    last_year = None
    for index, (month, values) in enumerate(zip(months, chart.values, strict=True)):
        x0 = AXIS_LEFT + index * slot
        center = x0 + slot / 2
        label = _label(month)
        out.append(f'<g class="month" data-label="{label}">')
        for series_index, (series, value) in enumerate(zip(chart.series, values, strict=True)):
            title = (f'<title>{escape(month.strftime("%Y-%m"))} · {escape(series.label)}: '
                     f'{format_value(value, money=chart.money)}{escape(unit)}</title>')
            css = _series_class(series_index, series.key)
            if chart.type == "columns":
                x = x0 + slot * 0.15 + series_index * bar
                top = y_of(value)
                out.append(f'<rect class="{css}" x="{_n(x)}" y="{_n(top)}" width="{_n(bar)}" '
                           f'height="{_n(base - top)}" data-series="{escape(series.key)}" data-value="{value}">'
                           f'{title}</rect>')
            else:
                y = y_of(value)
                points[series_index].append((center, y))
                out.append(f'<circle class="{css}" cx="{_n(center)}" cy="{_n(y)}" r="3" '
                           f'data-series="{escape(series.key)}" data-value="{value}">{title}</circle>')
        if (count - 1 - index) % step == 0:  # the latest month always has its label
            out.append(f'<text class="axis" x="{_n(center)}" y="{base + 14}" text-anchor="middle">'
                       f'{escape(_month_label(month))}</text>')
            if month.year != last_year:
                out.append(f'<text class="axis year" x="{_n(center)}" y="{base + 28}" text-anchor="middle">'
                           f'{month.year}</text>')
                last_year = month.year
        out.append("</g>")
    if chart.type == "lines":
        for series_index, series in enumerate(chart.series):
            if len(points[series_index]) > 1:
                path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points[series_index])
                out.insert(3, f'<polyline class="line {_series_class(series_index, series.key)}" points="{path}" '
                              f'aria-hidden="true"/>')
    out.append(f'<line class="axis-line" x1="{AXIS_LEFT}" x2="{WIDTH - 4}" y1="{base}" y2="{base}"/>')
    return "".join(out), base + AXIS_BOTTOM, WIDTH
