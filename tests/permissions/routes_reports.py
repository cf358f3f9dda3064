"""The permission matrix entries of the reports app: pages and API. See routes.py for the form.

Every signed-in user may open reports (each counts only what its reader may see: tests/reports/
test_visibility.py). A saved report is a business record: read as any record of its owner's is
(SEE_OWNERS_RECORD), saved by whoever may create records, changed, deleted and restored with the update
and delete rights on the owner's records. The report routes name a report kind, not a record: they open
the pipeline by stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

REPORT = "report"
KIND = "pipeline-by-stage"


@dataclass(frozen=True)
class KindRoute(Route):
    """A route about a report kind: the pipeline by stage (or `value` in its place)."""

    def url(self, world: World, *, value: str | None = None) -> str:
        kind = value if value is not None else KIND
        if self.is_api:
            return self.path.replace("{kind}", kind)
        return reverse(self.key, args=[kind])


def _edit(world: World, actor: str) -> dict[str, Any]:
    record = world.subject(REPORT)
    return {"name": "Renamed by the matrix", "visibility": record.visibility, "version": str(record.version)}


ROUTES: list[Route] = [
    # Pages
    page("report_index", Call("GET", table(EVERYONE, 200))),
    page("report_dashboard", Call("GET", table(EVERYONE, 200))),
    KindRoute(key="report_view", calls=(Call("GET", table(EVERYONE, 200)),)),
    KindRoute(key="report_export", calls=(Call("GET", table(EVERYONE, 200)),)),
    page("saved_report_create", Call("GET", everyone(405)),
         Call("POST", table(CREATE, 302), writes=True,
              body=lambda w, a: {"kind": KIND, "params": "currency=EUR", "name": "Matrix report",
                                 "visibility": "team"})),
    page("saved_report_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=REPORT),
    page("saved_report_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_edit), subject=REPORT),
    page("saved_report_delete", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(REPORT)),
         subject=REPORT),
    page("saved_report_restore", Call("GET", everyone(405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {REPORT}"),

    # API
    api("GET /api/v1/reports", table(EVERYONE, 200)),
    api("GET /api/v1/reports/kinds", table(EVERYONE, 200)),
    KindRoute(key="GET /api/v1/reports/kinds/{kind}", calls=(Call("GET", table(EVERYONE, 200)),)),
    api("POST /api/v1/reports", table(CREATE, 201), writes=True,
        body=lambda w, a: {"name": "Matrix report", "kind": KIND, "filters": {"currency": "EUR"}}),
    api("GET /api/v1/reports/{report_id}", table(SEE_OWNERS_RECORD, 200), subject=REPORT),
    api("GET /api/v1/reports/{report_id}/data", table(SEE_OWNERS_RECORD, 200), subject=REPORT),
    api("PATCH /api/v1/reports/{report_id}", table(CHANGE_OWNERS_RECORD, 200), subject=REPORT, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(REPORT).version, "name": "Renamed by the matrix"}),
    api("DELETE /api/v1/reports/{report_id}", table(CHANGE_OWNERS_RECORD, 204), subject=REPORT, writes=True,
        version=True),
    api("POST /api/v1/reports/{report_id}/restore", table(CHANGE_OWNERS_RECORD, 200), subject=f"deleted {REPORT}",
        writes=True),
]
