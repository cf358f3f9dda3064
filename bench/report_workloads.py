"""The report workloads (issue 9): every report page as the heavy user (a manager) opens it, with its default
filters, and the manager dashboard of My Home cold (nothing cached) and warm (the minute's cached figures).

Targets (issue 4): the dashboard ≤ 300 ms cold and ≤ 50 ms warm at medium scale; a report page is a page
(≤ 300 ms at p95). Each report is one or two GROUP BY queries over what the user may see; the raw twin of the
pipeline report is the same aggregate written by hand.

    from bench.report_workloads import run_reports_all
    results += run_reports_all(args.runs, args.size)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from bench.workloads import Bench, Result, _ok, _raw, _visibility_sql
from rapport.reports.kinds import KINDS

PAGE_TARGET = "p95 ≤ 300 ms"
DASHBOARD_COLD_TARGET = "≤ 300 ms cold"
DASHBOARD_WARM_TARGET = "≤ 50 ms warm"


def run_reports_all(runs: int, size: str) -> list[Result]:
    """The report workloads on their own Bench, for bench.run."""
    bench = Bench(runs)
    run_reports(bench, size)
    return bench.results


def _get(bench: Bench, url: str) -> Callable[[], Any]:
    return lambda: bench.client.get(url)


def _pipeline_raw(bench: Bench) -> Callable[[], Any]:
    """Open deals per stage and currency the heavy user may see: the aggregate the pipeline report runs."""
    vis_sql, vis_params = _visibility_sql(bench.user, alias="o")
    sql = ("SELECT o.stage_id, o.currency, COUNT(o.id), SUM(o.amount), SUM(o.amount * o.probability) "
           f"FROM sales_opportunity o WHERE o.deleted_at IS NULL AND o.is_open AND {vis_sql} "
           "GROUP BY o.stage_id, o.currency")
    return _raw(sql, vis_params)


def run_reports(bench: Bench, size: str) -> None:
    for key, kind in KINDS.items():
        bench.measure(f"report_{key.replace('-', '_')}", f"GET /reports/{key}/ ({kind.title}, default filters)",
                      PAGE_TARGET, _get(bench, f"/reports/{key}/"),
                      _pipeline_raw(bench) if key == "pipeline-by-stage" else None, _ok)

    def cold() -> Any:
        cache.clear()
        return bench.client.get("/reports/dashboard/")

    bench.measure("report_dashboard_cold", "GET /reports/dashboard/ with nothing cached: the four tiles' reports "
                  "over the manager's team", DASHBOARD_COLD_TARGET, cold, None, _ok)
    cache.clear()
    bench.client.get("/reports/dashboard/")
    bench.measure("report_dashboard_warm", "GET /reports/dashboard/ within the minute: the cached figures",
                  DASHBOARD_WARM_TARGET, _get(bench, "/reports/dashboard/"), None, _ok)
