"""Writing and reading the change history of business records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from rapport.core.models import HistoryEntry


def display_value(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value for the history table."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        # Several linked records (a deal's people, an activity's attendees): each kept as a link.
        return [display_value(item) for item in value]
    if isinstance(value, models.Model) and hasattr(value, "record_type") and hasattr(value, "public_id"):
        # A linked business record: kept with its id, so that a reader who may not see it is not told its name.
        return {"ref": value._meta.label_lower, "id": value.public_id, "name": str(value)}
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


def history_for(record: models.Model, *, user: Any, limit: int = 100) -> list[HistoryEntry]:
    """The newest entries of one record's history, with their actors, as `user` may read them.

    Each entry gets `rows`: (field label, old, new) as a person reads them, choices shown by label.
    A linked record the user may not see shows as hidden: one more query, only when links changed.
    """
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
    entries = list(
        HistoryEntry.objects.filter(content_type=content_type, object_id=record.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    visible = _visible_refs(user, entries)
    model = type(record)
    linked_fields = _linked_record_fields(model)
    for entry in entries:
        entry.rows = []
        for name, (old, new) in entry.changes.items():
            if name in linked_fields:
                old, new = _legacy_link(old), _legacy_link(new)
            label, before = _label(model, name, _shown(old, visible))
            entry.rows.append((label, before, _label(model, name, _shown(new, visible))[1]))
    return entries


def _linked_record_fields(model: type[models.Model]) -> set[str]:
    """Foreign keys to business records (which carry visibility), as opposed to users or choices."""
    return {field.name for field in model._meta.get_fields()
            if isinstance(field, models.ForeignKey) and hasattr(field.related_model, "record_type")}


def _legacy_link(value: Any) -> Any:
    # Entries written before links were kept with their ids hold a bare name; nobody can check who
    # may see it, so it is shown as hidden.
    return {"ref": "", "id": "", "name": value} if isinstance(value, str) and value else value


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "ref" in value


def _visible_refs(user: Any, entries: list[HistoryEntry]) -> set[tuple[str, str]]:
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        for values in entry.changes.values():
            for value in values:
                for item in value if isinstance(value, list) else [value]:
                    if _is_ref(item):
                        wanted.setdefault(item["ref"], set()).add(item["id"])
    visible: set[tuple[str, str]] = set()
    for label, ids in wanted.items():
        linked = apps.get_model(label)
        found = linked.objects.visible_to(user).filter(public_id__in=ids).values_list("public_id", flat=True)
        visible.update((label, public_id) for public_id in found)
    return visible


def _shown(value: Any, visible: set[tuple[str, str]]) -> Any:
    if isinstance(value, list):
        return "; ".join(str(_shown(item, visible)) for item in value)
    if not _is_ref(value):
        return value
    return value["name"] if (value["ref"], value["id"]) in visible else _("(hidden)")


def _label(model: type[models.Model], name: str, value: Any) -> tuple[str, Any]:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name[:1].upper() + name[1:], value
    label = str(getattr(field, "verbose_name", name))
    choices = dict(getattr(field, "flatchoices", None) or [])
    return label[:1].upper() + label[1:], _typed(field, choices.get(value, value))


def _typed(field: Any, value: Any) -> Any:
    """A stored value as the page should show it: times in the reader's zone and format, yes or no."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and isinstance(field, models.DateTimeField | models.DateField):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if isinstance(field, models.DateTimeField) else parsed.date()
    return value
