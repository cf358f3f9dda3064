"""Reads of the exports: a list's rows as the list's own selector finds them, in its ordering, in batches.

Every row comes from the list's selector (its filters and `visible_to(user)`), read as plain values with a
server-side iterator in batches of CHUNK_SIZE (what a batch needs from other tables in a few queries per
batch, never one per row), so an export holds one batch in memory whatever its size. Times are written in
the user's time zone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, NotSupportedError, connection
from django.db.models import Func, IntegerField, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import can
from rapport.core.models import Action
from rapport.core.pagination import capped_count, parse_ordering
from rapport.directory.filters import check_known_filters
from rapport.exports.resources import Batch, Column, ExportResource, Prepare, resources

logger = logging.getLogger("rapport.exports")

# The most rows one export may hold (page or API). Above it the user is told how many rows matched and
# asked to narrow the list with its filters. RAPPORT_EXPORT_MAX_ROWS in the settings changes it.
MAX_ROWS = 100_000
CHUNK_SIZE = 2_000
# Query parameters of a list page that page or decorate it rather than filter it: an export leaves them out.
NOT_FILTERS = frozenset({"limit", "cursor", "part", "format", "ordering", "lookup"})
FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "vcf": "vCard"}


class TooManyRows(Exception):
    """More rows match than one export may hold."""

    def __init__(self, *, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            _("This export would hold %(count)s rows; one export holds at most %(limit)s. Narrow the list with "
              "its filters (owner, dates, status...) and export the parts one by one.")
            % {"count": f"{count:,}", "limit": f"{limit:,}"})


@dataclass
class Export:
    """An export ready to write: its resource and format, its rows, and how many there are."""

    resource: ExportResource
    format: str
    user: Any
    zone: dt.tzinfo
    queryset: QuerySet
    count: int
    filters: dict[str, list[str]]
    ordering: str

    @property
    def filename(self) -> str:
        day = timezone.now().astimezone(self.zone).date().isoformat()
        return f"{self.resource.key}-{day}.{self.format}"

    def batches(self, fields: Sequence[str], *, prepare: Prepare | None = None, named: bool = False,
                moments: Collection[str] = ()) -> Iterator[tuple[list[Any], Batch]]:
        """The rows' values (id first), CHUNK_SIZE rows at a time, each batch with what `prepare` found for it.
        Rows are tuples, or dicts with named=True. Fields named in `moments` (tuples only) come as seconds
        since 1970, see _EpochSeconds."""
        qs = self.queryset.prefetch_related(None)
        annotate = self.resource.annotate
        if annotate is not None:
            wanted = {name: expression for name, expression in annotate().items()
                      if any(field == name or field.startswith(f"{name}__") for field in fields)}
            qs = qs.annotate(**wanted) if wanted else qs
        if named:
            rows = qs.values("pk", *fields)
        else:
            rows = qs.values_list("pk", *(_EpochSeconds(name) if name in moments else name for name in fields))
        batch: list[Any] = []
        iterator = rows.iterator(chunk_size=CHUNK_SIZE)
        with _planned_for_every_row():  # the plan is made when the cursor opens, at its first row
            first = next(iterator, None)
        for row in itertools.chain([first] if first is not None else [], iterator):
            batch.append(row)
            if len(batch) >= CHUNK_SIZE:
                yield batch, self._context(batch, prepare, named)
                batch = []
        if batch:
            yield batch, self._context(batch, prepare, named)

    def _context(self, batch: list[Any], prepare: Prepare | None, named: bool) -> Batch:
        if prepare is None:
            return Batch(user=self.user)
        ids = [row["pk"] for row in batch] if named else [row[0] for row in batch]
        return Batch(user=self.user, extra=prepare(self.user, ids))

    def rows(self) -> Iterator[list[Any]]:
        """The table's rows: one list of cell values per record, in the resource's columns."""
        columns = self.resource.columns
        fields: list[str] = []
        for column in columns:
            fields.extend(name for name in column.fields if name not in fields and name != "pk")
        position = {name: index for index, name in enumerate(["pk", *fields])}
        moments = {name for column in columns if column.time for name in column.fields}
        # A moment's field is read as seconds: a column that reads it otherwise would get a number.
        assert not any(name in moments for column in columns if not column.time for name in column.fields)
        for rows, batch in self.batches(fields, prepare=self.resource.prepare, moments=moments):
            getters = [_cell_getter(column, [position[name] for name in column.fields], batch, self.zone)
                       for column in columns]
            for row in rows:
                yield [get(row) for get in getters]


_NOTHING: dict[str, Any] = {}


class _EpochSeconds(Func):
    """A date-time as whole seconds since 1970 (UTC), read in the rows' query. The drivers' own way costs
    more than the rest of a row: Django's timestamptz loader for psycopg is psycopg's pure-Python one (about
    a sixth of a CSV export on PostgreSQL), and on SQLite the text is parsed, then made aware, in Python.
    The files carry whole seconds, so nothing is lost."""

    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None, template: str | None = None,
               arg_joiner: str | None = None, **extra_context: Any) -> Any:
        if template is None:
            raise NotSupportedError(f"Exports read times on SQLite and PostgreSQL, not on {connection.vendor}.")
        return super().as_sql(compiler, connection, function=function, template=template, arg_joiner=arg_joiner,
                              **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The stored text's first 19 characters, the whole seconds: strftime rounds to the millisecond first,
        # and "…:15.9996" would become :16. '%%%%s': the template halves it, and Django's SQLite cursor
        # halves it again, to strftime's %s.
        return self.as_sql(compiler, connection,
                           template="CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint",
                           **extra)


@contextmanager
def _planned_for_every_row() -> Iterator[None]:
    """PostgreSQL plans a cursor's query for its first tenth (cursor_tuple_fraction): for an ordering no
    index gives with a filter ("-updated_at" of one owner's 85,000 contacts) it walked the whole updated_at
    index, 2.5 s, where reading the owner's rows and sorting them takes 0.56 s. An export reads every row:
    it is planned so while its cursor opens, and the setting is put back before any row is handed on."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('cursor_tuple_fraction', '1', false)")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET cursor_tuple_fraction")
        except DatabaseError:
            # The cursor failed inside a transaction, which is now aborted: its rollback undoes the setting,
            # and the cursor's own error is the one to report.
            if not connection.in_atomic_block:
                raise


def _cell_getter(column: Column, indexes: list[int], batch: Batch, zone: dt.tzinfo) -> Callable[[Any], Any]:
    """How one column's cell is read from a row (a tuple of values): this runs for every cell of every row,
    so each kind of column gets the shortest path there is."""
    first = indexes[0]
    if column.extra_key:
        key, found = column.extra_key, batch.extra.get
        return lambda row: found(row[0], _NOTHING).get(key, "")
    if column.time:  # a moment, in the user's zone (the writers drop the microseconds)
        return _moment_getter(first, zone)
    make = column.value
    if make is None:
        return itemgetter(first)
    if len(indexes) == 1:
        return lambda row: make(batch, row[first])
    pick = itemgetter(*indexes)
    return lambda row: make(batch, *pick(row))


def _moment_getter(index: int, zone: dt.tzinfo) -> Callable[[Any], Any]:
    """A date-time read as _EpochSeconds, in `zone`."""
    local = dt.datetime.fromtimestamp
    return lambda row: local(row[index], zone) if row[index] is not None else None


def user_zone(user: Any) -> dt.tzinfo:
    """The user's time zone (the API's token requests never pass the page middleware that activates it)."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def max_rows() -> int:
    return int(getattr(settings, "RAPPORT_EXPORT_MAX_ROWS", MAX_ROWS))


def export_resource(key: str) -> ExportResource | None:
    return resources().get(key)


def export_filters(query: QueryDict) -> QueryDict:
    """The list's filters in a query string: without paging, ordering, format and empty values."""
    params = query.copy()
    for name in list(params.keys()):
        values = [v for v in params.getlist(name) if v.strip()]
        if name in NOT_FILTERS or not values:
            params.pop(name)
        else:
            params.setlist(name, values)
    return params


def parse_format(value: str | None, resource: ExportResource) -> str:
    fmt = (value or "csv").strip().lower()
    if fmt not in resource.formats:
        raise ValidationError({"format": [_("Unknown format %(format)s; use one of: %(formats)s.")
                                          % {"format": fmt[:20], "formats": ", ".join(resource.formats)}]})
    return fmt


def export_open(*, user: Any, resource: ExportResource, query: QueryDict) -> Export:
    """The export a query string asks for: its format, the list's filters and ordering, checked.

    ValidationError names a bad format, filter or ordering; PermissionDenied, a user whose role does not
    read this type of record; TooManyRows, a list larger than one export may hold."""
    fmt = parse_format(query.get("format"), resource)
    if not can(user, resource.record_type, Action.READ):
        raise PermissionDenied
    params = export_filters(query)
    if resource.check_filters:
        check_known_filters(params, set(resource.filters))
    ordering = parse_ordering(query.get("ordering") or None, resource.orderings, resource.default_ordering)
    qs = resource.selector(user=user, params=params)
    limit = max_rows()
    count, more = capped_count(qs, cap=limit)
    if more:
        raise TooManyRows(count=qs.order_by().count(), limit=limit)
    prefix = "-" if ordering.descending else ""
    return Export(resource=resource, format=fmt, user=user, zone=user_zone(user),
                  queryset=qs.order_by(f"{prefix}{ordering.field}", f"{prefix}pk"), count=count,
                  filters={name: params.getlist(name) for name in params}, ordering=ordering.name)


def audited(export: Export, lines: Iterable[Any]) -> Iterator[Any]:
    """`lines` passed through, with a line in the server log when they end: who exported what, how many rows
    (or that the download stopped half-way)."""
    done = False
    try:
        yield from lines
        done = True
    finally:
        logger.info("export %s user=%s resource=%s format=%s rows=%d filters=%s ordering=%s",
                    "done" if done else "stopped", getattr(export.user, "username", "?"), export.resource.key,
                    export.format, export.count, export.filters, export.ordering)
