"""A project's timeline as server-rendered SVG: Gantt-like bars for the project, its milestones and tasks.

Drawn as the report charts are (rapport/reports/charts.py): in a narrow coordinate space (WIDTH units)
scaled by its viewBox, so a unit is about a pixel on a phone and 12-unit text stays readable; each bar's
label sits on its own line above it, so long names never overlap. Every text that comes from a user is
escaped; the SVG carries a <title> and <desc> for screen readers, and each bar a <title> with its dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from rapport.activities.models import Activity, ActivityStatus
from rapport.projects.models import Project
from rapport.projects.selectors import ProjectTasks

WIDTH = 360
SIDE = 6  # room left and right of the bars
AXIS = 22  # the month labels on top
ROW = 30  # a bar's row: its label's line, then the bar
BAR = 10
LABEL_CHARS = 52
LABEL_SPACE = 30  # a month label needs this many units
MAX_TASK_ROWS = 80  # past this, tasks are ticks on their milestone's bar, not rows of their own


@dataclass
class _Row:
    label: str
    start: dt.date
    end: dt.date
    css: str
    note: str
    done_share: float | None = None
    ticks: tuple[tuple[dt.date, str], ...] = ()


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _task_css(task: Activity, today: dt.date) -> str:
    if task.status == ActivityStatus.COMPLETED:
        return "done"
    if task.status == ActivityStatus.CANCELLED:
        return "cancelled"
    return "late" if task.first_day < today else "open"


def _rows(project: Project, tasks: ProjectTasks, today: dt.date) -> list[_Row]:
    rows = [_Row(project.name, project.starts_on, project.due_on, "project",
                 _("%(start)s to %(due)s") % {"start": project.starts_on.isoformat(),
                                               "due": project.due_on.isoformat()})]
    task_count = sum(len(group.tasks) for group in tasks.groups)
    previous = project.starts_on
    for group in tasks.groups:
        if group.milestone is not None:
            end = group.milestone.due_on or project.due_on
            start = min(previous, end)
            rows.append(_Row(f"◆ {group.milestone.name} · {group.progress.done}/{group.progress.total}", start, end,
                             "milestone", _("%(start)s to %(due)s, %(done)s of %(total)s tasks done") % {
                                 "start": start.isoformat(), "due": end.isoformat(), "done": group.progress.done,
                                 "total": group.progress.total},
                             done_share=group.progress.done / group.progress.total if group.progress.total else 0,
                             ticks=tuple((t.first_day, _task_css(t, today)) for t in group.tasks)
                             if task_count > MAX_TASK_ROWS else ()))
            previous = max(previous, end)
        elif group.tasks and task_count <= MAX_TASK_ROWS:
            rows.append(_Row(_("Not in a milestone"), project.starts_on, project.due_on, "group", ""))
        if task_count <= MAX_TASK_ROWS:
            for task in group.tasks:
                rows.append(_Row(task.subject, task.first_day, task.first_day, f"task {_task_css(task, today)}",
                                 _("due %(day)s, %(status)s") % {"day": task.first_day.isoformat(),
                                                                 "status": task.get_status_display().lower()}))
    return rows


MAX_MONTH_LINES = 48  # past four years, the grid marks years (every 2nd, 5th... on a very long span)


def _grid(start: dt.date, end: dt.date) -> tuple[list[dt.date], bool]:
    """The grid's lines: the first of each month, or of each year (second value True) when the months
    would be too many; a bounded number, even for a span of centuries, and never past the last date."""
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    if span <= MAX_MONTH_LINES:
        lines = []
        for index in range(span):
            year, month = divmod(start.month - 1 + index, 12)
            lines.append(dt.date(start.year + year, month + 1, 1))
        return lines, False
    years = end.year - start.year + 1
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
                if years / s <= MAX_MONTH_LINES)
    first_year = start.year - start.year % step
    return [dt.date(year, 1, 1) if year else start for year in range(first_year, end.year + 1, step)], True


def timeline_svg(project: Project, tasks: ProjectTasks, *, today: dt.date) -> SafeString:
    """The project's timeline: a bar per milestone (filled as far as its tasks are done) and per task."""
    rows = _rows(project, tasks, today)
    first = min([project.starts_on, *(r.start for r in rows)])
    last = max([project.due_on, *(r.end for r in rows)])
    days = (last - first).days + 1
    plot = WIDTH - 2 * SIDE

    def x(day: dt.date) -> float:
        return SIDE + plot * (day - first).days / days

    def width(start: dt.date, end: dt.date) -> float:
        # A one-day task would be a hairline on a long project: it gets a visible mark, kept inside the plot.
        return max(plot * ((end - start).days + 1) / days, 6)

    height = AXIS + ROW * len(rows) + 6
    title = _("Timeline of %(name)s") % {"name": project.name}
    desc = _("From %(start)s to %(due)s: %(count)s milestones and tasks as bars between their dates.") % {
        "start": project.starts_on.isoformat(), "due": project.due_on.isoformat(), "count": len(rows) - 1}
    parts = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-labelledby="timeline-title timeline-desc" xmlns="http://www.w3.org/2000/svg" '
             f'style="max-width:{WIDTH * 5 // 3}px">',
             f'<title id="timeline-title">{escape(title)}</title><desc id="timeline-desc">{escape(desc)}</desc>']
    months, by_year = _grid(first, last)
    step = max(1, -(-len(months) * LABEL_SPACE // plot))  # label every month, or every 2nd, 3rd... when crowded
    for index, month in enumerate(months):
        left = x(max(month, first))
        parts.append(f'<line class="grid" x1="{left:.1f}" y1="{AXIS - 6}" x2="{left:.1f}" y2="{height}"/>')
        if index % step == 0 and left < WIDTH - LABEL_SPACE:
            if by_year:
                label = str(max(month, first).year)
            else:
                label = f"{MONTHS_3[month.month].title()}" + (f" {month:%y}" if month.month == 1 or index == 0 else "")
            parts.append(f'<text class="axis" x="{left + 2:.1f}" y="12">{escape(label)}</text>')
    if first <= today <= last:
        parts.append(f'<line class="today" x1="{x(today):.1f}" y1="{AXIS - 6}" x2="{x(today):.1f}" y2="{height}">'
                     f'<title>{escape(_("Today"))}</title></line>')
    for index, row in enumerate(rows):
        top = AXIS + index * ROW
        bar_width = width(row.start, row.end)
        left = min(x(row.start), WIDTH - SIDE - bar_width)
        parts.append(f'<g class="row {escape(row.css)}">')
        parts.append(f'<text x="{SIDE}" y="{top + 11}">{escape(_short(row.label))}</text>')
        parts.append(f'<rect class="bar" x="{left:.1f}" y="{top + 15}" width="{bar_width:.1f}" height="{BAR}" rx="2">'
                     f'<title>{escape(row.label)}: {escape(row.note)}</title></rect>')
        if row.done_share:
            parts.append(f'<rect class="done-part" x="{left:.1f}" y="{top + 15}" '
                         f'width="{bar_width * row.done_share:.1f}" height="{BAR}" rx="2"/>')
        for day, css in row.ticks:
            parts.append(f'<rect class="tick {css}" x="{x(day):.1f}" y="{top + 13}" width="3" height="{BAR + 4}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every user text above went through escape()
