"""Writing and reading the change history of business records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from rapport.core.models import HistoryEntry


def display_value(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value for the history table."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def history_record(
    *, record: models.Model, actor: Any, kind: str, changes: dict[str, list[Any]] | None = None
) -> HistoryEntry:
    return HistoryEntry.objects.create(
        content_type=ContentType.objects.get_for_model(record, for_concrete_model=True),
        object_id=record.pk,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        changes=changes or {},
    )


def history_for(record: models.Model, *, limit: int = 100) -> list[HistoryEntry]:
    """The newest entries of one record's history, with their actors, in one query.

    Each entry gets `rows`: (field label, old, new) as a person reads them, choices shown by label.
    """
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
    entries = list(
        HistoryEntry.objects.filter(content_type=content_type, object_id=record.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    for entry in entries:
        entry.rows = [(*_label(type(record), name, old), _label(type(record), name, new)[1])
                      for name, (old, new) in entry.changes.items()]
    return entries


def _label(model: type[models.Model], name: str, value: Any) -> tuple[str, Any]:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, value
    label = str(getattr(field, "verbose_name", name))
    choices = dict(getattr(field, "flatchoices", None) or [])
    return label[:1].upper() + label[1:], choices.get(value, value)
