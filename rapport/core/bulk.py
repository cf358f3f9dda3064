"""Multi-row INSERTs for the set-based write paths (an import, a rule sweep), faster than QuerySet.bulk_create.

Django's bulk_create prepares every value of every row through its field classes and sends SQLite at most
999 parameters a statement: that was four fifths of an import's time and two thirds of a rule sweep's. Here
only values that need it (dates, JSON) go through their field, a statement carries hundreds of rows on SQLite
and one array a column on PostgreSQL. The columns are the model's own (`_meta.concrete_fields`), so a field
added later is written with its default, not forgotten. Like bulk_create, neither save() nor signals run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from rapport.core.ids import new_public_id, new_public_ids

ROWS_PER_STATEMENT = 400
M = TypeVar("M", bound=models.Model)

# Field classes whose values the database driver takes as they are (text, numbers, ids, yes/no).
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey,
          models.AutoField)


def _prepare(value: Any, model_field: models.Field) -> Any:
    if value is None or (isinstance(value, str | int | bool) and not isinstance(model_field, models.JSONField)):
        return value
    return model_field.get_db_prep_save(value, connection)


def _needs_prep(model_field: models.Field) -> bool:
    return not isinstance(model_field, _PLAIN) or isinstance(model_field, models.JSONField)


def _default_maker(model_field: models.Field) -> Callable[[], Any]:
    """What gives a row the field's callable default: public ids are made a thousand at a time."""
    if model_field.default is new_public_id:
        pool: list[str] = []

        def next_public_id() -> str:
            if not pool:
                pool.extend(new_public_ids(1000))
            return pool.pop()

        return next_public_id
    return lambda: _prepare(model_field.get_default(), model_field)


def _database_default_only(model_field: models.Field) -> bool:
    """A column whose default only the database knows (db_default): left out when no row gives it."""
    return model_field.db_default is not NOT_PROVIDED and not model_field.has_default()


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, returning: bool = True,
                same: dict[str, Any] | None = None) -> list[int]:
    """INSERT rows (dicts of attname -> value) into the model's table, many per statement; their new ids.

    `same` holds the values every row shares (a sweep's due time, its "now", a rule's name): prepared once,
    and on PostgreSQL sent once a statement rather than once a row. A column a row leaves out gets the
    field's default (called per row when it is a callable); an auto_now field that nothing gives gets one
    "now" for the whole call."""
    if not rows:
        return []
    same = dict(same or {})
    fields = [f for f in model._meta.concrete_fields if not f.primary_key
              and not (_database_default_only(f) and f.attname not in same
                       and not any(f.attname in row for row in rows))]
    moment = timezone.now()
    for f in fields:
        stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        if stamped and f.attname not in same and not any(f.attname in row for row in rows):
            same[f.attname] = moment
    varying = [f for f in fields if f.attname not in same] or fields
    fixed = [f for f in fields if f not in varying]
    fixed_values = [_prepare(same[f.attname], f) for f in fixed]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in varying + fixed)
    table = quote(model._meta.db_table)
    constants: dict[str, Any] = {}
    for f in varying:
        if f.attname in same:
            constants[f.attname] = _prepare(same[f.attname], f)
        elif f.has_default() and not callable(f.default):
            constants[f.attname] = _prepare(f.get_default(), f)
        elif not f.has_default():
            constants[f.attname] = None if f.null else _prepare(f.get_default(), f)
    plan = [(f.attname, f, _needs_prep(f)) for f in varying]
    makers = {f.attname: _default_maker(f) for f in varying if f.attname not in constants}
    # A batch repeats its moments (the same due time, the same "now"): each is prepared once.
    moments: dict[tuple[str, dt.date], Any] = {}

    def prepared(name: str, value: Any, f: models.Field) -> Any:
        if not isinstance(value, dt.date):
            return _prepare(value, f)
        key = (name, value)
        if key not in moments:
            moments[key] = _prepare(value, f)
        return moments[key]

    def values_of(row: dict[str, Any]) -> list[Any]:
        out = []
        for name, f, prep in plan:
            if name in row:
                value = row[name]
                out.append(prepared(name, value, f) if prep and value is not None else value)
            elif name in constants:
                out.append(constants[name])
            else:
                out.append(makers[name]())
        return out

    pk = quote(str(model._meta.pk.column))
    ids: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array a varying column (UNNEST, as Django's own bulk_create does there) and one value a shared
            # one: a statement of 20 parameters rather than 20 a row, which psycopg would otherwise parse
            # placeholder by placeholder.
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in varying)
            shared = "".join(f", %s::{f.db_type(connection)}" for f in fixed)
            sql = f"INSERT INTO {table} ({columns}) SELECT u.*{shared} FROM UNNEST({arrays}) AS u"  # noqa: S608
            for start in range(0, len(rows), 5000):
                columns_values = list(zip(*(values_of(row) for row in rows[start:start + 5000]), strict=True))
                # The shared values' placeholders come first in the statement.
                params = fixed_values + [list(c) for c in columns_values]
                if returning:
                    cursor.execute(sql + f" RETURNING {pk}", params)
                    ids.extend(row[0] for row in cursor.fetchall())
                else:
                    cursor.execute(sql, params)
            return ids
        marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            params = []
            for row in chunk:
                params.extend(values_of(row))
                params.extend(fixed_values)
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([marks] * len(chunk))}"  # noqa: S608
            if returning:
                cursor.execute(sql + f" RETURNING {pk}", params)
                ids.extend(row[0] for row in cursor.fetchall())
            else:
                cursor.execute(sql, params)
    return ids


def insert_objects(objects: Sequence[M]) -> Sequence[M]:
    """Insert unsaved instances of one model, as bulk_create does (auto_now fields set, pks filled in)."""
    if not objects:
        return objects
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [{f.attname: value for f in fields if not isinstance(value := f.pre_save(obj, True), DatabaseDefault)}
            for obj in objects]
    ids = insert_rows(model, rows)
    # The ids come back in the order the rows were given, as Django's own bulk_create relies on (a multi-row
    # INSERT ... RETURNING on SQLite and PostgreSQL).
    if len(ids) != len(objects):  # pragma: no cover - a database that returned fewer ids than rows
        raise RuntimeError("The database did not return the ids of the inserted rows.")
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects
