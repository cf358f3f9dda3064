"""The shared write path of business records: create, update, delete, restore.

Each app's services call these for the bookkeeping every record needs
(rights, owner scope, validation, optimistic concurrency, history) and add
their own rules around them. They run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_for, require
from rapport.core.errors import StaleVersion
from rapport.core.history import display_value, history_record
from rapport.core.models import Action, BusinessRecord, HistoryEntry
from rapport.core.registry import record_event

RecordT = TypeVar("RecordT", bound=BusinessRecord)

# Told of every soft delete and restore, in the same transaction (the search index drops and takes back
# the record): (kind "deleted" or "restored", the record). Apart from record_event's listeners, which are
# told of creates and changes only, and act on those.
LifecycleListener = Callable[[str, Any], None]
_LIFECYCLE_LISTENERS: list[LifecycleListener] = []


def register_lifecycle_listener(listener: LifecycleListener) -> None:
    if listener not in _LIFECYCLE_LISTENERS:
        _LIFECYCLE_LISTENERS.append(listener)


def _lifecycle_event(kind: str, record: Any) -> None:
    for listener in _LIFECYCLE_LISTENERS:
        listener(kind, record)

# Fields no client may set directly, whatever it sends.
PROTECTED_FIELDS = frozenset(
    {"id", "pk", "public_id", "version", "created_at", "updated_at", "created_by", "created_by_id", "deleted_at"}
)


def _check_owner(actor: Any, record_type: str, action: str, owner: Any) -> None:
    """An owner may only be set to a user within the actor's scope for this action."""
    if owner is None:
        raise ValidationError({"owner": [_("An owner is required.")]})
    if not owner.is_active:
        raise ValidationError({"owner": [_("The owner must be an active user.")]})
    if not access_for(actor).covers_owner(record_type, action, owner.pk):
        raise PermissionDenied(_("You may not give records to that owner."))


def _assign(record: BusinessRecord, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name in PROTECTED_FIELDS:
            raise ValidationError({name: [_("This field cannot be set.")]})
        setattr(record, name, value)


def record_create(model: type[RecordT], *, actor: Any, data: dict[str, Any]) -> RecordT:
    """Create a record owned by data['owner'] (default: the actor), after checking the actor's rights."""
    require(actor, model.record_type, Action.CREATE)
    data = dict(data)
    owner = data.pop("owner", None) or actor
    _check_owner(actor, model.record_type, Action.CREATE, owner)
    record = model(owner=owner, created_by=actor)
    _assign(record, data)
    record.derive()
    record.full_clean()
    record.save()
    history_record(
        record=record,
        actor=actor,
        kind=HistoryEntry.Kind.CREATED,
        changes={name: [None, display_value(getattr(record, name))] for name in _tracked_fields(data)
                 if name not in model.untracked_fields},
    )
    record_event("created", record, {})
    return record


def _tracked_fields(data: dict[str, Any]) -> Iterable[str]:
    names = [name for name in data if name not in PROTECTED_FIELDS]
    return ["owner", *names] if "owner" not in names else names


def record_update(
    record: RecordT, *, actor: Any, data: dict[str, Any], version: int | None,
    related_changes: dict[str, list[Any]] | None = None, rights_checked: bool = False,
) -> RecordT:
    """Apply changes to a record if `version` is still current; 409 (StaleVersion) otherwise.

    The version check and the write are one conditional UPDATE, so two people
    saving at once can never overwrite each other silently. `related_changes`
    ({"addresses": [old, new]}) are changes to rows that belong to the record:
    they go into the same history entry and bump the version too. `rights_checked` is for a
    service that has applied a rule of its own instead (an assignee completing a task).
    """
    model = type(record)
    if not rights_checked:
        require(actor, model.record_type, Action.UPDATE, owner_id=record.owner_id)
    if version is None:
        raise ValidationError({"version": [_("The version you edited is required.")]})
    if version != record.version:
        raise StaleVersion(current_version=record.version)
    data = dict(data)
    if "owner" in data and data["owner"] is not None and data["owner"].pk != record.owner_id:
        _check_owner(actor, model.record_type, Action.UPDATE, data["owner"])
    elif "owner" in data:
        data.pop("owner")
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if name in PROTECTED_FIELDS:
            raise ValidationError({name: [_("This field cannot be set.")]})
        old = getattr(record, name)
        if old != value:
            changes[name] = [display_value(old), display_value(value)]
    field_changes = dict(changes)
    for name in model.untracked_fields & set(changes):
        changes[name] = ["", _("(changed)")]
    changes.update(related_changes or {})
    if not changes:
        return record
    _assign(record, {name: data[name] for name in field_changes})
    derived = record.derive()
    record.full_clean()
    now = timezone.now()
    attnames = [model._meta.get_field(name).attname for name in [*field_changes, *derived]]  # type: ignore[union-attr]
    values = {attname: getattr(record, attname) for attname in attnames}
    updated = model._default_manager.filter(pk=record.pk, version=version, deleted_at__isnull=True).update(
        **values, version=F("version") + 1, updated_at=now
    )
    if not updated:
        current = model._default_manager.filter(pk=record.pk).values_list("version", flat=True).first()
        raise StaleVersion(current_version=current or version)
    record.version = version + 1
    record.updated_at = now
    history_record(record=record, actor=actor, kind=HistoryEntry.Kind.UPDATED, changes=changes)
    record_event("updated", record, field_changes)
    return record


def record_delete(record: RecordT, *, actor: Any, version: int | None = None, rights_checked: bool = False) -> RecordT:
    """Soft-delete: the record leaves every list but can be restored. `rights_checked` as in record_update."""
    model = type(record)
    if not rights_checked:
        require(actor, model.record_type, Action.DELETE, owner_id=record.owner_id)
    if version is not None and version != record.version:
        raise StaleVersion(current_version=record.version)
    now = timezone.now()
    updated = model._default_manager.filter(pk=record.pk, version=record.version, deleted_at__isnull=True).update(
        deleted_at=now, version=F("version") + 1, updated_at=now
    )
    if not updated:
        current = model._default_manager.filter(pk=record.pk).values_list("version", flat=True).first()
        raise StaleVersion(current_version=current or record.version)
    record.deleted_at = now
    record.version += 1
    history_record(record=record, actor=actor, kind=HistoryEntry.Kind.DELETED)
    _lifecycle_event("deleted", record)
    return record


def record_restore(record: RecordT, *, actor: Any) -> RecordT:
    """Undo a soft delete."""
    model = type(record)
    require(actor, model.record_type, Action.DELETE, owner_id=record.owner_id)
    now = timezone.now()
    restored = model._default_manager.filter(pk=record.pk, version=record.version, deleted_at__isnull=False).update(
        deleted_at=None, version=F("version") + 1, updated_at=now
    )
    if not restored:  # restored or changed by someone else meanwhile
        current = model._default_manager.filter(pk=record.pk).values_list("version", flat=True).first()
        raise StaleVersion(current_version=current or record.version)
    record.deleted_at = None
    record.version += 1
    history_record(record=record, actor=actor, kind=HistoryEntry.Kind.RESTORED)
    _lifecycle_event("restored", record)
    return record
