"""Writes of the reports app: saved reports, through the shared record path (rights, version, history)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.reports.kinds import KINDS, kind_filters, may_run
from rapport.reports.models import DEFAULT_VISIBILITY, SavedReport

MAX_FILTER_TEXT = 200


def _checked(data: dict[str, Any], *, actor: Any, current: SavedReport | None) -> dict[str, Any]:
    """The kind and filters of a saved report, checked the way opening it checks them; the filters stored
    as the report's address carries them."""
    data = dict(data)
    if "kind" not in data and "filters" not in data:
        return data
    key = data.get("kind", current.kind if current else "")
    kind = KINDS.get(key)
    if kind is None or not may_run(actor, kind):
        raise ValidationError({"kind": [_("No such report; use one of: %s.") % ", ".join(KINDS)]})
    raw = data.get("filters", current.filters if current else {}) or {}
    if not isinstance(raw, dict):
        raise ValidationError({"filters": [_("Give the filters as names and values.")]})
    problems: dict[str, list[str]] = {}
    for name, value in raw.items():
        if not isinstance(value, str) or len(value) > MAX_FILTER_TEXT:
            problems[f"filters.{name}"] = [_("Give a text of at most %d characters.") % MAX_FILTER_TEXT]
    if problems:
        raise ValidationError(problems)
    try:
        filters = kind_filters(kind, raw, user=actor)
    except ValidationError as exc:
        raise ValidationError({f"filters.{name}": messages for name, messages in exc.message_dict.items()}) from None
    data["kind"] = kind.key
    # "Any time" is kept as said; a default period is kept too, so the report stays relative.
    data["filters"] = dict(filters.values)
    return data


@transaction.atomic
def saved_report_create(*, actor: Any, data: dict[str, Any]) -> SavedReport:
    """Save a report kind with its filters under a name; private unless a visibility is given."""
    data = _checked({"visibility": DEFAULT_VISIBILITY, "filters": {}, **data}, actor=actor, current=None)
    if "kind" not in data:
        raise ValidationError({"kind": [_("Choose which report to save.")]})
    return record_create(SavedReport, actor=actor, data=data)


@transaction.atomic
def saved_report_update(*, actor: Any, report: SavedReport, data: dict[str, Any], version: int | None) -> SavedReport:
    return record_update(report, actor=actor, data=_checked(data, actor=actor, current=report), version=version)


@transaction.atomic
def saved_report_delete(*, actor: Any, report: SavedReport, version: int | None = None) -> SavedReport:
    return record_delete(report, actor=actor, version=version)


@transaction.atomic
def saved_report_restore(*, actor: Any, report: SavedReport) -> SavedReport:
    return record_restore(report, actor=actor)
