"""Keyset (cursor) pagination for every list, page and API alike.

A page never uses OFFSET: the cursor carries the sort value and the id of the
last row shown, so page 10,000 costs what page 1 costs. Cursors are signed, so
a malformed or tampered cursor is a clear 400, not a 500 or a wrong page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
_SALT = "rapport.cursor"


@dataclass(frozen=True)
class Ordering:
    """A whitelisted ordering: the public name clients send and the model field behind it."""

    name: str
    field: str
    descending: bool = False


def parse_ordering(value: str | None, allowed: dict[str, str], default: str) -> Ordering:
    """Turn `name` / `-name` into an Ordering, refusing names outside the whitelist."""
    raw = (value or default).strip()
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name not in allowed:
        raise ValidationError(
            {"ordering": [_("Unknown ordering %(name)s; use one of: %(names)s.")
                          % {"name": raw, "names": ", ".join(sorted(allowed))}]}
        )
    return Ordering(name=raw, field=allowed[name], descending=descending)


def parse_limit(value: Any, default: int = DEFAULT_LIMIT) -> int:
    """A page size between 1 and MAX_LIMIT; larger requests are capped, not refused."""
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"limit": [_("Enter a whole number.")]}) from None
    if limit < 1:
        raise ValidationError({"limit": [_("Ask for at least one item.")]})
    return min(limit, MAX_LIMIT)


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return dt.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
    return value


def _make_cursor(ordering: Ordering, row: Any, backwards: bool) -> str:
    value = getattr(row, ordering.field)
    payload = {"o": ordering.name, "v": _encode_value(value), "k": row.pk, "b": backwards}
    return signing.dumps(payload, salt=_SALT, compress=True)


def _read_cursor(cursor: str, ordering: Ordering) -> dict[str, Any]:
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise ValidationError({"cursor": [_("This cursor is not valid; start again from the first page.")]}) from None
    if not isinstance(payload, dict) or payload.get("o") != ordering.name or "k" not in payload:
        raise ValidationError({"cursor": [_("This cursor belongs to another ordering; start again.")]})
    payload["v"] = _decode_value(payload.get("v"))
    return payload


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None


def keyset_page(qs: QuerySet, *, ordering: Ordering, cursor: str | None, limit: int) -> Page:
    """One page of qs in `ordering`, starting after (or, backwards, before) the cursor.

    Ties on the sort field are broken by primary key, so every row appears
    exactly once however many share a value.
    """
    backwards = False
    descending = ordering.descending
    if cursor:
        payload = _read_cursor(cursor, ordering)
        backwards = bool(payload.get("b"))
        value, key = payload["v"], payload["k"]
        walk_descending = descending != backwards
        op = "lt" if walk_descending else "gt"
        # (field, pk) beyond (value, key), written so that the leading `field >= value` lets SQLite and
        # PostgreSQL start an index range scan; the plain OR form makes both scan from the beginning.
        qs = qs.filter(Q(**{f"{ordering.field}__{op}e": value})
                       & (Q(**{f"{ordering.field}__{op}": value}) | Q(**{f"pk__{op}": key})))
    walk_descending = descending != backwards
    prefix = "-" if walk_descending else ""
    rows = list(qs.order_by(f"{prefix}{ordering.field}", f"{prefix}pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if not rows:
        return Page(items=[], next_cursor=None, previous_cursor=None)
    has_next = more if not backwards else True
    has_previous = bool(cursor) if not backwards else more
    return Page(
        items=rows,
        next_cursor=_make_cursor(ordering, rows[-1], backwards=False) if has_next else None,
        previous_cursor=_make_cursor(ordering, rows[0], backwards=True) if has_previous else None,
    )


CAPPED_COUNT = 1000


def counts(querysets: list[QuerySet]) -> list[int]:
    """How many rows each (unsliced) queryset matches, all in one query: SELECT (SELECT COUNT(*) ...), (...).
    The top bar's badges are on every page; one round trip each was a fifth of a record page's queries."""
    parts: list[str] = []
    params: list[Any] = []
    for qs in querysets:
        try:
            sql, found_params = qs.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # .none(): nothing to count
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted)")  # noqa: S608 - the ORM's own SQL
        params.extend(found_params)
    if all(part == "0" for part in parts):
        return [0] * len(parts)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return [int(n) for n in cursor.fetchone()]


def capped_count(qs: QuerySet, cap: int = CAPPED_COUNT) -> tuple[int, bool]:
    """How many rows match, counting at most cap + 1 of them: (count, more than cap)."""
    n = qs.order_by().values("pk")[: cap + 1].count()  # only ids: no joins or annotations to compute
    return min(n, cap), n > cap
