"""Permission-matrix subjects and snapshot tables of the reports app (see world_emails.py for the form).

The report subject is a saved report of `owner`'s (the pipeline by stage, with a filter), one per visibility;
the deleted one is what restoring acts on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas


def _report(personas: Personas, visibility: str, *, deleted: bool = False) -> Any:
    from rapport.reports import services
    from rapport.reports.models import SavedReport

    owner = personas.owner
    report = services.saved_report_create(actor=owner, data={
        "name": f"Subject report {visibility}{' gone' if deleted else ''}", "kind": "pipeline-by-stage",
        "filters": {"currency": "EUR"}, "visibility": visibility})
    if deleted:
        services.saved_report_delete(actor=owner, report=report)
    return SavedReport.objects.get(pk=report.pk)


def _saved_reports() -> Any:
    from rapport.reports.models import SavedReport

    return SavedReport.objects.order_by("pk").values()


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "report": _report,
    "deleted report": lambda p, v: _report(p, v, deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {"saved_reports": _saved_reports}
