"""Merging two accounts, or two contacts, into one.

The record the merge starts from (the *survivor*) stays; the *other* one is merged into it and
leaves every list. A person chooses, per field that differs, whose value the survivor keeps; for
remarks and addresses they may keep both. Everything that points at the other record is made to
point at the survivor - found generically, so that a relation added by a later app is carried
without a change here:

- every foreign key to the model (`_meta.get_fields(include_hidden=True)`: opportunities, orders,
  leads, support items, list memberships, campaign recipients, deal roles, a contact's account,
  the through tables of many-to-many fields such as meeting attendees, and whatever comes later);
- every generic link: a pair of fields `<x>_type` (the record type, "contact") and `<x>_id`
  (activities and logged email through their links, notes, follow-ups), and content type + object id
  (the history, a GenericForeignKey).

Where moving a row would break a unique constraint (the contact is on a distribution list twice,
an activity regards both records) the other record's row is dropped: the survivor's row wins.
Business records that move get a new version (an edit form opened before the merge answers 409
rather than putting the old link back).

The history lines of the other record move to the survivor, and the merge itself is one history
line on the survivor (who, when, which record was merged in, the values chosen) and one on the
other record ("merged into"). The other record is soft-deleted: it is in no list or search, its
id answers 404, and a calendar or address-book sync later sees a tombstone. All of it is one
transaction, with both versions checked (409 when either is stale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from rapport.core.access import access_for, record_visible, require
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.history import display_value, history_record
from rapport.core.models import Action, BusinessRecord, HistoryEntry
from rapport.core.registry import record_event
from rapport.directory.models import Account, Address, Attribute, Contact
from rapport.directory.remarks import parse_attributes, set_attribute
from rapport.search.index import index_records, unindex_records

SURVIVOR, OTHER, BOTH = "survivor", "other", "both"
MERGED_IN_KEY = "merged in"
MERGED_INTO_KEY = "merged into"
CARRIED_KEY = "carried over"


class OtherVersionStale(Conflict):
    """The record to merge in was changed by someone else since it was shown."""

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(_("The other record was changed by someone else (now version %(version)s). "
                           "Reload both and try again.") % {"version": current_version})


@dataclass(frozen=True)
class Choice:
    """A value a person picks from one of the two records: `fields` of the model, set together."""

    name: str
    label: Any
    fields: tuple[str, ...]
    options: tuple[str, ...] = (SURVIVOR, OTHER)


CONTACT_CHOICES = (
    Choice("name", gettext_lazy("Name"), ("first_name", "last_name")),
    Choice("title", gettext_lazy("Title"), ("title",)),
    Choice("account", gettext_lazy("Account"), ("account",)),
    Choice("email", gettext_lazy("Email"), ("email",)),
    Choice("secondary_email", gettext_lazy("Other email"), ("secondary_email",)),
    Choice("phone", gettext_lazy("Phone"), ("phone",)),
    Choice("mobile", gettext_lazy("Mobile"), ("mobile",)),
    Choice("owner", gettext_lazy("Owner"), ("owner",)),
    Choice("visibility", gettext_lazy("Visible to"), ("visibility",)),
    Choice("remarks", gettext_lazy("Remarks"), ("remarks",), (SURVIVOR, OTHER, BOTH)),
    Choice("addresses", gettext_lazy("Addresses"), (), (SURVIVOR, OTHER, BOTH)),
)
ACCOUNT_CHOICES = (
    Choice("name", gettext_lazy("Name"), ("name",)),
    Choice("website", gettext_lazy("Website"), ("website",)),
    Choice("industry", gettext_lazy("Industry"), ("industry",)),
    Choice("email", gettext_lazy("Email"), ("email",)),
    Choice("phone", gettext_lazy("Phone"), ("phone",)),
    Choice("secondary_phone", gettext_lazy("Other phone"), ("secondary_phone",)),
    Choice("stage", gettext_lazy("Relationship stage"), ("stage", "stage_changed_on")),
    Choice("parent", gettext_lazy("Parent account"), ("parent",)),
    Choice("owner", gettext_lazy("Owner"), ("owner",)),
    Choice("visibility", gettext_lazy("Visible to"), ("visibility",)),
    Choice("remarks", gettext_lazy("Remarks"), ("remarks",), (SURVIVOR, OTHER, BOTH)),
    Choice("addresses", gettext_lazy("Addresses"), (), (SURVIVOR, OTHER, BOTH)),
)
CHOICES: dict[type[models.Model], tuple[Choice, ...]] = {Contact: CONTACT_CHOICES, Account: ACCOUNT_CHOICES}

# How the merge page and the history name the kinds of rows that move; any other relation is named
# by its model's verbose names. None: not shown (the search index, kept current by index_records).
RELATION_LABELS: dict[str, Any] = {
    "activities.ActivityLink": ngettext_lazy("%(n)d activity or logged email", "%(n)d activities and logged emails",
                                             "n"),
    "activities.Activity_attendees": ngettext_lazy("%(n)d meeting attended", "%(n)d meetings attended", "n"),
    "activities.Note": ngettext_lazy("%(n)d note", "%(n)d notes", "n"),
    "core.HistoryEntry": ngettext_lazy("%(n)d history line", "%(n)d history lines", "n"),
    "directory.Address": ngettext_lazy("%(n)d address", "%(n)d addresses", "n"),
    "directory.Contact": ngettext_lazy("%(n)d contact", "%(n)d contacts", "n"),
    "directory.Account": ngettext_lazy("%(n)d sub-account", "%(n)d sub-accounts", "n"),
    "directory.StageChange": ngettext_lazy("%(n)d stage change", "%(n)d stage changes", "n"),
    "campaigns.DistributionListMember": ngettext_lazy("%(n)d distribution list membership",
                                                      "%(n)d distribution list memberships", "n"),
    "campaigns.CampaignRecipient": ngettext_lazy("%(n)d campaign message", "%(n)d campaign messages", "n"),
    "sales.OpportunityContact": ngettext_lazy("%(n)d role in an opportunity", "%(n)d roles in opportunities", "n"),
    "automation.FollowUp": ngettext_lazy("%(n)d follow-up", "%(n)d follow-ups", "n"),
    "search.SearchEntry": None,
}


def describe(kind: str, n: int) -> str:
    """"3 notes": how many rows of a kind (a model label) moved."""
    label = RELATION_LABELS.get(kind)
    if label is not None:
        return str(label % {"n": n})
    meta = apps.get_model(kind)._meta
    return f"{n} {meta.verbose_name if n == 1 else meta.verbose_name_plural}"


# --- The relations, found generically ------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """Rows of `model` that point at a record: by the foreign key `field`, or by the generic pair
    (`type_field` = `type_value`, `field` = the record's id)."""

    model: type[models.Model]
    field: str
    type_field: str | None = None
    type_value: Any = None

    @property
    def kind(self) -> str | None:
        """The model's label, by which the merge counts what moved; None for rows not worth showing."""
        key = self.model._meta.label
        return None if key in RELATION_LABELS and RELATION_LABELS[key] is None else key

    def rows(self, pk: int) -> models.QuerySet:
        lookup: dict[str, Any] = {self.field: pk}
        if self.type_field is not None:
            lookup[self.type_field] = self.type_value
        return self.model._base_manager.filter(**lookup)

    def unique_sets(self) -> list[tuple[list[str], Any]]:
        """The unique constraints this relation's field is part of: (the other fields, condition)."""
        meta = self.model._meta
        sets: list[tuple[tuple[str, ...], Any]] = []
        sets += [((f.name,), None) for f in meta.concrete_fields if f.unique and not f.primary_key]
        sets += [(tuple(names), None) for names in meta.unique_together]
        sets += [(tuple(c.fields), c.condition) for c in meta.constraints
                 if isinstance(c, models.UniqueConstraint) and c.fields]
        own = {self.field, self.type_field}
        return [([name for name in names if name not in own], condition) for names, condition in sets
                if self.field in names]


def _is_id_field(f: Any) -> bool:
    return isinstance(f, models.IntegerField) and not f.is_relation and not f.primary_key


def relations_of(model: type[BusinessRecord]) -> list[Relation]:
    """Everything in any installed app that points at a record of `model`."""
    found: list[Relation] = []
    for rel in model._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            found.append(Relation(rel.related_model, rel.field.name))  # type: ignore[arg-type,union-attr]
    content_type = ContentType.objects.get_for_model(model)
    for other in apps.get_models():
        fields = {f.name: f for f in other._meta.concrete_fields}
        for name, f in fields.items():
            if name.endswith("_type") and isinstance(f, models.CharField):
                id_field = fields.get(name[:-len("_type")] + "_id")
                if id_field is not None and _is_id_field(id_field):
                    found.append(Relation(other, id_field.name, name, model.record_type))
            if f.is_relation and f.related_model is ContentType and _is_id_field(fields.get("object_id")):
                found.append(Relation(other, "object_id", f.attname, content_type.pk))
        for private in other._meta.private_fields:
            if isinstance(private, GenericForeignKey):
                type_field = other._meta.get_field(private.ct_field)
                relation = Relation(other, private.fk_field, getattr(type_field, "attname", private.ct_field),
                                    content_type.pk)
                if relation not in found:
                    found.append(relation)
    return found


def _carry(relation: Relation, *, survivor: Any, other: Any, now: Any) -> int:
    """Point the other record's rows of a relation at the survivor, dropping those that would clash
    with one of the survivor's (the survivor's row wins); the number of rows moved."""
    moving = relation.rows(other.pk)
    if relation.model is type(survivor):  # sub-accounts: the survivor is never its own parent
        moving = moving.exclude(pk=survivor.pk)
    for names, condition in relation.unique_sets():
        clash = relation.rows(survivor.pk).filter(**{name: OuterRef(name) for name in names})
        if condition is not None:  # a partial unique constraint binds only the rows it covers
            clash = clash.filter(condition)
        dropped = moving.filter(Exists(clash))
        if condition is not None:
            dropped = dropped.filter(condition)
        dropped.delete()
    values: dict[str, Any] = {relation.field: survivor.pk}
    if issubclass(relation.model, BusinessRecord):  # an edit form opened before the merge gets a 409
        values.update(version=F("version") + 1, updated_at=now)
    return moving.update(**values)


# --- The plan: what the survivor keeps ----------------------------------------------------------------


@dataclass
class Row:
    """One choice as the merge page shows it."""

    choice: Choice
    survivor: Any
    other: Any
    chosen: str
    differs: bool


@dataclass
class Plan:
    survivor: Any
    other: Any
    rows: list[Row]
    values: dict[str, Any] = field(default_factory=dict)  # model field -> the survivor's new value
    addresses: str = BOTH
    remarks: str = SURVIVOR


def _value(record: Any, choice: Choice) -> Any:
    if choice.name == "addresses":
        return [str(a) for a in record.addresses.all()]
    if choice.name == "name" and isinstance(record, Contact):
        return record.full_name
    return getattr(record, choice.fields[0])


def _empty(value: Any) -> bool:
    return value in (None, "", [])


def _default(choice: Choice, mine: Any, theirs: Any) -> str:
    if choice.name == "addresses":
        return BOTH
    if choice.name == "remarks" and not _empty(mine) and not _empty(theirs) and mine != theirs:
        return BOTH
    return OTHER if _empty(mine) and not _empty(theirs) else SURVIVOR


def _joined_remarks(mine: str, theirs: str) -> str:
    return "\n\n".join(text.strip() for text in (mine, theirs) if text.strip())


def merge_plan(*, survivor: Any, other: Any, fields: dict[str, str] | None = None) -> Plan:
    """What the survivor keeps for each choice: the asked-for side, else the default (its own value,
    or the other's where its own is empty). Unknown choices and options are refused, naming them."""
    choices = CHOICES[type(survivor)]
    fields = dict(fields or {})
    known = {choice.name: choice for choice in choices}
    errors: dict[str, list[str]] = {}
    for name, option in fields.items():
        if name not in known:
            errors[f"fields.{name}"] = [_("Unknown field; choose among: %s.") % ", ".join(known)]
        elif option not in known[name].options:
            errors[f"fields.{name}"] = [_("Choose one of: %s.") % ", ".join(known[name].options)]
    if errors:
        raise ValidationError(errors)
    plan = Plan(survivor=survivor, other=other, rows=[])
    for choice in choices:
        mine, theirs = _value(survivor, choice), _value(other, choice)
        chosen = fields.get(choice.name) or _default(choice, mine, theirs)
        plan.rows.append(Row(choice, mine, theirs, chosen, mine != theirs))
        if choice.name == "addresses":
            plan.addresses = chosen
        elif choice.name == "remarks":
            plan.remarks = chosen
            plan.values["remarks"] = (_joined_remarks(survivor.remarks, other.remarks) if chosen == BOTH
                                      else (other if chosen == OTHER else survivor).remarks)
        else:
            source = other if chosen == OTHER else survivor
            for name in choice.fields:
                plan.values[name] = getattr(source, name)
    _stage_in_remarks(plan)
    return plan


def _stage_in_remarks(plan: Plan) -> None:
    """An account's stage and the remarks' `stage=` pair say the same after the merge (the stage wins)."""
    if "stage" not in plan.values:
        return
    written = parse_attributes(plan.values["remarks"]).get("stage")
    if written is not None and written != (plan.values["stage"] or None):
        plan.values["remarks"] = set_attribute(plan.values["remarks"], "stage", plan.values["stage"])


def relation_counts(record: Any) -> list[str]:
    """What would move from `record` to the survivor ("3 notes"), one query per relation."""
    counts: dict[str, int] = {}
    for relation in relations_of(type(record)):
        kind = relation.kind
        if kind is None or relation.model is Attribute:
            continue
        n = relation.rows(record.pk).count()
        if n:
            counts[kind] = counts.get(kind, 0) + n
    return [describe(kind, n) for kind, n in sorted(counts.items())]


# --- The merge ----------------------------------------------------------------------------------------


@dataclass
class MergeResult:
    survivor: Any
    carried: dict[str, int]  # model label -> rows moved to the survivor


def _check_pair(actor: Any, survivor: Any, other: Any) -> None:
    if type(survivor) is not type(other):
        raise ValidationError({"other": [_("Only two records of the same type can be merged.")]})
    if survivor.pk == other.pk:
        raise ValidationError({"other": [_("A record cannot be merged with itself; choose another one.")]})
    if survivor.deleted_at is not None or other.deleted_at is not None or not record_visible(actor, other):
        raise ValidationError({"other": [_("That record is deleted or not visible to you.")]})
    require(actor, survivor.record_type, Action.UPDATE, owner_id=survivor.owner_id)
    if not access_for(actor).covers_owner(other.record_type, Action.DELETE, other.owner_id):
        raise PermissionDenied(_("You may not delete %(name)s, so you may not merge it into another record.")
                               % {"name": other})


def _check_owner(actor: Any, record: Any, owner: Any) -> None:
    if owner.pk == record.owner_id:
        return
    if not owner.is_active:
        raise ValidationError({"fields.owner": [_("The owner must be an active user.")]})
    if not access_for(actor).covers_owner(record.record_type, Action.UPDATE, owner.pk):
        raise PermissionDenied(_("You may not give records to that owner."))


def _parent_after(plan: Plan) -> None:
    """The survivor's parent account: never the record merged away, nor the survivor itself, nor one of
    its own sub-accounts."""
    survivor, other = plan.survivor, plan.other
    parent = plan.values.get("parent")
    if parent is not None and parent.pk == other.pk:
        parent = other.parent
    if parent is not None and parent.pk == survivor.pk:
        parent = None
    node, seen = parent, 0
    while node is not None and seen < 50:
        if node.pk in (survivor.pk, other.pk):
            raise ValidationError({"fields.parent": [_(
                "%(name)s is a sub-account of the other record; choose the other parent or change it first.")
                % {"name": parent}]})
        node = Account.objects.filter(pk=node.parent_id).first() if node.parent_id else None
        seen += 1
    plan.values["parent"] = parent


def _locked(record: Any) -> Any:
    """The record as stored now, locked until the merge commits (PostgreSQL; SQLite's write lock is the
    whole database already)."""
    return type(record)._base_manager.select_for_update().get(pk=record.pk)


def _apply(plan: Plan, *, actor: Any, version: int, now: Any) -> dict[str, list[Any]]:
    """Write the chosen values to the survivor if `version` is current; the changes, for the history."""
    survivor = plan.survivor
    model = type(survivor)
    changes: dict[str, list[Any]] = {}
    for name, value in plan.values.items():
        old = getattr(survivor, name)
        if old != value:
            if name != "stage_changed_on":
                changes[name] = [display_value(old), display_value(value)]
            setattr(survivor, name, value)
    derived = survivor.derive()
    try:
        survivor.full_clean()
        for name, value in plan.values.items():  # a text field's limit, which full_clean leaves to forms
            limit = getattr(model._meta.get_field(name), "max_length", None)
            if isinstance(value, str) and limit and len(value) > limit:
                raise ValidationError({name: [_("Together the texts are %(n)d characters long; at most %(limit)d "
                                                "fit. Keep one of them.") % {"n": len(value), "limit": limit}]})
    except ValidationError as exc:
        raise ValidationError({f"fields.{name}": msgs for name, msgs in exc.message_dict.items()}) from None
    attnames = [model._meta.get_field(name).attname for name in [*plan.values, *derived]]
    updated = model._base_manager.filter(pk=survivor.pk, version=version, deleted_at__isnull=True).update(
        **{attname: getattr(survivor, attname) for attname in attnames}, version=F("version") + 1, updated_at=now)
    if not updated:
        raise StaleVersion(current_version=survivor.version)
    survivor.version = version + 1
    survivor.updated_at = now
    return changes


def _sync_attributes(record: Any) -> None:
    link = {"account": record} if isinstance(record, Account) else {"contact": record}
    Attribute.objects.filter(**link).delete()
    Attribute.objects.bulk_create(Attribute(key=key, value=value, **link)
                                  for key, value in parse_attributes(record.remarks).items())


@transaction.atomic
def record_merge(*, actor: Any, survivor: Any, other: Any, version: int | None, other_version: int | None,
                 fields: dict[str, str] | None = None) -> MergeResult:
    """Merge `other` into `survivor` (both found by the caller through the actor's visible_to).

    Needs the update right on the survivor and the delete right on the other; both versions must be
    current (StaleVersion for the survivor's, OtherVersionStale for the other's: 409).
    """
    _check_pair(actor, survivor, other)
    if version is None or other_version is None:
        raise ValidationError({name: [_("The version you saw is required.")] for name, value
                               in (("version", version), ("other_version", other_version)) if value is None})
    survivor, other = _locked(survivor), _locked(other)
    if survivor.version != version:
        raise StaleVersion(current_version=survivor.version)
    if other.version != other_version:
        raise OtherVersionStale(other.version)
    _check_pair(actor, survivor, other)  # as stored now, under the lock
    plan = merge_plan(survivor=survivor, other=other, fields=fields)
    if "owner" in plan.values:
        _check_owner(actor, survivor, plan.values["owner"])
    if "parent" in plan.values:
        _parent_after(plan)
    now = timezone.now()
    model = type(survivor)
    link = {"account": other} if model is Account else {"contact": other}
    own = {"account": survivor} if model is Account else {"contact": survivor}
    Attribute.objects.filter(**link).delete()  # read again from the remarks the survivor keeps
    if plan.addresses == SURVIVOR:
        Address.objects.filter(**link).delete()
    elif plan.addresses == OTHER:
        Address.objects.filter(**own).delete()

    carried: dict[str, int] = {}
    moved_records: dict[type[models.Model], list[int]] = {}
    for relation in relations_of(model):
        if relation.model is Attribute:
            continue
        if issubclass(relation.model, BusinessRecord):
            moved_records.setdefault(relation.model, []).extend(
                relation.rows(other.pk).values_list("pk", flat=True))
        n = _carry(relation, survivor=survivor, other=other, now=now)
        if n and relation.kind:
            carried[relation.kind] = carried.get(relation.kind, 0) + n

    changes = _apply(plan, actor=actor, version=version, now=now)
    _sync_attributes(survivor)
    summary = ", ".join(describe(kind, n) for kind, n in sorted(carried.items()))
    history_record(record=survivor, actor=actor, kind=HistoryEntry.Kind.MERGED, changes={
        MERGED_IN_KEY: [None, f"{other} ({other.public_id})"],
        **({CARRIED_KEY: [None, summary]} if summary else {}),
        **changes,
    })

    gone = model._base_manager.filter(pk=other.pk, version=other_version, deleted_at__isnull=True).update(
        deleted_at=now, version=F("version") + 1, updated_at=now)
    if not gone:
        raise OtherVersionStale(other.version)
    other.deleted_at, other.version = now, other_version + 1
    history_record(record=other, actor=actor, kind=HistoryEntry.Kind.MERGED,
                   changes={MERGED_INTO_KEY: [None, display_value(survivor)]})

    if changes:
        record_event("updated", survivor, changes)
    index_records(model, [survivor.pk])
    unindex_records(model, [other.pk])
    for related, pks in moved_records.items():
        if pks:
            index_records(related, pks)
    return MergeResult(survivor=survivor, carried=carried)


def contact_merge(*, actor: Any, contact: Contact, other: Contact, version: int | None,
                  other_version: int | None, fields: dict[str, str] | None = None) -> MergeResult:
    """Merge the contact `other` into `contact` (see record_merge)."""
    return record_merge(actor=actor, survivor=contact, other=other, version=version, other_version=other_version,
                        fields=fields)


def account_merge(*, actor: Any, account: Account, other: Account, version: int | None,
                  other_version: int | None, fields: dict[str, str] | None = None) -> MergeResult:
    """Merge the account `other` into `account`; the other's contacts, deals, orders, cases and sub-accounts
    move to `account` (see record_merge)."""
    return record_merge(actor=actor, survivor=account, other=other, version=version, other_version=other_version,
                        fields=fields)


def choice_names(model: type[models.Model]) -> Sequence[str]:
    return [choice.name for choice in CHOICES[model]]
