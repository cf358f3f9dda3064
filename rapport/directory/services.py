"""Writes of accounts and contacts: one function per use case, each in one transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import require
from rapport.core.errors import PossibleDuplicate
from rapport.core.models import Action
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.core.text import website_domain
from rapport.directory.models import Account, Address, Attribute, Contact, RelationshipStage, StageChange
from rapport.directory.remarks import parse_attributes, set_attribute
from rapport.directory.selectors import possible_account_duplicates, possible_contact_duplicates

ADDRESS_FIELDS = ("kind", "street", "postal_code", "city", "region", "country")
MAX_ADDRESSES = 10


def _link(record: Account | Contact) -> dict[str, Account | Contact]:
    """The keyword that ties an address or attribute row to its account or contact."""
    return {"account": record} if isinstance(record, Account) else {"contact": record}


def _sync_attributes(*, record: Account | Contact) -> None:
    """Keep the Attribute rows equal to the key=value pairs in the record's remarks."""
    link = _link(record)
    wanted = parse_attributes(record.remarks)
    existing = {a.key: a for a in Attribute.objects.filter(**link)}
    stale = [a.pk for key, a in existing.items() if wanted.get(key) != a.value]
    if stale:
        Attribute.objects.filter(pk__in=stale).delete()
    Attribute.objects.bulk_create(
        Attribute(key=key, value=value, **link)
        for key, value in wanted.items()
        if key not in existing or existing[key].value != value
    )


def _address_rows(*, record: Account | Contact, addresses: list[dict[str, Any]]) -> list[Address]:
    """Validated, unsaved address rows for a record; empty addresses are dropped."""
    if len(addresses) > MAX_ADDRESSES:
        raise ValidationError({"addresses": [_("At most %d addresses.") % MAX_ADDRESSES]})
    link = _link(record)
    rows = []
    for index, data in enumerate(addresses):
        unknown = set(data) - set(ADDRESS_FIELDS)
        if unknown:
            raise ValidationError({f"addresses.{index}.{sorted(unknown)[0]}": [_("Unknown field.")]})
        address = Address(**link, **{k: (data.get(k) or "") for k in ADDRESS_FIELDS if k != "kind"},
                          kind=data.get("kind") or Address.Kind.MAIN)
        try:
            address.full_clean(exclude=["account", "contact"])
        except ValidationError as exc:
            raise ValidationError({f"addresses.{index}.{name}": msgs for name, msgs in exc.message_dict.items()}) \
                from None
        if str(address):
            rows.append(address)
    return rows


def _addresses_text(rows: Any) -> str:
    return "; ".join(f"{row.get_kind_display()}: {row}" for row in rows)


def _save_addresses(*, record: Account | Contact, rows: list[Address]) -> None:
    link = _link(record)
    Address.objects.filter(**link).delete()
    Address.objects.bulk_create(rows)


def _update_with_addresses(
    record: Account | Contact, *, actor: Any, data: dict[str, Any], version: int | None,
    addresses: list[dict[str, Any]] | None,
) -> Any:
    """record_update, with a change of addresses recorded in the same history entry and version."""
    related: dict[str, list[Any]] = {}
    rows = None
    if addresses is not None:
        rows = _address_rows(record=record, addresses=addresses)
        # Read what is stored, not a cache a form may have edited in place.
        link = _link(record)
        before, after = _addresses_text(Address.objects.filter(**link).order_by("id")), _addresses_text(rows)
        if before != after:
            related["addresses"] = [before, after]
        else:
            rows = None
    remarks_before = record.remarks
    record = record_update(record, actor=actor, data=data, version=version, related_changes=related)
    if record.remarks != remarks_before:
        _sync_attributes(record=record)
    if rows is not None:
        _save_addresses(record=record, rows=rows)
    return record


def _check_parent(*, account: Account | None, parent: Account | None) -> None:
    """A parent must not be the account itself or one of its descendants."""
    if parent is None or account is None or account.pk is None:
        return
    node: Account | None = parent
    seen = 0
    while node is not None and seen < 50:
        if node.pk == account.pk:
            raise ValidationError({"parent": [_("An account cannot be its own parent or ancestor.")]})
        node = Account.objects.filter(pk=node.parent_id).first() if node.parent_id else None
        seen += 1


STAGE_KEY = "stage"


def _stage_in_step(data: dict[str, Any], account: Account | None) -> None:
    """Keep the relationship stage and the remarks' `stage=` attribute saying the same, in place.

    A stage chosen in the stage field wins and is written into the remarks; otherwise a
    `stage=mature` newly written in the remarks sets the stage, and a pair taken out of the
    remarks is put back. An edit that touches neither leaves both as they are (older remarks may
    hold a `stage=` from before the two were kept in step).
    """
    old_stage = account.stage if account is not None else ""
    old_remarks = account.remarks if account is not None else ""
    stage = data.get("stage", old_stage) or ""
    remarks = data.get("remarks", old_remarks) or ""
    old_written = parse_attributes(old_remarks).get(STAGE_KEY) if account is not None else None
    written = parse_attributes(remarks).get(STAGE_KEY)
    if "stage" in data and stage != old_stage:
        if written != (stage or None):
            remarks = set_attribute(remarks, STAGE_KEY, stage)
    elif written is not None and written != old_written:
        if written not in RelationshipStage.values:
            raise ValidationError({"remarks": [
                _("stage=%(value)s is not a relationship stage; use one of: %(stages)s.")
                % {"value": written, "stages": ", ".join(RelationshipStage.values)}]})
        stage = written
    elif written is None and old_written is not None and stage and remarks != old_remarks:
        remarks = set_attribute(remarks, STAGE_KEY, stage)
    else:
        return
    data["stage"] = stage
    data["remarks"] = remarks
    if stage != old_stage:
        data["stage_changed_on"] = timezone.localdate()


def _record_stage_change(*, actor: Any, account: Account, from_stage: str) -> None:
    if account.stage != from_stage:
        StageChange.objects.create(account=account, from_stage=from_stage, to_stage=account.stage,
                                   changed_on=account.stage_changed_on or timezone.localdate(), changed_by=actor)


@transaction.atomic
def account_create(
    *, actor: Any, data: dict[str, Any], addresses: list[dict[str, Any]] | None = None,
    confirm_duplicate: bool = False,
) -> Account:
    """Create an account; a possible duplicate (same email or website) stops it unless confirmed."""
    require(actor, Account.record_type, Action.CREATE)  # before telling what exists
    if not confirm_duplicate:
        duplicates = possible_account_duplicates(
            user=actor, email=data.get("email", ""), website_key=website_domain(data.get("website", ""))
        )
        if duplicates:
            raise PossibleDuplicate(duplicates)
    data = dict(data)
    _stage_in_step(data, None)
    account = record_create(Account, actor=actor, data=data)
    _record_stage_change(actor=actor, account=account, from_stage="")
    _sync_attributes(record=account)
    _save_addresses(record=account, rows=_address_rows(record=account, addresses=addresses or []))
    return account


@transaction.atomic
def account_update(
    *, actor: Any, account: Account, data: dict[str, Any], version: int | None,
    addresses: list[dict[str, Any]] | None = None,
) -> Account:
    """Change an account if `version` is current. A new relationship stage records the day it changed,
    and the stage and the remarks' `stage=` attribute stay in step."""
    data = dict(data)
    if "parent" in data:
        _check_parent(account=account, parent=data["parent"])
    from_stage = account.stage
    _stage_in_step(data, account)
    account = _update_with_addresses(account, actor=actor, data=data, version=version, addresses=addresses)
    _record_stage_change(actor=actor, account=account, from_stage=from_stage)
    return account


@transaction.atomic
def account_delete(*, actor: Any, account: Account, version: int | None = None) -> Account:
    return record_delete(account, actor=actor, version=version)


@transaction.atomic
def _refuse_merged_away(record: Account | Contact) -> None:
    """A record merged into another left everything it had with the other: restoring it would bring back
    an empty shell beside the merged record."""
    from django.contrib.contenttypes.models import ContentType

    from rapport.core.models import HistoryEntry

    latest = (HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(record)),
                                          object_id=record.pk)
              .order_by("-at", "-id").values_list("kind", "changes").first())
    if latest and latest[0] == HistoryEntry.Kind.MERGED and "merged into" in (latest[1] or {}):
        raise ValidationError({"__all__": [_("This record was merged into another; open that one instead.")]})


def account_restore(*, actor: Any, account: Account) -> Account:
    _refuse_merged_away(account)
    return record_restore(account, actor=actor)


@transaction.atomic
def contact_create(
    *, actor: Any, data: dict[str, Any], addresses: list[dict[str, Any]] | None = None,
    confirm_duplicate: bool = False,
) -> Contact:
    """Create a contact; one whose email already exists stops it unless confirmed."""
    require(actor, Contact.record_type, Action.CREATE)  # before telling what exists
    if not confirm_duplicate:
        duplicates = possible_contact_duplicates(user=actor, email=data.get("email", ""))
        if duplicates:
            raise PossibleDuplicate(duplicates)
    contact = record_create(Contact, actor=actor, data=data)
    _sync_attributes(record=contact)
    _save_addresses(record=contact, rows=_address_rows(record=contact, addresses=addresses or []))
    return contact


@transaction.atomic
def contact_update(
    *, actor: Any, contact: Contact, data: dict[str, Any], version: int | None,
    addresses: list[dict[str, Any]] | None = None,
) -> Contact:
    return _update_with_addresses(contact, actor=actor, data=data, version=version, addresses=addresses)


@transaction.atomic
def contact_delete(*, actor: Any, contact: Contact, version: int | None = None) -> Contact:
    return record_delete(contact, actor=actor, version=version)


@transaction.atomic
def contact_restore(*, actor: Any, contact: Contact) -> Contact:
    _refuse_merged_away(contact)
    return record_restore(contact, actor=actor)
