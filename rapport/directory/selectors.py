"""Reads of accounts and contacts, always through visible_to(user)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Subquery, Value, When, prefetch_related_objects
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_record, record_visible
from rapport.core.history import history_for
from rapport.core.models import Action
from rapport.directory.filters import (
    ACCOUNT_FILTERS,
    CONTACT_FILTERS,
    apply_account_filter,
    apply_contact_filter,
    parse_filter,
)
from rapport.directory.models import Account, Contact, RelationshipStage, StageChange


def account_list(*, user: Any, params: Any) -> QuerySet[Account]:
    """Accounts the user may see, filtered by a query string (q, owner, stage, attr)."""
    flt = parse_filter(params, allowed=ACCOUNT_FILTERS)
    qs = Account.objects.visible_to(user).select_related("owner")
    return apply_account_filter(qs, flt, user=user)


def contact_list(*, user: Any, params: Any) -> QuerySet[Contact]:
    """Contacts the user may see, filtered by a query string (q, owner, account, attr)."""
    flt = parse_filter(params, allowed=CONTACT_FILTERS)
    qs = Contact.objects.visible_to(user).select_related("owner", "account")
    return apply_contact_filter(qs, flt, user=user)


# The columns the list pages show (and sort, page and check visibility by): lighter rows than the API's.
_RECORD_ROW = ("id", "public_id", "owner_id", "visibility", "deleted_at", "created_at", "updated_at", "name_key",
               "owner__first_name", "owner__last_name", "owner__username")
ACCOUNT_ROW = (*_RECORD_ROW, "name", "stage", "industry", "phone")
CONTACT_ROW = (*_RECORD_ROW, "first_name", "last_name", "title", "email", "phone", "mobile", "account_id",
               "account__public_id", "account__name", "account__owner_id", "account__visibility",
               "account__deleted_at")


def account_rows(*, user: Any, params: Any) -> QuerySet[Account]:
    """account_list with only the columns the list page shows."""
    return account_list(user=user, params=params).only(*ACCOUNT_ROW)


def contact_rows(*, user: Any, params: Any) -> QuerySet[Contact]:
    """contact_list with only the columns the list page shows."""
    return contact_list(user=user, params=params).only(*CONTACT_ROW)


def account_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Account:
    """One account: 404 if the user may not see it, 403 if they may not do `action` to it.
    With deleted=True, one in the trash (to restore it)."""
    qs = Account.objects.select_related("owner", "parent", "created_by").prefetch_related("addresses")
    return access_record(user, Account, public_id, action, queryset=qs, deleted=deleted)


def contact_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Contact:
    """One contact, as account_get."""
    qs = Contact.objects.select_related("owner", "account", "created_by").prefetch_related("addresses")
    return access_record(user, Contact, public_id, action, queryset=qs, deleted=deleted)


def account_written(*, user: Any, account: Account) -> Account:
    """The account a user has just written, as the answer to that write.

    Read again through visible_to when the writer can still see it; when the write put it out of
    their sight (given to someone else, made private), the written record itself answers: the
    writer supplied that data, and a 404 would make a client retry and create it twice.
    """
    try:
        return account_get(user=user, public_id=account.public_id)
    except Http404:
        return Account.objects.select_related("owner", "parent").prefetch_related("addresses").get(pk=account.pk)


def contact_written(*, user: Any, contact: Contact) -> Contact:
    """The contact a user has just written, as account_written."""
    try:
        return contact_get(user=user, public_id=contact.public_id)
    except Http404:
        return Contact.objects.select_related("owner", "account").prefetch_related("addresses").get(pk=contact.pk)


def account_api_list(*, user: Any, params: Any) -> QuerySet[Account]:
    """account_list with what the API returns for each account."""
    return account_list(user=user, params=params).select_related("parent").prefetch_related("addresses")


def contact_api_list(*, user: Any, params: Any) -> QuerySet[Contact]:
    """contact_list with what the API returns for each contact."""
    return contact_list(user=user, params=params).prefetch_related("addresses")


def account_lookup(*, user: Any, query: str, limit: int = 20) -> list[Account]:
    """The first accounts whose name starts with `query`, for an account picker."""
    return list(account_list(user=user, params={"q": query} if query else {}).order_by("name_key", "id")[:limit])


def contact_lookup(*, user: Any, query: str, limit: int = 20) -> list[Contact]:
    """The first contacts whose name (or email) starts with `query`, for a contact picker."""
    return list(contact_list(user=user, params={"q": query} if query else {}).order_by("name_key", "id")[:limit])


def contact_choices(*, user: Any) -> QuerySet[Contact]:
    """Contacts a picker may accept (it shows only the chosen one and what was searched for)."""
    return Contact.objects.visible_to(user).only("id", "public_id", "first_name", "last_name", "title", "name_key")


def account_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    """An account with what its page shows: contacts the user may see, sub-accounts, history."""
    account, children = _account_with_children(user=user, public_id=public_id, limit=50)
    contacts = list(Contact.objects.visible_to(user).filter(account=account).order_by("name_key", "id")[:100])
    parent = account.parent if record_visible(user, account.parent) else None
    return {
        "account": account,
        "parent": parent,
        "contacts": contacts,
        "children": children,
        "history": history_for(account, user=user),
    }


def _account_with_children(*, user: Any, public_id: str, limit: int) -> tuple[Account, list[Account]]:
    """The account (404 unless the user may see it) and its first visible sub-accounts, in one query:
    the page's query budget (8, whatever the size) has no room for a second."""
    by_id = Account.objects.filter(public_id=public_id).values("id")
    # The account's id and its children's, as a UNION of two index look-ups: with an OR of the two in the
    # rows' own WHERE, SQLite read every account of the user's visibility instead (70 ms on medium, not 1.5).
    family = by_id.union(Account.objects.filter(parent_id=Subquery(by_id)).values("id"), all=True)
    rows = Account.objects.visible_to(user).select_related("owner", "parent", "created_by").filter(pk__in=family)
    is_self = Case(When(public_id=public_id, then=Value(0)), default=Value(1))
    try:
        found = list(rows.order_by(is_self, "name_key", "id")[: limit + 1])
    except ValueError:  # as access_record: an id the database cannot take is no account
        raise Http404 from None
    if not found or found[0].public_id != public_id:
        raise Http404
    account, *children = found
    prefetch_related_objects([account], "addresses")
    return account, children[:limit]


def contact_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    contact = contact_get(user=user, public_id=public_id)
    account = contact.account if record_visible(user, contact.account) else None
    return {"contact": contact, "account": account, "history": history_for(contact, user=user)}


def account_choices(*, user: Any) -> QuerySet[Account]:
    """Accounts offered in a picker (parent account, a contact's account)."""
    return Account.objects.visible_to(user).only("id", "public_id", "name", "name_key").order_by("name_key", "id")


def possible_account_duplicates(*, user: Any, email: str, website_key: str) -> list[Account]:
    condition = Q(pk__in=[])
    if email:
        condition |= Q(email_key=email.strip().lower())
    if website_key:
        condition |= Q(website_key=website_key)
    qs = Account.objects.visible_to(user).filter(condition)
    # Unordered on purpose: ORDER BY name_key LIMIT lures PostgreSQL into walking the whole name index.
    return sorted(qs.order_by()[:10], key=lambda a: a.name_key)


def possible_contact_duplicates(*, user: Any, email: str) -> list[Contact]:
    if not email:
        return []
    qs = Contact.objects.visible_to(user).filter(email_key=email.strip().lower()).select_related("account")
    return sorted(qs.order_by()[:10], key=lambda c: c.name_key)


# --- The relationship cycle (issue 7: accounts per relationship stage, stage changes per month) -----


@dataclass
class StageMonth:
    """The changes of relationship stage in one month: how many accounts entered each stage."""

    month: dt.date
    counts: dict[str, int]  # stage ("" for none) -> accounts that entered it that month
    labels: dict[str, str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[tuple[str, str, int]]:
        """(stage, its name, count) in the order of the stages, for a table row."""
        return [(value, self.labels[value], count) for value, count in self.counts.items()]


def _months_back(today: dt.date, months: int) -> list[dt.date]:
    """The first days of the `months` months up to and including today's, oldest first."""
    firsts = [today.replace(day=1)]
    while len(firsts) < months:
        firsts.append((firsts[-1] - dt.timedelta(days=1)).replace(day=1))
    return firsts[::-1]


def account_stage_summary(*, user: Any, today: dt.date | None = None, months: int = 12) -> dict[str, Any]:
    """How many accounts the user may see are in each relationship stage (and in none), and how many
    entered each stage per month over the last `months` months.

    A COUNT per stage rather than one GROUP BY: each reads the (stage, name_key, id) index for one
    stage only. The monthly changes are those of visible accounts, grouped in the database.
    """
    visible = Account.objects.visible_to(user)
    stages = [*RelationshipStage.choices, ("", _("No stage"))]
    counts = [(value, label, visible.filter(stage=value).count()) for value, label in stages]
    firsts = _months_back(today or timezone.localdate(), months)
    end = (firsts[-1] + dt.timedelta(days=32)).replace(day=1)
    rows = (StageChange.objects.filter(changed_on__gte=firsts[0], changed_on__lt=end,
                                       account_id__in=visible.values("id"))
            .annotate(month=TruncMonth("changed_on")).values("month", "to_stage")
            .annotate(n=Count("id")).order_by())
    labels = {value: str(label) for value, label in stages}
    by_month = {first: StageMonth(first, dict.fromkeys(labels, 0), labels) for first in firsts}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        by_month[month].counts[row["to_stage"]] += row["n"]
    return {"stage_counts": counts, "total": sum(count for _v, _l, count in counts), "stages": stages,
            "months": [by_month[first] for first in firsts]}
