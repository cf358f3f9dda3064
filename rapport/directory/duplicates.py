"""Likely duplicate accounts and contacts among what a user may see, and "not a duplicate" marks.

Why two records are shown together (the *reason*):
  contacts: "email" - the same address, in either email field (keys are trimmed and lower-cased);
            "name"  - the same folded name, or names one edit apart, at the same account;
  accounts: "email", "website" (the domain: scheme and "www." ignored), "name" (folded).

Scale (a million contacts): each reason walks one indexed key column in order, in windows of
WINDOW rows. A window's upper bound is found by one probe of the index, and its groups by one
``GROUP BY key HAVING COUNT(*) > 1`` over that key range; names at the same account are compared in
the (account, name) index order, each with its next NEIGHBOURS (the sorted-neighbourhood method).
One request looks through at most BUDGET rows, then hands back a cursor to look further: a page
costs the same at the end of the table as at its start, and a table with few duplicates is walked
in steps rather than in one long scan. Members of the groups found are read in one query per
reason, at most MEMBER_CAP per group.

A pair marked "not a duplicate" is a history line (kind "distinct") on both records: who said so and
when is kept with the records, and the pair does not come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.core.access import record_visible, require
from rapport.core.history import display_value, history_record
from rapport.core.models import Action, HistoryEntry
from rapport.directory.models import Account, Contact

WINDOW = 10_000  # rows of one key range
BUDGET = 50_000  # rows one request looks through, at most
# Names are compared in Python, each with its neighbours: smaller steps, so that a page stays well under a second.
NAME_WINDOW = 5_000
NAME_BUDGET = 20_000
MEMBER_CAP = 10  # records shown per group
NEIGHBOURS = 6  # names compared with the next this many at the same account
MIN_FUZZY_LENGTH = 6  # names shorter than this match only exactly
DEFAULT_GROUPS = 25
MAX_GROUPS = 100
_SALT = "rapport.duplicates"
DISTINCT_KEY = "not a duplicate of"

REASON_LABELS = {
    ("contact", "email"): gettext_lazy("Same email"),
    ("contact", "name"): gettext_lazy("Same or similar name at the same account"),
    ("account", "email"): gettext_lazy("Same email"),
    ("account", "website"): gettext_lazy("Same website"),
    ("account", "name"): gettext_lazy("Same name"),
}
REASONS: dict[str, tuple[str, ...]] = {"contact": ("email", "name"), "account": ("email", "website", "name")}
MODELS: dict[str, type[models.Model]] = {"contact": Contact, "account": Account}
# The key column each key reason groups on.
KEY_FIELDS = {"email": "email_key", "website": "website_key", "name": "name_key"}


@dataclass
class DuplicateGroup:
    """Records that look like one: the oldest (the anchor) first, then the others."""

    record_type: str
    reason: str
    key: str
    records: list[Any]
    more: bool = False  # more records share the key than are shown
    # Further (reason, key) pairs that found these very records on the same page.
    also: list[tuple[str, str]] = field(default_factory=list)
    actionable: bool = True  # whether the user may merge or dismiss anything in it (set by the page)

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS[self.record_type, self.reason])

    @property
    def also_labels(self) -> list[tuple[str, str]]:
        return [(str(REASON_LABELS[self.record_type, reason]), key) for reason, key in self.also]

    @property
    def anchor(self) -> Any:
        return self.records[0]

    @property
    def others(self) -> list[Any]:
        return self.records[1:]


@dataclass
class DuplicatePage:
    groups: list[DuplicateGroup]
    next_cursor: str | None
    looked_through: int = 0  # rows of the key columns this request looked through
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class _Position:
    """Where a walk stands: the reason, and the last key (or account/name/id) looked at."""

    reason: str
    after: Any = None


def _salt(record_type: str) -> str:
    # One salt per list: a cursor of the accounts' list is not one of the contacts' (their positions differ).
    return f"{_SALT}.{record_type}"


def _position_fits(record_type: str, reason: str, after: Any) -> bool:
    """Whether a cursor's position has the shape its walk reads (see _walk_keys, _after_row)."""
    if after is None:
        return True
    if record_type == "contact" and reason == "name":
        return isinstance(after, list) and (
            (len(after) == 2 and after[0] == "account" and type(after[1]) is int)
            or (len(after) == 4 and after[0] == "row" and type(after[1]) is int and isinstance(after[2], str)
                and type(after[3]) is int))
    return isinstance(after, str)


def _read_cursor(cursor: str | None, reasons: Sequence[str], record_type: str) -> _Position:
    if not cursor:
        return _Position(reasons[0])
    try:
        payload = signing.loads(cursor, salt=_salt(record_type))
    except signing.BadSignature:
        raise ValidationError({"cursor": [_("This cursor is not valid; start again from the first page.")]}) from None
    if (not isinstance(payload, dict) or payload.get("r") not in reasons
            or not _position_fits(record_type, payload["r"], payload.get("a"))):
        raise ValidationError({"cursor": [_("This cursor belongs to another list; start again.")]})
    return _Position(payload["r"], payload.get("a"))


def _make_cursor(position: _Position, record_type: str) -> str:
    return signing.dumps({"r": position.reason, "a": position.after}, salt=_salt(record_type), compress=True)


def parse_reason(record_type: str, value: str | None) -> tuple[str, ...]:
    """The reasons to walk: all of the type's, or the one asked for (400 naming the choices otherwise)."""
    reasons = REASONS[record_type]
    if not value:
        return reasons
    if value not in reasons:
        raise ValidationError({"reason": [_("Unknown reason %(value)s; use one of: %(names)s.")
                                          % {"value": value, "names": ", ".join(reasons)}]})
    return (value,)


# --- Walking the key columns --------------------------------------------------------------------------


@dataclass
class _Walk:
    """What one reason's walk found in this request."""

    keys: list[Any]  # group keys (text), or lists of record ids (names at an account)
    after: Any  # where to go on from; None when the reason is walked to its end
    looked: int


def _window_bound(qs: QuerySet, key: str) -> Any:
    """The key WINDOW rows further on, or None when fewer rows are left: one probe of the key's index."""
    found = list(qs.order_by(key).values_list(key, flat=True)[WINDOW - 1:WINDOW])
    return found[0] if found else None


def _walk_keys(qs: QuerySet, key: str, after: Any, want: int, extra: Any = None) -> _Walk:
    """Groups of `key` values shared by two records or more, in key order, after `after`.

    `extra(lower, upper)`, if given, adds keys of the same range found another way (a contact's
    other email matching someone's email).
    """
    base = qs.exclude(**{key: ""})
    found: list[str] = []
    looked = 0
    while True:
        ranged = base.filter(**{f"{key}__gt": after}) if after is not None else base
        upper = _window_bound(ranged, key)
        window = ranged.filter(**{f"{key}__lte": upper}) if upper is not None else ranged
        keys = set(window.order_by().values(key).annotate(n=Count("pk")).filter(n__gt=1).values_list(key, flat=True))
        if extra is not None:
            keys |= set(extra(after, upper))
        ordered = sorted(keys)
        need = want - len(found)
        if len(ordered) > need or (len(ordered) == need and upper is not None):
            found += ordered[:need]
            return _Walk(found, found[-1] if found else after, looked + WINDOW)
        found += ordered
        if upper is None:
            return _Walk(found, None, looked)
        after = upper
        looked += WINDOW
        if looked >= BUDGET:
            return _Walk(found, after, looked)


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix, by halving with slice compares (done in C, not per letter)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def one_edit_apart(a: str, b: str) -> bool:
    """Whether two folded names are equal, or (both long enough) one insertion, deletion or change apart."""
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = _common_prefix(a, b)
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]


def _clusters(rows: Sequence[tuple[int, int, str]]) -> list[list[int]]:
    """Sorted (id, account, name) rows of one account's contacts: the ids of names that match, joined."""
    parent = {row[0]: row[0] for row in rows}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    count = len(rows)
    for i in range(count):
        pk, _account, name = rows[i]
        length = len(name)
        for j in range(i + 1, min(count, i + 1 + NEIGHBOURS)):
            other_pk, _other_account, other_name = rows[j]
            # Cheap refusals first: most neighbours differ in length or at both ends.
            if other_name != name and (abs(len(other_name) - length) > 1 or (
                    name[0] != other_name[0] and name[-1] != other_name[-1])
                    or not one_edit_apart(name, other_name)):
                continue
            parent[root(other_pk)] = root(pk)
    groups: dict[int, list[int]] = {}
    for pk, _account, _name in rows:
        groups.setdefault(root(pk), []).append(pk)
    return [sorted(ids) for ids in groups.values() if len(ids) > 1]


def _after_row(after: list[Any]) -> Q:
    """Rows after a position in (account, name, id) order: ["account", a] starts at account a,
    ["row", a, name, id] goes on after that row (an account larger than a window)."""
    if after[0] == "account":
        return Q(account_id__gte=after[1])
    _kind, account, name, pk = after
    return Q(account_id__gte=account) & (Q(account_id__gt=account) | Q(name_key__gt=name)
                                         | Q(name_key=name, id__gt=pk))


def _walk_names_at_accounts(qs: QuerySet, after: Any, want: int) -> _Walk:
    """Contacts of one account whose names match, walked in the (account, name, id) index's order.

    A window ends at an account boundary, so each account's names are compared together; an account
    is finished before the page ends, so a page may hold a few more groups than asked for.
    """
    base = qs.filter(account__isnull=False)
    found: list[list[int]] = []
    looked = 0
    while True:
        ranged = base.filter(_after_row(after)) if after is not None else base
        rows = list(ranged.order_by("account_id", "name_key", "id")
                    .values_list("id", "account_id", "name_key")[:NAME_WINDOW])
        looked += len(rows)
        following: Any = None
        if len(rows) == NAME_WINDOW:
            last = rows[-1][1]
            if rows[0][1] != last:  # leave the last account whole for the next window
                rows = [row for row in rows if row[1] != last]
                following = ["account", last]
            else:  # one account fills the window
                following = ["row", last, rows[-1][2], rows[-1][0]]
        by_account: dict[int, list[tuple[int, int, str]]] = {}
        for row in rows:
            by_account.setdefault(row[1], []).append(row)
        last_account = rows[-1][1] if rows else None
        for account, account_rows in by_account.items():
            found += _clusters(account_rows)
            if len(found) >= want:
                at_end = following is None and account == last_account
                return _Walk(found, None if at_end else ["account", account + 1], looked)
        if following is None:
            return _Walk(found, None, looked)
        after = following
        if looked >= NAME_BUDGET:
            return _Walk(found, after, looked)


# --- Who is in each group -------------------------------------------------------------------------


def _display_qs(record_type: str, qs: QuerySet) -> QuerySet:
    return qs.select_related("owner", "account") if record_type == "contact" else qs.select_related("owner")


def _members_by_key(record_type: str, qs: QuerySet, key: str, values: list[str]) -> dict[str, list[Any]]:
    """Up to MEMBER_CAP + 1 records per key value, oldest first: one query."""
    if not values:
        return {}
    numbered = (_display_qs(record_type, qs).filter(**{f"{key}__in": values})
                .annotate(row_number=Window(RowNumber(), partition_by=[F(key)], order_by=F("id").asc()))
                .filter(row_number__lte=MEMBER_CAP + 1))
    members: dict[str, list[Any]] = {}
    for record in numbered:
        members.setdefault(getattr(record, key), []).append(record)
    return members


def _email_groups(qs: QuerySet, keys: list[str]) -> list[tuple[str, list[Any]]]:
    by_email = _members_by_key("contact", qs, "email_key", keys)
    by_other = _members_by_key("contact", qs.exclude(secondary_email_key=""), "secondary_email_key", keys)
    groups = []
    for key in keys:
        records = {record.pk: record for record in by_email.get(key, []) + by_other.get(key, [])}
        groups.append((key, [records[pk] for pk in sorted(records)]))
    return groups


def _other_email_matches(qs: QuerySet) -> Any:
    """Other-email keys in a range that another contact has as either email: the keys of the cross matches,
    found from the (sparse) index of other emails."""
    def extra(lower: str | None, upper: str | None) -> Iterable[str]:
        seconds = qs.exclude(secondary_email_key="")
        if lower is not None:
            seconds = seconds.filter(secondary_email_key__gt=lower)
        if upper is not None:
            seconds = seconds.filter(secondary_email_key__lte=upper)
        key = OuterRef("secondary_email_key")
        matched = (Exists(qs.filter(email_key=key).exclude(pk=OuterRef("pk")))
                   | Exists(qs.filter(secondary_email_key=key).exclude(pk=OuterRef("pk"))))
        return seconds.filter(matched).order_by().values_list("secondary_email_key", flat=True).distinct()

    return extra


def _walk_reason(record_type: str, reason: str, qs: QuerySet, after: Any,
                 want: int) -> tuple[_Walk, list[tuple[str, list[Any]]]]:
    """One reason's walk from `after`, and its groups with their records: (key, records) each."""
    if record_type == "contact" and reason == "name":
        walk = _walk_names_at_accounts(qs, after, want)
        ids = [pk for cluster in walk.keys for pk in cluster[:MEMBER_CAP + 1]]
        records = {r.pk: r for r in _display_qs(record_type, qs).filter(pk__in=ids)} if ids else {}
        groups = []
        for cluster in walk.keys:
            members = [records[pk] for pk in cluster[:MEMBER_CAP + 1] if pk in records]
            groups.append((members[0].name_key if members else "", members))
        return walk, groups
    key = KEY_FIELDS[reason]
    if record_type == "contact":
        walk = _walk_keys(qs, key, after, want, extra=_other_email_matches(qs))
        return walk, _email_groups(qs, walk.keys)
    walk = _walk_keys(qs, key, after, want)
    by_key = _members_by_key(record_type, qs, key, walk.keys)
    return walk, [(value, by_key.get(value, [])) for value in walk.keys]


# --- "Not a duplicate" -------------------------------------------------------------------------------


def _dismissed(model: type[models.Model], records: Iterable[Any]) -> set[frozenset[int]]:
    """The pairs among these records marked "not a duplicate": one query of their history."""
    by_public_id = {record.public_id: record.pk for record in records}
    if not by_public_id:
        return set()
    entries = HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=list(by_public_id.values()),
        kind=HistoryEntry.Kind.DISTINCT).values_list("object_id", "changes")
    pairs = set()
    for object_id, changes in entries:
        other = (changes.get(DISTINCT_KEY) or [None, None])[1]
        other_pk = by_public_id.get(other.get("id")) if isinstance(other, dict) else None
        if other_pk is not None:
            pairs.add(frozenset((object_id, other_pk)))
    return pairs


def _split(records: list[Any], dismissed: set[frozenset[int]]) -> list[list[Any]]:
    """A group without its dismissed pairs: each record in turn (oldest first) with those not marked distinct
    from it and not yet shown together with it. Without dismissals, that is the group itself."""
    groups = []
    shown: set[frozenset[int]] = set()
    for anchor in records:
        together = [r for r in records if r.pk != anchor.pk and frozenset((anchor.pk, r.pk)) not in dismissed
                    and frozenset((anchor.pk, r.pk)) not in shown]
        if together:
            group = [anchor, *together]
            groups.append(group)
            shown |= {frozenset((a.pk, b.pk)) for a in group for b in group if a.pk != b.pk}
    return groups


# --- The list ----------------------------------------------------------------------------------------


def duplicate_groups(*, user: Any, record_type: str, cursor: str | None = None, reason: str | None = None,
                     limit: int = DEFAULT_GROUPS) -> DuplicatePage:
    """One page of likely duplicates of a type among the records the user may see.

    Groups come reason by reason, each in its key's order; `cursor` goes on where the last page
    stopped. A page holds up to `limit` groups (a few more when the last account's names match
    several ways), or fewer when it looked through its budget of rows first: the cursor then
    goes on looking.
    """
    require(user, record_type, Action.READ)
    reasons = parse_reason(record_type, reason)
    limit = max(1, min(int(limit), MAX_GROUPS))
    position = _read_cursor(cursor, reasons, record_type)
    model = MODELS[record_type]
    qs = model.objects.visible_to(user)  # type: ignore[attr-defined]
    found: list[tuple[str, str, list[Any]]] = []
    looked = 0
    index = reasons.index(position.reason)
    after = position.after
    next_position: _Position | None = None
    while index < len(reasons):
        reason_name = reasons[index]
        walk, groups = _walk_reason(record_type, reason_name, qs, after, limit - len(found))
        found += [(reason_name, key, records) for key, records in groups]
        looked += walk.looked
        if walk.after is not None:  # the page is full, or its budget spent: go on from here next time
            next_position = _Position(reason_name, walk.after)
            break
        index += 1
        after = None
        if len(found) >= limit or looked >= BUDGET:
            next_position = _Position(reasons[index], None) if index < len(reasons) else None
            break
    dismissed = _dismissed(model, (record for _r, _k, records in found for record in records))
    page_groups: list[DuplicateGroup] = []
    by_members: dict[frozenset[int], DuplicateGroup] = {}
    for reason_name, key, records in found:
        more = len(records) > MEMBER_CAP
        for members in _split(records[:MEMBER_CAP], dismissed):
            ids = frozenset(record.pk for record in members)
            group = DuplicateGroup(record_type, reason_name, key, members, more=more)
            if ids in by_members:  # the same records found for another reason: one group, both reasons
                by_members[ids].also.append((reason_name, key))
                continue
            by_members[ids] = group
            page_groups.append(group)
    next_cursor = _make_cursor(next_position, record_type) if next_position else None
    return DuplicatePage(page_groups, next_cursor, looked, reasons)


def shown_account(user: Any, contact: Contact) -> Account | None:
    """A contact's account, if the user may see it (loaded with the contact: no query)."""
    return contact.account if record_visible(user, contact.account) else None


@transaction.atomic
def mark_not_duplicate(*, actor: Any, record: Any, other: Any) -> None:
    """Mark two records of one type as not duplicates of each other: a history line on each, and the pair
    leaves the duplicates list. The actor may change `record` and sees `other` (the caller found both
    through visible_to); marking a pair twice changes nothing."""
    if type(record) is not type(other):
        raise ValidationError({"other": [_("Only two records of the same type can be compared.")]})
    if record.pk == other.pk:
        raise ValidationError({"other": [_("Choose another record: a record is always the same as itself.")]})
    if not record_visible(actor, record) or not record_visible(actor, other):
        raise PermissionDenied(_("You may not see both records."))
    require(actor, record.record_type, Action.UPDATE, owner_id=record.owner_id)
    if frozenset((record.pk, other.pk)) in _dismissed(type(record), [record, other]):
        return
    history_record(record=record, actor=actor, kind=HistoryEntry.Kind.DISTINCT,
                   changes={DISTINCT_KEY: [None, display_value(other)]})
    history_record(record=other, actor=actor, kind=HistoryEntry.Kind.DISTINCT,
                   changes={DISTINCT_KEY: [None, display_value(record)]})


def duplicates_of(*, user: Any, record: Any, limit: int = 10) -> list[Any]:
    """Records the user may see that look like `record` (for its merge page): the same email, website or
    name, and for a contact a name one edit apart at the same account. Indexed lookups, a few queries."""
    model = type(record)
    qs = model.objects.visible_to(user).exclude(pk=record.pk)
    condition = Q(pk__in=[])
    if isinstance(record, Contact):
        emails = [key for key in (record.email_key, record.secondary_email_key) if key]
        if emails:
            condition |= Q(email_key__in=emails) | Q(secondary_email_key__in=emails)
        if record.account_id:
            near = [pk for pk, name in qs.filter(account_id=record.account_id).order_by("name_key")
                    .values_list("pk", "name_key")[:500] if one_edit_apart(name, record.name_key)]
            condition |= Q(pk__in=near)
    else:
        for key in ("email_key", "website_key", "name_key"):
            if getattr(record, key):
                condition |= Q(**{key: getattr(record, key)})
    found = _display_qs(record.record_type, qs.filter(condition)).order_by()[:limit]
    return sorted(found, key=lambda r: r.pk)
