"""The one filter definition of the account and contact lists, used by the pages and the API.

Filters come from a query string; anything not in the whitelist, or a value
that does not parse, is a ValidationError naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.text import fold, prefix_upper_bound, website_domain
from rapport.directory.models import Account, Attribute, RelationshipStage
from rapport.directory.remarks import parse_attribute_filter

# Query parameters that are not filters but belong to every list.
LIST_PARAMS = frozenset({"limit", "cursor", "ordering"})

ACCOUNT_ORDERINGS = {
    "name": "name_key",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
CONTACT_ORDERINGS = {
    "name": "name_key",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
MAX_QUERY = 100
MAX_ATTRIBUTE_FILTERS = 10


@dataclass
class DirectoryFilter:
    """Parsed filters of a directory list."""

    q: str = ""
    owner: str = ""  # a user's public id, or "me"
    stage: str = ""
    account: str = ""  # an account's public id (contacts only)
    attrs: list[tuple[str, str]] = field(default_factory=list)



def param_values(params: Any, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        return [v for v in params.getlist(name) if v != ""]
    value = params.get(name)
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list | tuple) else [str(value)]


def parse_filter(params: Any, *, allowed: set[str]) -> DirectoryFilter:
    """Read the filters in `allowed` from a QueryDict or dict; refuse unknown ones."""
    unknown = sorted(set(params.keys()) - allowed - LIST_PARAMS)
    if unknown:
        raise ValidationError(
            {name: [_("Unknown filter; use one of: %s.") % ", ".join(sorted(allowed))] for name in unknown}
        )
    result = DirectoryFilter()
    q = " ".join(param_values(params, "q")).strip()
    if len(q) > MAX_QUERY:
        raise ValidationError({"q": [_("Search for at most %d characters.") % MAX_QUERY]})
    result.q = q
    owners = param_values(params, "owner")
    result.owner = owners[0] if owners else ""
    stages = param_values(params, "stage")
    if stages:
        if stages[0] not in RelationshipStage.values:
            raise ValidationError({"stage": [_("Use one of: %s.") % ", ".join(RelationshipStage.values)]})
        result.stage = stages[0]
    accounts = param_values(params, "account")
    result.account = accounts[0] if accounts else ""
    attrs = param_values(params, "attr")
    if len(attrs) > MAX_ATTRIBUTE_FILTERS:
        raise ValidationError({"attr": [_("Combine at most %d attribute filters.") % MAX_ATTRIBUTE_FILTERS]})
    for raw in attrs:
        pair = parse_attribute_filter(raw)
        if pair is None:
            raise ValidationError({"attr": [_("Write an attribute filter as key:value, for example region:north.")]})
        result.attrs.append(pair)
    return result


def owner_q(value: str, user: Any) -> Q:
    from rapport.core.models import User

    if value == "me":
        return Q(owner_id=user.pk)
    owner_id = User.objects.filter(public_id=value).values_list("id", flat=True).first()
    if owner_id is None:
        raise ValidationError({"owner": [_("No such user.")]})
    return Q(owner_id=owner_id)


def prefix_q(field_name: str, text: str) -> Q:
    key = fold(text)
    return Q(**{f"{field_name}__gte": key, f"{field_name}__lt": prefix_upper_bound(key)})


# An attribute matching at most this many records is filtered as "id IN (matches)"; a commoner one as
# "EXISTS (a match for this row)", so the list can walk its sort index and stop after one page.
RARE_ATTRIBUTE = 500
_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)+$")


def _attribute_filter(link: str, key: str, value: str) -> Q | Exists:
    matches = Attribute.objects.filter(key=key, value=value, **{f"{link}__isnull": False}).order_by()
    # Ordered by the index's last column so both databases read the (key, value, record) index, not the table.
    if matches.order_by(f"{link}_id").values(f"{link}_id")[: RARE_ATTRIBUTE + 1].count() <= RARE_ATTRIBUTE:
        return Q(pk__in=matches.values(f"{link}_id"))
    return Exists(Attribute.objects.filter(key=key, value=value, **{link: OuterRef("pk")}))


def _email_prefix_q(text: str) -> Q:
    email = text.strip().lower()
    return Q(email_key__gte=email, email_key__lt=prefix_upper_bound(email))


def apply_account_filter(qs: QuerySet, flt: DirectoryFilter, *, user: Any) -> QuerySet:
    if flt.q:
        # One indexed range per search keeps the list in index order: an email address searches
        # emails, a bare domain searches websites, anything else the start of the name.
        text = flt.q.strip()
        if "@" in text:
            qs = qs.filter(_email_prefix_q(text))
        elif _DOMAIN.match(text):
            qs = qs.filter(website_key=website_domain(text))
        else:
            qs = qs.filter(prefix_q("name_key", text))
    if flt.owner:
        qs = qs.filter(owner_q(flt.owner, user))
    if flt.stage:
        qs = qs.filter(stage=flt.stage)
    for key, value in flt.attrs:
        qs = qs.filter(_attribute_filter("account", key, value))
    return qs


def apply_contact_filter(qs: QuerySet, flt: DirectoryFilter, *, user: Any) -> QuerySet:
    from rapport.directory.models import Account

    if flt.q:
        if "@" in flt.q:
            qs = qs.filter(_email_prefix_q(flt.q))
        else:
            # "Berg, Anna" (as the list shows names) finds Berg, Anna: the sort key is "last first".
            words = flt.q.replace(",", " ").split()
            condition = prefix_q("name_key", " ".join(words))
            if len(words) > 1:  # "Anna Berg" finds Berg, Anna too
                condition |= prefix_q("name_key", " ".join([words[-1], *words[:-1]]))
            qs = qs.filter(condition)
    if flt.owner:
        qs = qs.filter(owner_q(flt.owner, user))
    if flt.account:
        account_id = Account.objects.visible_to(user).filter(public_id=flt.account).values_list("id", flat=True).first()
        if account_id is None:
            raise ValidationError({"account": [_("No such account.")]})
        qs = qs.filter(account_id=account_id)
    for key, value in flt.attrs:
        qs = qs.filter(_attribute_filter("contact", key, value))
    return qs


ACCOUNT_FILTERS = {"q", "owner", "stage", "attr"}
CONTACT_FILTERS = {"q", "owner", "account", "attr"}


# --- Parameters shared by the lists of other apps (sales, support) ---------------------------------


def check_known_filters(params: Any, allowed: set[str]) -> None:
    unknown = sorted(set(params.keys()) - allowed - LIST_PARAMS)
    if unknown:
        raise ValidationError(
            {name: [_("Unknown filter; use one of: %s.") % ", ".join(sorted(allowed))] for name in unknown})


def one_value(params: Any, name: str) -> str:
    values = param_values(params, name)
    return values[0].strip() if values else ""


def query_text(params: Any) -> str:
    q = " ".join(param_values(params, "q")).strip()
    if len(q) > MAX_QUERY:
        raise ValidationError({"q": [_("Search for at most %d characters.") % MAX_QUERY]})
    return q


def choice_value(params: Any, name: str, choices: list[str]) -> str:
    value = one_value(params, name)
    if value and value not in choices:
        raise ValidationError({name: [_("Use one of: %s.") % ", ".join(choices)]})
    return value


def date_value(params: Any, name: str) -> dt.date | None:
    value = one_value(params, name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of a day in the current time zone. A filter on the days of a timestamp is a range from
    one day's start to the next's, which an index serves; `created_at__date` calls a function for every row."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def account_filter_id(params: Any, user: Any) -> int | None:
    """The id of the visible account named by the `account` filter; None without one."""
    public_id = one_value(params, "account")
    if not public_id:
        return None
    account_id = Account.objects.visible_to(user).filter(public_id=public_id).values_list("id", flat=True).first()
    if account_id is None:
        raise ValidationError({"account": [_("No such account.")]})
    return account_id
