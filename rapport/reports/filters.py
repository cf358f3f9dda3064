"""The filters of reports: one definition for the pages, the API, saved reports and the dashboard.

A report's address carries its filters (`?period=this-quarter&owner=me&currency=EUR`). Each report kind
takes some of them (rapport.reports.kinds); a filter it does not take, or a value that does not parse,
is a ValidationError naming the parameter, with every problem at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.core.access import access_for
from rapport.core.models import Team, User
from rapport.sales.currencies import ISO_4217

FIRST_YEAR, LAST_YEAR = 1900, 9000
MAX_MONTHS = 120  # a report covers at most ten years: its month axis stays drawable
MINE = "mine"  # team=mine: the teams the user manages, and their own
ME = "me"

# Relative periods, so a saved report ("won and lost this quarter") stays current.
PERIODS: dict[str, Any] = {
    "last-30-days": gettext_lazy("Last 30 days"),
    "this-month": gettext_lazy("This month"),
    "last-month": gettext_lazy("Last month"),
    "this-quarter": gettext_lazy("This quarter"),
    "last-quarter": gettext_lazy("Last quarter"),
    "this-year": gettext_lazy("This year"),
    "last-12-months": gettext_lazy("Last 12 months"),
    "next-12-months": gettext_lazy("Next 12 months"),
    "any": gettext_lazy("Any time"),
}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return _add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


def period_range(period: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of a named period around `today` (None, None for "any")."""
    month = today.replace(day=1)
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    ranges = {
        "last-30-days": (today - dt.timedelta(days=29), today),
        "this-month": (month, month_end(month)),
        "last-month": (_add_months(month, -1), month - dt.timedelta(days=1)),
        "this-quarter": (quarter, month_end(_add_months(quarter, 2))),
        "last-quarter": (_add_months(quarter, -3), quarter - dt.timedelta(days=1)),
        "this-year": (dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)),
        "last-12-months": (_add_months(month, -11), today),
        "next-12-months": (month, month_end(_add_months(month, 11))),
    }
    return ranges.get(period, (None, None))


@dataclass
class ReportFilters:
    """Parsed filters. `values` holds them as the address carries them (for links, forms and saving);
    `owner_ids` is the set of owners the owner and team filters leave (None: anyone)."""

    values: dict[str, str] = field(default_factory=dict)
    start: dt.date | None = None
    end: dt.date | None = None
    period: str = ""
    owner: User | None = None
    team: Team | None = None
    owner_ids: frozenset[int] | None = None
    currency: str = ""
    pipeline: Any = None
    stage: Any = None
    activity_kind: Any = None
    status: str = ""
    priority: str = ""
    rule: Any = None

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def _text(params: Any, name: str) -> str:
    if hasattr(params, "getlist"):
        values = [v for v in params.getlist(name) if v != ""]
        value = values[-1] if values else ""
    else:
        value = params.get(name)
    return "" if value is None else str(value).strip()


def parse_date(raw: str, *, end: bool = False) -> dt.date:
    """YYYY-MM-DD, or YYYY-MM (its first day; its last with end=True). ValueError otherwise."""
    if len(raw) == 7 and raw[4] == "-":
        day = dt.date.fromisoformat(f"{raw}-01")
        day = month_end(day) if end else day
    elif len(raw) == 10:
        day = dt.date.fromisoformat(raw)
    else:
        raise ValueError(raw)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(raw)
    return day


def parse_filters(params: Any, *, allowed: tuple[str, ...], user: Any, choices: dict[str, Any] | None = None,
                  default_period: str = "any", today: dt.date | None = None) -> ReportFilters:
    """Read the filters a report takes from a QueryDict or dict; refuse others, naming them.

    `choices` gives the values a kind allows for `status` ({value: label}).
    """
    from rapport.activities.models import ActivityKind
    from rapport.automation.models import Rule
    from rapport.sales.models import Pipeline, PipelineStage
    from rapport.support.models import SupportPriority

    errors: dict[str, list[str]] = {}
    names = set(params.keys()) - {"format", "saved"}
    for name in sorted(names - set(allowed)):
        errors[name] = [_("This report has no such filter; it takes: %s.") % ", ".join(allowed)]
    result = ReportFilters()
    raw = {name: _text(params, name) for name in allowed}
    today = today or timezone.localdate()

    if "from" in allowed:
        period = raw.get("period", "")
        if period and period not in PERIODS:
            errors["period"] = [_("Use one of: %s.") % ", ".join(PERIODS)]
        dates: dict[str, dt.date] = {}
        for name in ("from", "to"):
            if raw[name]:
                try:
                    dates[name] = parse_date(raw[name], end=name == "to")
                except ValueError:
                    errors[name] = [_("Enter a date as YYYY-MM-DD (from %(first)s to %(last)s).")
                                    % {"first": FIRST_YEAR, "last": LAST_YEAR}]
        if period and (raw["from"] or raw["to"]) and "period" not in errors:
            errors["period"] = [_("Choose a period or dates, not both.")]
        if not period and not raw["from"] and not raw["to"]:
            period = default_period
        if period and period in PERIODS:
            result.period = period
            result.start, result.end = period_range(period, today)
            result.values["period"] = period
        else:
            result.start, result.end = dates.get("from"), dates.get("to")
            for name in ("from", "to"):
                if name in dates:
                    result.values[name] = dates[name].isoformat()
        if result.start and result.end:
            if result.end < result.start:
                errors.setdefault("to", []).append(_("The end comes before the start."))
            elif (result.end.year - result.start.year) * 12 + result.end.month - result.start.month >= MAX_MONTHS:
                errors.setdefault("to", []).append(_("A report covers at most %d years.") % (MAX_MONTHS // 12))

    if raw.get("owner"):
        if raw["owner"] == ME:
            result.owner = user
        else:
            result.owner = User.objects.filter(public_id=raw["owner"]).first()
        if result.owner is None:
            errors["owner"] = [_("No such user.")]
        else:
            result.values["owner"] = raw["owner"]
            result.owner_ids = frozenset({result.owner.pk})
    if raw.get("team"):
        if raw["team"] == MINE:
            reach = access_for(user).reach_ids()
            result.owner_ids = reach if result.owner_ids is None else result.owner_ids & reach
            result.values["team"] = MINE
        else:
            result.team = Team.objects.filter(public_id=raw["team"]).first()
            if result.team is None:
                errors["team"] = [_("No such team.")]
            else:
                members = frozenset(User.objects.filter(team=result.team).values_list("id", flat=True))
                result.owner_ids = members if result.owner_ids is None else result.owner_ids & members
                result.values["team"] = raw["team"]
    if raw.get("currency"):
        code = raw["currency"].upper()
        if code not in ISO_4217:
            errors["currency"] = [_("Enter a three-letter currency code, such as EUR.")]
        else:
            result.currency = result.values["currency"] = code
    if raw.get("pipeline"):
        result.pipeline = Pipeline.objects.filter(public_id=raw["pipeline"]).first()
        if result.pipeline is None:
            errors["pipeline"] = [_("No such pipeline.")]
        else:
            result.values["pipeline"] = raw["pipeline"]
    if raw.get("stage"):
        result.stage = PipelineStage.objects.filter(public_id=raw["stage"]).first()
        if result.stage is None:
            errors["stage"] = [_("No such stage.")]
        else:
            result.values["stage"] = raw["stage"]
    if raw.get("kind"):
        result.activity_kind = ActivityKind.objects.filter(key=raw["kind"]).first()
        if result.activity_kind is None:
            errors["kind"] = [_("No such kind of activity.")]
        else:
            result.values["kind"] = raw["kind"]
    if raw.get("status"):
        if raw["status"] not in (choices or {}):
            errors["status"] = [_("Use one of: %s.") % ", ".join(choices or {})]
        else:
            result.status = result.values["status"] = raw["status"]
    if raw.get("priority"):
        if raw["priority"] not in SupportPriority.values:
            errors["priority"] = [_("Use one of: %s.") % ", ".join(SupportPriority.values)]
        else:
            result.priority = result.values["priority"] = raw["priority"]
    if raw.get("rule"):
        result.rule = Rule.objects.filter(public_id=raw["rule"]).first()
        if result.rule is None:
            errors["rule"] = [_("No such rule.")]
        else:
            result.values["rule"] = raw["rule"]
    if errors:
        raise ValidationError(errors)
    return result


def local_bounds(filters: ReportFilters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The date range as moments: from the start of the first day to the start of the day after the last,
    in the user's time zone (the page's middleware has activated it)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(filters.start, dt.time(), tzinfo=zone) if filters.start else None
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), tzinfo=zone) if filters.end else None
    return start, end
