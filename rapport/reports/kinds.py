"""The kinds of report: what each counts, which filters it takes, and the record type a user must be
allowed to read to open it. Pages, the API, saved reports and the dashboard all run reports through
`run_report`, so a filter means the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from rapport.core.access import access_for
from rapport.core.models import Action
from rapport.reports import selectors
from rapport.reports.filters import ReportFilters, parse_filters
from rapport.reports.selectors import FOLLOW_UP_STATES, Report

PIPELINE_FILTERS = ("period", "from", "to", "owner", "team", "currency", "pipeline", "stage")


@dataclass(frozen=True)
class ReportKind:
    key: str
    title: Any
    description: Any
    record_type: str
    filters: tuple[str, ...]
    build: Callable[..., Report]
    dates: Any = ""  # what the date filters apply to
    default_period: str = "any"
    status_choices: Callable[[], dict[str, Any]] | None = None

    def choices(self) -> dict[str, Any]:
        return self.status_choices() if self.status_choices else {}


KINDS: dict[str, ReportKind] = {kind.key: kind for kind in (
    ReportKind("pipeline-by-stage", _("Pipeline by stage"),
               _("Open opportunities in each stage: how many, their amount and the amount weighted by probability."),
               "opportunity", PIPELINE_FILTERS, selectors.pipeline_by_stage, _("expected close date")),
    ReportKind("pipeline-by-owner", _("Pipeline by owner"),
               _("Open opportunities of each owner: how many, their amount and the weighted amount."),
               "opportunity", PIPELINE_FILTERS, selectors.pipeline_by_owner, _("expected close date")),
    ReportKind("pipeline-by-month", _("Pipeline by close month"),
               _("Open opportunities by the month they are expected to close."),
               "opportunity", PIPELINE_FILTERS, selectors.pipeline_by_month, _("expected close date")),
    ReportKind("won-lost", _("Won and lost"),
               _("Opportunities won and lost per month, with their amounts."),
               "opportunity", ("period", "from", "to", "owner", "team", "currency", "pipeline"), selectors.won_lost,
               _("closed on"), default_period="last-12-months"),
    ReportKind("activities", _("Activities per user and kind"),
               _("Calls, meetings, tasks and other activities of each owner, and how many are completed."),
               "activity", ("period", "from", "to", "owner", "team", "kind"), selectors.activities,
               _("start or due date"), default_period="last-30-days"),
    ReportKind("follow-ups-by-rule", _("Follow-ups per rule"),
               _("Follow-ups the automation rules made: overdue, open and closed, per rule."),
               "activity", ("period", "from", "to", "owner", "team", "rule", "status"), selectors.follow_ups_by_rule,
               _("made on"), status_choices=lambda: dict(FOLLOW_UP_STATES)),
    ReportKind("follow-ups-by-user", _("Follow-ups per user"),
               _("Follow-ups per person they are assigned to: overdue, open and closed."),
               "activity", ("period", "from", "to", "owner", "team", "rule", "status"), selectors.follow_ups_by_user,
               _("made on"), status_choices=lambda: dict(FOLLOW_UP_STATES)),
    ReportKind("support", _("Support items by status, priority and age"),
               _("Support items per status and priority, by how long ago they came in."),
               "support_item", ("period", "from", "to", "owner", "team", "status", "priority"), selectors.support,
               _("came in"), status_choices=selectors.support_status_choices),
    ReportKind("campaigns", _("Campaign results"),
               _("Each campaign's recipients by status: sent, replied, bounced, unsubscribed, skipped, waiting."),
               "campaign", ("period", "from", "to", "owner", "team", "status"), selectors.campaigns, _("started"),
               status_choices=selectors.campaign_status_choices),
    ReportKind("accounts-by-stage", _("Accounts by relationship stage"),
               _("How many accounts are growing, mature, declining or closed."),
               "account", ("owner", "team"), selectors.accounts_by_stage),
)}


def kind_get(key: str) -> ReportKind:
    """A report kind by its key; 404 for an unknown one."""
    kind = KINDS.get(key)
    if kind is None:
        raise Http404(f"No report named {key!r}.")
    return kind


def may_run(user: Any, kind: ReportKind) -> bool:
    return access_for(user).can(kind.record_type, Action.READ)


def kinds_for(user: Any) -> list[ReportKind]:
    """The kinds a user may open: those whose records their roles let them read."""
    return [kind for kind in KINDS.values() if may_run(user, kind)]


def kind_filters(kind: ReportKind, params: Any, *, user: Any) -> ReportFilters:
    return parse_filters(params, allowed=kind.filters, user=user, choices=kind.choices(),
                         default_period=kind.default_period)


def run_report(kind: ReportKind, params: Any, *, user: Any) -> tuple[ReportFilters, Report]:
    """Check the user may open the report, parse its filters (ValidationError naming each bad one), run it."""
    if not may_run(user, kind):
        raise PermissionDenied(f"You may not read the records of the report {kind.key}.")
    filters = kind_filters(kind, params, user=user)
    return filters, kind.build(user=user, filters=filters)
