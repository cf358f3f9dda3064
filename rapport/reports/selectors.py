"""Reads of the reports app: each report as one or two GROUP BY queries over what the user may see, and
saved reports.

Every report aggregates over `Model.objects.visible_to(user)` of the records it counts, so a report shared
with a team shows each viewer only the records that viewer may see. Amounts are summed per currency and
never added across currencies. Rows are aggregated by the database; Python only names and orders the groups.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.core.access import access_for, access_record
from rapport.core.models import Action, Scope, User
from rapport.reports.filters import MAX_MONTHS, ReportFilters, local_bounds
from rapport.reports.models import SavedReport

CENT = Decimal("0.01")
MAX_GROUPS = 500  # rows of a report beyond this are cut, and the report says so
NO_STAGE = "none"


# --- What a report is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, money, month

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "money")


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass
class Chart:
    """What a chart shows, before it is drawn (rapport.reports.charts): a value per category and series."""

    type: str  # "bars" (a bar per category), "stacked" (segments per series), "columns" (months), "lines"
    title: str
    categories: list[Any]  # names, or month dates for "columns" and "lines"
    series: list[Series]
    values: list[list[Any]]  # [category][series]
    money: bool = False  # values are amounts (two decimals), in `unit`
    unit: str = ""


@dataclass
class Report:
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table_rows(self) -> list[list[Any]]:
        return [[row.get(column.key) for column in self.columns] for row in self.rows]


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _month(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months: list[dt.date] = []
    month = first.replace(day=1)
    while month <= last and len(months) < MAX_MONTHS:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _axis(found: list[dt.date], filters: ReportFilters) -> list[dt.date]:
    """The months a chart runs over: the filter's range, else from the first month with data to the last."""
    first = filters.start or (min(found) if found else None)
    last = filters.end or (max(found) if found else None)
    if first is None or last is None:
        return []
    return months_between(first, last)


def _user_names(ids: set[int]) -> dict[int, tuple[str, str]]:
    """(display name, public id) of users, from one query."""
    rows = User.objects.filter(pk__in=ids).values_list("id", "public_id", "first_name", "last_name", "username")
    return {pk: (f"{first} {last}".strip() or username, public_id) for pk, public_id, first, last, username in rows}


def _by_owner(qs: QuerySet, filters: ReportFilters, owner_field: str = "owner_id") -> QuerySet:
    if filters.owner_ids is not None:
        qs = qs.filter(**{f"{owner_field}__in": filters.owner_ids})
    return qs


def _cut(rows: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    if len(rows) > MAX_GROUPS:
        notes.append(_("Only the first %d rows are shown; narrow the filters to see the rest.") % MAX_GROUPS)
        return rows[:MAX_GROUPS]
    return rows


# --- Pipeline: open opportunities by stage, owner and close month ------------------------------------


def _open_deals(user: Any, filters: ReportFilters) -> QuerySet:
    from rapport.sales.models import Opportunity

    qs = _by_owner(Opportunity.objects.visible_to(user).filter(is_open=True), filters)
    if filters.start:
        qs = qs.filter(expected_close_on__gte=filters.start)
    if filters.end:
        qs = qs.filter(expected_close_on__lte=filters.end)
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    if filters.pipeline is not None:
        qs = qs.filter(stage__pipeline=filters.pipeline)
    if filters.stage is not None:
        qs = qs.filter(stage=filters.stage)
    return qs.order_by()


def _weighted() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") * F("probability"), output_field=DecimalField(max_digits=20, decimal_places=2))


PIPELINE_MEASURES = {"n": Count("id"), "total": Sum("amount"), "weighted_total": Sum(_weighted())}


def _pipeline_columns(first: Column) -> list[Column]:
    return [first, Column("currency", _("Currency")), Column("deals", _("Deals"), "int"),
            Column("amount", _("Amount"), "money"), Column("weighted", _("Weighted"), "money")]


def _pipeline_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"currency": row["currency"], "deals": row["n"], "amount": money(row["total"]),
            "weighted": money((row["weighted_total"] or 0) / 100)}


def _currency_totals(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Totals per currency of already aggregated rows (a handful of groups, never the records)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {"currency": row["currency"], **dict.fromkeys(keys, 0)})
        for key in keys:
            total[key] += row[key]
    return [totals[currency] for currency in sorted(totals)]


def _bars_per_currency(rows: list[dict[str, Any]], label_key: str, title: str, measure: str = "amount",
                       measure_label: str = "") -> list[Chart]:
    """A bar chart of one measure per currency: amounts in different currencies are never drawn together."""
    charts = []
    for currency in sorted({row["currency"] for row in rows}):
        mine = [row for row in rows if row["currency"] == currency]
        charts.append(Chart(type="bars", title=f"{title} ({currency})", categories=[row[label_key] for row in mine],
                            series=[Series(measure, measure_label or _("Amount"))],
                            values=[[row[measure]] for row in mine], money=True, unit=currency))
    return charts


def pipeline_by_stage(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.sales.models import PipelineStage

    groups = list(_open_deals(user, filters).values("stage_id", "currency").annotate(**PIPELINE_MEASURES))
    stages = {stage.pk: stage for stage in PipelineStage.objects.select_related("pipeline")}
    several = len({stages[row["stage_id"]].pipeline_id for row in groups}) > 1

    def order(row: dict[str, Any]) -> tuple:
        stage = stages[row["stage_id"]]
        return (stage.pipeline.position, stage.pipeline_id, stage.position, stage.pk, row["currency"])

    rows = []
    for row in sorted(groups, key=order):
        stage = stages[row["stage_id"]]
        name = f"{stage.pipeline.name}: {stage.name}" if several else stage.name
        rows.append({"stage": name, "stage_id": stage.public_id, **_pipeline_row(row)})
    return Report(columns=_pipeline_columns(Column("stage", _("Stage"))), rows=rows,
                  totals=_currency_totals(rows, ("deals", "amount", "weighted")),
                  charts=_bars_per_currency(rows, "stage", _("Open pipeline by stage")))


def pipeline_by_owner(*, user: Any, filters: ReportFilters) -> Report:
    groups = list(_open_deals(user, filters).values("owner_id", "currency").annotate(**PIPELINE_MEASURES))
    names = _user_names({row["owner_id"] for row in groups})
    rows = [{"owner": names[row["owner_id"]][0], "owner_id": names[row["owner_id"]][1], **_pipeline_row(row)}
            for row in groups]
    rows.sort(key=lambda row: (row["owner"].casefold(), row["owner_id"], row["currency"]))
    notes: list[str] = []
    rows = _cut(rows, notes)
    return Report(columns=_pipeline_columns(Column("owner", _("Owner"))), rows=rows, notes=notes,
                  totals=_currency_totals(rows, ("deals", "amount", "weighted")),
                  charts=_bars_per_currency(rows, "owner", _("Open pipeline by owner")))


def pipeline_by_month(*, user: Any, filters: ReportFilters) -> Report:
    groups = list(_open_deals(user, filters).annotate(month=TruncMonth("expected_close_on"))
                  .values("month", "currency").annotate(**PIPELINE_MEASURES))
    rows = [{"month": _month(row["month"]), **_pipeline_row(row)} for row in groups]
    rows.sort(key=lambda row: (row["month"], row["currency"]))
    axis = _axis([row["month"] for row in rows], filters)
    charts = []
    for currency in sorted({row["currency"] for row in rows}):
        by_month = {row["month"]: row["amount"] for row in rows if row["currency"] == currency}
        charts.append(Chart(type="columns", title=_("Open pipeline by expected close month (%s)") % currency,
                            categories=axis, series=[Series("amount", _("Amount"))],
                            values=[[by_month.get(month, Decimal("0.00"))] for month in axis], money=True,
                            unit=currency))
    return Report(columns=_pipeline_columns(Column("month", _("Close month"), "month")), rows=rows,
                  totals=_currency_totals(rows, ("deals", "amount", "weighted")), charts=charts)


# --- Won and lost per month ----------------------------------------------------------------------------


def won_lost(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.sales.models import Opportunity, StageOutcome

    qs = _by_owner(Opportunity.objects.visible_to(user).filter(is_open=False, closed_on__isnull=False), filters)
    if filters.start:
        qs = qs.filter(closed_on__gte=filters.start)
    if filters.end:
        qs = qs.filter(closed_on__lte=filters.end)
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    if filters.pipeline is not None:
        qs = qs.filter(stage__pipeline=filters.pipeline)
    won, lost = Q(stage__outcome=StageOutcome.WON), Q(stage__outcome=StageOutcome.LOST)
    groups = list(qs.order_by().annotate(month=TruncMonth("closed_on")).values("month", "currency").annotate(
        won_n=Count("id", filter=won), won_total=Sum("amount", filter=won),
        lost_n=Count("id", filter=lost), lost_total=Sum("amount", filter=lost)))
    rows = [{"month": _month(row["month"]), "currency": row["currency"], "won": row["won_n"],
             "won_amount": money(row["won_total"]), "lost": row["lost_n"], "lost_amount": money(row["lost_total"])}
            for row in groups]
    rows.sort(key=lambda row: (row["month"], row["currency"]))
    axis = _axis([row["month"] for row in rows], filters)
    charts = []
    for currency in sorted({row["currency"] for row in rows}):
        by_month = {row["month"]: row for row in rows if row["currency"] == currency}
        zero = Decimal("0.00")
        charts.append(Chart(
            type="lines", title=_("Won and lost per month (%s)") % currency, categories=axis,
            series=[Series("won_amount", _("Won")), Series("lost_amount", _("Lost"))],
            values=[[by_month[m]["won_amount"] if m in by_month else zero,
                     by_month[m]["lost_amount"] if m in by_month else zero] for m in axis],
            money=True, unit=currency))
    columns = [Column("month", _("Month"), "month"), Column("currency", _("Currency")),
               Column("won", _("Won deals"), "int"), Column("won_amount", _("Won amount"), "money"),
               Column("lost", _("Lost deals"), "int"), Column("lost_amount", _("Lost amount"), "money")]
    return Report(columns=columns, rows=rows, charts=charts,
                  totals=_currency_totals(rows, ("won", "won_amount", "lost", "lost_amount")))


# --- Activities per user and kind ----------------------------------------------------------------------


def activities(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.activities.models import Activity, ActivityKind

    qs = _by_owner(Activity.objects.visible_to(user), filters)
    start, end = local_bounds(filters)
    if start:
        qs = qs.filter(starts_at__gte=start)
    if end:
        qs = qs.filter(starts_at__lt=end)
    if filters.activity_kind is not None:
        qs = qs.filter(kind=filters.activity_kind)
    groups = list(qs.order_by().values("owner_id", "kind_id").annotate(
        n=Count("id"), done=Count("id", filter=Q(status="completed"))))
    kinds = list(ActivityKind.objects.order_by("position", "label"))
    used = [kind for kind in kinds if any(row["kind_id"] == kind.pk for row in groups)]
    names = _user_names({row["owner_id"] for row in groups})
    kind_order = {kind.pk: index for index, kind in enumerate(kinds)}
    by_pk = {kind.pk: kind for kind in kinds}
    groups.sort(key=lambda row: kind_order[row["kind_id"]])
    rows = [{"user": names[row["owner_id"]][0], "user_id": names[row["owner_id"]][1],
             "kind": by_pk[row["kind_id"]].label, "kind_key": by_pk[row["kind_id"]].key, "activities": row["n"],
             "completed": row["done"]} for row in groups]
    rows.sort(key=lambda row: (row["user"].casefold(), row["user_id"]))  # stable: kinds stay in their order
    notes: list[str] = []
    rows = _cut(rows, notes)
    people = list(dict.fromkeys((row["user"], row["user_id"]) for row in rows))
    counts = {(row["user_id"], row["kind_key"]): row["activities"] for row in rows}
    chart = Chart(type="stacked", title=_("Activities per user and kind"), categories=[name for name, _id in people],
                  series=[Series(kind.key, kind.label) for kind in used],
                  values=[[counts.get((public_id, kind.key), 0) for kind in used] for _name, public_id in people])
    columns = [Column("user", _("User")), Column("kind", _("Kind")), Column("activities", _("Activities"), "int"),
               Column("completed", _("Completed"), "int")]
    total = {"activities": sum(row["activities"] for row in rows), "completed": sum(row["completed"] for row in rows)}
    return Report(columns=columns, rows=rows, totals=[total] if rows else [], charts=[chart] if rows else [],
                  notes=notes)


# --- Follow-ups open and closed, per rule and per user --------------------------------------------------

FOLLOW_UP_STATES = {
    "overdue": gettext_lazy("Overdue"),
    "open": gettext_lazy("Open"),
    "closed": gettext_lazy("Closed"),
}


def _follow_up_groups(user: Any, filters: ReportFilters, group: str) -> list[dict[str, Any]]:
    from rapport.activities.models import OPEN_STATUSES, Activity
    from rapport.automation.models import FollowUp

    today = timezone.localdate()
    due = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)  # a task is stored at its date's UTC midnight
    # A follow-up counts when its task is visible: checked per follow-up by the task's key (EXISTS), so the
    # database never lists every visible activity first.
    visible = Exists(Activity.objects.visible_to(user).filter(pk=OuterRef("task_id")))
    qs = _by_owner(FollowUp.objects.filter(visible), filters, owner_field="assignee_id")
    start, end = local_bounds(filters)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if filters.rule is not None:
        qs = qs.filter(rule=filters.rule)
    is_open = Q(task__status__in=OPEN_STATUSES)
    overdue = is_open & Q(task__starts_at__lt=due)
    pending = is_open & Q(task__starts_at__gte=due)
    closed = ~is_open
    if filters.status == "overdue":
        qs = qs.filter(overdue)
    elif filters.status == "open":
        qs = qs.filter(is_open)
    elif filters.status == "closed":
        qs = qs.filter(closed)
    return list(qs.order_by().values(group).annotate(
        overdue=Count("id", filter=overdue), open=Count("id", filter=pending), closed=Count("id", filter=closed)))


def _follow_up_report(groups: list[dict[str, Any]], first: Column, title: str) -> Report:
    for row in groups:
        row["total"] = row["overdue"] + row["open"] + row["closed"]
    notes: list[str] = []
    rows = _cut(groups, notes)
    series = [Series("overdue", _("Overdue")), Series("open", _("Open, not yet due")), Series("closed", _("Closed"))]
    chart = Chart(type="stacked", title=title, categories=[row[first.key] for row in rows], series=series,
                  values=[[row["overdue"], row["open"], row["closed"]] for row in rows])
    columns = [first, *(Column(s.key, s.label, "int") for s in series), Column("total", _("Total"), "int")]
    total = {key: sum(row[key] for row in rows) for key in ("overdue", "open", "closed", "total")}
    return Report(columns=columns, rows=rows, totals=[total] if rows else [], charts=[chart] if rows else [],
                  notes=notes)


def follow_ups_by_rule(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.automation.models import Rule

    groups = _follow_up_groups(user, filters, "rule_id")
    rules = {rule.pk: rule for rule in Rule.objects.filter(pk__in=[row["rule_id"] for row in groups])}
    rows = [{"rule": rules[row["rule_id"]].name, "rule_id": rules[row["rule_id"]].public_id,
             **{key: row[key] for key in ("overdue", "open", "closed")}} for row in groups]
    rows.sort(key=lambda row: (row["rule"].casefold(), row["rule_id"]))
    return _follow_up_report(rows, Column("rule", _("Rule")), _("Follow-ups per rule"))


def follow_ups_by_user(*, user: Any, filters: ReportFilters) -> Report:
    groups = _follow_up_groups(user, filters, "assignee_id")
    names = _user_names({row["assignee_id"] for row in groups})
    rows = [{"user": names[row["assignee_id"]][0], "user_id": names[row["assignee_id"]][1],
             **{key: row[key] for key in ("overdue", "open", "closed")}} for row in groups]
    rows.sort(key=lambda row: (row["user"].casefold(), row["user_id"]))
    return _follow_up_report(rows, Column("user", _("Assigned to")), _("Follow-ups per user"))


# --- Support items by status, priority and age --------------------------------------------------------

AGE_BUCKETS = (  # (key, label, youngest day, oldest day)
    ("age_0_7", gettext_lazy("0–7 days"), 0, 7),
    ("age_8_30", gettext_lazy("8–30 days"), 8, 30),
    ("age_31_90", gettext_lazy("31–90 days"), 31, 90),
    ("age_over_90", gettext_lazy("Over 90 days"), 91, None),
)


def support_status_choices() -> dict[str, Any]:
    from rapport.support.models import SupportStatus

    return {"open": _("Open (any open status)"), "closed": _("Resolved or closed"), **dict(SupportStatus.choices)}


def support(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.support.models import OPEN_SUPPORT_STATUSES, SupportItem, SupportPriority, SupportStatus

    qs = _by_owner(SupportItem.objects.visible_to(user), filters)
    start, end = local_bounds(filters)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if filters.status == "open":
        qs = qs.filter(status__in=OPEN_SUPPORT_STATUSES)
    elif filters.status == "closed":
        qs = qs.exclude(status__in=OPEN_SUPPORT_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    now = timezone.now()
    buckets = {}
    for key, _label, young, old in AGE_BUCKETS:
        # Age in whole days since the item came in: a day counts once 24 hours have passed.
        condition = Q(created_at__lte=now - dt.timedelta(days=young)) if young else Q()
        if old is not None:
            condition &= Q(created_at__gt=now - dt.timedelta(days=old + 1))
        buckets[key] = Count("id", filter=condition) if condition else Count("id")
    groups = list(qs.order_by().values("status", "priority").annotate(**buckets))
    statuses = list(SupportStatus.values)
    priorities = list(reversed(SupportPriority.values))  # urgent first
    status_labels, priority_labels = dict(SupportStatus.choices), dict(SupportPriority.choices)
    rows = []
    for row in sorted(groups, key=lambda r: (statuses.index(r["status"]), priorities.index(r["priority"]))):
        ages = {key: row[key] for key, *_rest in AGE_BUCKETS}
        rows.append({"status": str(status_labels[row["status"]]), "status_key": row["status"],
                     "priority": str(priority_labels[row["priority"]]), "priority_key": row["priority"],
                     **ages, "items": sum(ages.values())})
    present = [status for status in statuses if any(row["status_key"] == status for row in rows)]
    counts = {(row["status_key"], row["priority_key"]): row["items"] for row in rows}
    chart = Chart(type="stacked", title=_("Support items by status and priority"),
                  categories=[str(status_labels[status]) for status in present],
                  series=[Series(p, str(priority_labels[p])) for p in priorities],
                  values=[[counts.get((status, p), 0) for p in priorities] for status in present])
    columns = [Column("status", _("Status")), Column("priority", _("Priority")),
               *(Column(key, str(label), "int") for key, label, *_rest in AGE_BUCKETS),
               Column("items", _("Items"), "int")]
    total = {key: sum(row[key] for row in rows) for key in [*buckets, "items"]}
    return Report(columns=columns, rows=rows, totals=[total] if rows else [], charts=[chart] if rows else [],
                  notes=[_("Age is counted from the day an item came in.")])


# --- Campaign results ---------------------------------------------------------------------------------


def campaign_status_choices() -> dict[str, Any]:
    from rapport.campaigns.models import CampaignStatus

    return dict(CampaignStatus.choices)


def campaigns(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus

    qs = _by_owner(Campaign.objects.visible_to(user), filters)
    start, end = local_bounds(filters)
    if start:
        qs = qs.filter(started_at__gte=start)
    if end:
        qs = qs.filter(started_at__lt=end)
    if filters.status:
        qs = qs.filter(status=filters.status)
    notes: list[str] = []
    found = list(qs.order_by(F("started_at").desc(nulls_first=True), "-id")
                 .values("id", "public_id", "name", "status", "started_at")[:MAX_GROUPS + 1])
    found = _cut(found, notes)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (CampaignRecipient.objects.filter(campaign_id__in=[c["id"] for c in found]).order_by()
                .values("campaign_id", "status").annotate(n=Count("id"))):
        counts[row["campaign_id"]][row["status"]] = row["n"]
    statuses = [RecipientStatus.SENT, RecipientStatus.REPLIED, RecipientStatus.BOUNCED, RecipientStatus.UNSUBSCRIBED,
                RecipientStatus.SKIPPED, RecipientStatus.QUEUED, RecipientStatus.WAITING]
    labels, campaign_labels = dict(RecipientStatus.choices), dict(CampaignStatus.choices)
    rows = []
    for campaign in found:
        mine = counts.get(campaign["id"], {})
        rows.append({"campaign": campaign["name"], "campaign_id": campaign["public_id"],
                     "state": str(campaign_labels.get(campaign["status"], campaign["status"])),
                     "started": timezone.localtime(campaign["started_at"]).date() if campaign["started_at"] else None,
                     **{str(s): mine.get(s, 0) for s in statuses}, "recipients": sum(mine.values())})
    chart = Chart(type="stacked", title=_("Campaign recipients by status"), categories=[r["campaign"] for r in rows],
                  series=[Series(str(s), str(labels[s])) for s in statuses],
                  values=[[row[str(s)] for s in statuses] for row in rows])
    columns = [Column("campaign", _("Campaign")), Column("state", _("Campaign status")),
               Column("started", _("Started"), "date"),
               *(Column(str(s), str(labels[s]), "int") for s in statuses), Column("recipients", _("Recipients"), "int")]
    total = {key: sum(row[key] for row in rows) for key in [*(str(s) for s in statuses), "recipients"]}
    notes.append(_("Each recipient counts once, in their latest status (a reply or a bounce follows sending)."))
    return Report(columns=columns, rows=rows, totals=[total] if rows else [], charts=[chart] if rows else [],
                  notes=notes)


# --- Accounts by relationship stage ---------------------------------------------------------------------


def accounts_by_stage(*, user: Any, filters: ReportFilters) -> Report:
    from rapport.directory.models import Account, RelationshipStage

    qs = _by_owner(Account.objects.visible_to(user), filters)
    counts = dict(qs.order_by().values_list("stage").annotate(n=Count("id")))
    stages = [*RelationshipStage.choices, ("", _("No stage"))]
    rows = [{"stage": str(label), "stage_key": value or NO_STAGE, "accounts": counts.get(value, 0)}
            for value, label in stages]
    chart = Chart(type="bars", title=_("Accounts by relationship stage"), categories=[row["stage"] for row in rows],
                  series=[Series("accounts", _("Accounts"))], values=[[row["accounts"]] for row in rows])
    return Report(columns=[Column("stage", _("Relationship stage")), Column("accounts", _("Accounts"), "int")],
                  rows=rows, totals=[{"accounts": sum(counts.values())}], charts=[chart])


# --- Saved reports ------------------------------------------------------------------------------------


SAVED_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}


def saved_report_list(*, user: Any) -> QuerySet[SavedReport]:
    """The saved reports the user may see: their own and those shared with them."""
    return SavedReport.objects.visible_to(user).select_related("owner")


def saved_report_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> SavedReport:
    return access_record(user, SavedReport, public_id, action, queryset=SavedReport.objects.select_related("owner"),
                         deleted=deleted)


def saved_reports_for_index(*, user: Any, limit: int = 200) -> list[SavedReport]:
    return list(saved_report_list(user=user).order_by("name_key", "id")[:limit])


# --- The manager dashboard ----------------------------------------------------------------------------


def sees_dashboard(user: Any) -> bool:
    """Who gets the manager dashboard on My Home: administrators, users who manage a team with members,
    and users whose role changes their team's records or everyone's (the manager job function).
    Decided from the rights already resolved for the request: no query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    access = access_for(user)
    return (access.is_admin or bool(access.managed_member_ids)
            or access.default_scopes.get(Action.UPDATE) in (Scope.TEAM, Scope.ALL))


def dashboard_team_param(user: Any) -> dict[str, str]:
    """The dashboard counts a manager's people (team=mine); an administrator who manages nobody, everyone."""
    access = access_for(user)
    if access.managed_member_ids or (access.team_member_ids and not access.is_admin):
        return {"team": "mine"}
    return {}
