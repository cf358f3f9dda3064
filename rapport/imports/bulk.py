"""The set-based write path for new accounts and contacts: what record_create does for one record, for a
batch at once, in the caller's transaction.

Per batch: multi-row INSERTs of the records (with their owner, creator, version 1, public id, uid and the
keys their model's `derive()` computes), of their history lines (who, when, each field's value, as
record_create writes them), of their addresses, of their remark attributes (and, for accounts given a
relationship stage, of the stage changes). The rules the row-by-row services apply were applied before:
rights (the caller checked the create right and each owner), validation (fields.py converts and checks each
cell; handlers.py the rules across cells), duplicates (handlers.py). Then the record events: the search
index takes the batch in one call (`index_new`, from the values written), and when automation has event
rules for the record type, each record is announced as record_create announces it, so that the rules run
for imported records too.

The INSERTs go through core.bulk.insert_rows rather than QuerySet.bulk_create (see there why).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.bulk import insert_rows
from rapport.core.ids import new_public_ids
from rapport.core.models import HistoryEntry, User
from rapport.core.registry import record_event
from rapport.directory.models import Account, Address, Attribute, Contact, RelationshipStage, StageChange
from rapport.directory.remarks import parse_attributes, set_attribute

ADDRESS_PARTS = ("street", "postal_code", "city", "region", "country")


@dataclass
class AccountRef:
    """What a contact row needs of its account: its id, and its public id and name for the history line."""

    pk: int
    public_id: str
    name: str
    owner_id: int


@dataclass
class NewRecord:
    """A new account or contact as field values (attnames), with what goes with it: its owner and linked account
    (for the history line), the fields its history names, its address. `pk` is set once it is written."""

    values: dict[str, Any]
    owner: User
    tracked: list[str]
    address: dict[str, str] = field(default_factory=dict)
    account: AccountRef | None = None
    pk: int | None = None
    public_id: str = ""


class _Derived:
    """The attributes a model's derive() reads and writes, without building a model instance."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def account_stage_fields(values: dict[str, Any]) -> None:
    """A new account's relationship stage and its remarks' `stage=` kept saying the same, as account_create
    does: a stage given is written into the remarks; otherwise a `stage=` in the remarks sets the stage."""
    remarks = values.get("remarks", "")
    stage = values.get("stage", "")
    written = parse_attributes(remarks).get("stage")
    if stage:
        if written != stage:
            values["remarks"] = set_attribute(remarks, "stage", stage)
    elif written is not None:
        if written not in RelationshipStage.values:
            raise ValidationError({"remarks": [
                _("stage=%(value)s is not a relationship stage; use one of: %(stages)s.")
                % {"value": written, "stages": ", ".join(RelationshipStage.values)}]})
        values["stage"] = written
    if values.get("stage"):
        values["stage_changed_on"] = timezone.localdate()


def _events_wanted(record_type: str) -> bool:
    """Whether automation has event rules for the type: only then is each record announced one by one."""
    from rapport.automation.services import active_event_rules

    return active_event_rules(record_type)


def _display(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def create_records(model: type[Account] | type[Contact], *, actor: User, items: Sequence[NewRecord]) -> None:
    """Insert new accounts or contacts with their history, addresses, attributes and record events."""
    if not items:
        return
    now = timezone.now()
    stamp = model._meta.get_field("created_at").get_db_prep_save(now, connection)  # the same for every row
    fresh_ids = iter(new_public_ids(len(items)))
    derive = model.derive
    rows = []
    for item in items:
        values = item.values
        if "public_id" not in values:
            values["public_id"] = next(fresh_ids)
        shadow = _Derived(values)
        derive(shadow)  # type: ignore[arg-type]
        values.update(shadow.__dict__)
        item.public_id = values["public_id"]
        rows.append(values)
    ids = insert_rows(model, rows, same={"created_by_id": actor.pk, "version": 1, "created_at": stamp,
                                         "updated_at": stamp, "deleted_at": None})
    if len(ids) != len(items):  # pragma: no cover - a database that returned fewer ids than rows
        raise RuntimeError("The database did not return the ids of the imported rows.")
    for item, pk in zip(items, ids, strict=True):
        item.pk = pk
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    untracked = model.untracked_fields
    history = []
    for item in items:
        changes: dict[str, Any] = {"owner": [None, str(item.owner)]}
        for name in item.tracked:
            if name in untracked or name == "owner":
                continue
            if name == "account":
                account = item.account
                changes[name] = [None, {"ref": "directory.account", "id": account.public_id, "name": account.name}
                                 if account is not None else None]
            else:
                changes[name] = [None, _display(item.values.get(name))]
        history.append({"object_id": item.pk, "changes": changes})
    insert_rows(HistoryEntry, history, returning=False, same={
        "content_type_id": content_type.pk, "kind": HistoryEntry.Kind.CREATED, "actor_id": actor.pk, "at": stamp})
    link = "account_id" if model is Account else "contact_id"
    other = "contact_id" if model is Account else "account_id"
    insert_rows(Address, [
        {link: item.pk, other: None, "kind": Address.Kind.MAIN,
         **{part: item.address.get(part, "") for part in ADDRESS_PARTS}}
        for item in items if any(item.address.get(part) for part in ADDRESS_PARTS)
    ], returning=False)
    insert_rows(Attribute, [
        {link: item.pk, other: None, "key": key, "value": value}
        for item in items for key, value in parse_attributes(item.values.get("remarks", "")).items()
    ], returning=False)
    if model is Account:
        insert_rows(StageChange, [
            {"account_id": item.pk, "from_stage": "", "to_stage": item.values["stage"],
             "changed_on": item.values["stage_changed_on"], "changed_by_id": actor.pk}
            for item in items if item.values.get("stage")
        ], returning=False)
    from rapport.search.index import index_new

    index_new(model, _as_records(model, items, now))
    if _events_wanted(model.record_type):
        for record in model.objects.filter(pk__in=ids).order_by("pk"):
            record_event("created", record, {})


def _as_records(model: type[models.Model], items: Sequence[NewRecord], now: dt.datetime) -> list[Any]:
    """The new rows as model instances, from the values written, for the search index to read. A column
    the row left to a callable default (a contact's uid) is None here: the database made that value."""
    fields = model._meta.concrete_fields
    defaults = [None if f.has_default() and callable(f.default) else f.get_default() for f in fields]
    names = [f.attname for f in fields]
    records = []
    for item in items:
        values = {**item.values, "id": item.pk, "created_at": now, "updated_at": now}
        row = [values.get(name, default) for name, default in zip(names, defaults, strict=True)]
        records.append(model.from_db(connection.alias, names, row))
    return records


def address_rows(addresses: Sequence[Any]) -> list[dict[str, str]]:
    """Stored addresses (rows or dicts) as the services take them."""
    return [{"kind": _get(a, "kind"), **{part: _get(a, part) for part in ADDRESS_PARTS}} for a in addresses]


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def merged_addresses(addresses: Sequence[Any], given: dict[str, str]) -> list[dict[str, str]] | None:
    """The record's addresses with the row's parts written into its first one (or as its first): None when
    that changes nothing."""
    if not any(given.values()):
        return None
    rows = address_rows(addresses)
    if rows:
        updated = {**rows[0], **{part: value for part, value in given.items() if value}}
        if updated == rows[0]:
            return None
        return [updated, *rows[1:]]
    return [{"kind": Address.Kind.MAIN, **{part: given.get(part, "") for part in ADDRESS_PARTS}}]
