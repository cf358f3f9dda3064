"""Running the rows of a file into records: convert each cell, find duplicates, link accounts, write.

`Importer.run` goes through the rows in batches. Per batch: every mapped cell is converted (a cell that
cannot be is a problem naming the row, the column and the reason); the duplicates of the batch are looked up
in one query through the importing user's `visible_to` (a record the user may not see is never matched, so
never updated); the companies named are looked up in one query; then the batch is written by the record
type's handler (handlers.py). The caller owns the transaction: it commits, or rolls everything back when a
row was bad and the import is all or nothing, or when it is a dry run or a preview.

A row that is bad is never written. In "skip bad rows" mode the others are; otherwise the run goes on
writing, only to find and report every bad row, and the caller rolls it all back.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from rapport.core.access import access_for
from rapport.core.errors import Conflict, PossibleDuplicate, StaleVersion
from rapport.core.models import Action, User, Visibility
from rapport.imports import fields as f
from rapport.imports.readers import Row

BATCH = 1000
PREVIEW_ROWS = 20


@dataclass
class Problem:
    row: int
    column: str
    message: str
    cells: list[Any]


@dataclass
class Parsed:
    """A row on its way in: its converted values by target key, its problems, and what becomes of it."""

    row: Row
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    action: str = ""  # create, update, unchanged, skip, reject
    note: str = ""
    record: Any = None  # the existing record it matches (update), or the record it made
    changes: dict[str, Any] = field(default_factory=dict)
    # What the handler derived from the values for its service (an activity's schedule, say).
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def bad(self) -> bool:
        return bool(self.errors)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    accounts_created: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    plans: list[Parsed] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.rejected > 0


@dataclass
class Options:
    duplicates: str = "skip"
    skip_bad_rows: bool = False
    visibility: str = Visibility.EVERYONE


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class Importer:
    """One run of rows into one record type, for one user, with one mapping and set of options."""

    def __init__(self, *, actor: User, spec: f.Spec, headers: Sequence[str], mapping: Sequence[str],
                 options: Options) -> None:
        from rapport.imports.handlers import handler_for

        self.actor = actor
        self.spec = spec
        self.headers = list(headers)
        self.mapping = list(mapping)
        self.options = options
        self.access = access_for(actor)
        self.zone = _zone(getattr(actor, "time_zone", "UTC"))
        targets = [(index, spec.target(key)) for index, key in enumerate(mapping) if key]
        self.columns: list[tuple[int, f.Target]] = [(index, t) for index, t in targets if t is not None]
        self.column_of: dict[str, int] = {target.key: index for index, target in self.columns}
        self.date_orders: dict[int, str | None] = {}
        self._users: dict[str, User] | None = None
        self.handler = handler_for(self)
        self.outcome = Outcome()

    # --- Labels ------------------------------------------------------------------------------------------

    def column_label(self, key: str) -> str:
        """The header of the column mapped to a target (or to the model field a service named)."""
        index = self.column_of.get(key)
        if index is None:  # "addresses.0.city" names the city
            index = self.column_of.get(key.split(".")[-1])
        return self.headers[index] if index is not None else ""

    # --- Values ------------------------------------------------------------------------------------------

    def scan_dates(self, rows: Iterable[Row]) -> None:
        """Decide, per date column, whether 03/04/2026 is day first or month first from the column's other
        cells (13/04/2026 says day first); a column that says neither, or both, leaves such dates refused."""
        date_columns = [index for index, target in self.columns if target.kind in ("date", "datetime")]
        if not date_columns:
            return
        hints: dict[int, set[str]] = {index: set() for index in date_columns}
        for row in rows:
            for index in date_columns:
                if index < len(row.cells):
                    hint = f.date_order_hint(row.cells[index])
                    if hint:
                        hints[index].add(hint)
        self.date_orders = {index: next(iter(found)) if len(found) == 1 else None for index, found in hints.items()}

    def users(self) -> dict[str, User]:
        """Active users by lower-case user name and email, for the owner column (one query, once)."""
        if self._users is None:
            found: dict[str, User] = {}
            for user in User.objects.filter(is_active=True).only("id", "username", "email", "first_name",
                                                                 "last_name", "is_active", "public_id"):
                found.setdefault(user.username.lower(), user)
                if user.email:
                    found.setdefault(user.email.lower(), user)
            self._users = found
        return self._users

    def convert(self, target: f.Target, raw: Any, index: int) -> Any:
        kind = target.kind
        if kind in ("text", "name"):
            return f.text_value(raw, target)
        if kind == "email":
            return f.email_value(raw)
        if kind == "url":
            return f.url_value(raw)
        if kind == "date":
            return f.date_value(raw, self.date_orders.get(index))
        if kind == "datetime":
            return f.datetime_value(raw, self.date_orders.get(index), self.zone)
        if kind == "decimal":
            return f.decimal_value(raw)
        if kind == "integer":
            return f.integer_value(raw)
        if kind == "bool":
            return f.bool_value(raw)
        if kind == "user":
            user = self.users().get(str(raw).strip().lower())
            if user is None:
                raise f.CellError(_("No active user has the user name or email %(value)s.") % {"value": str(raw)[:80]})
            if not self.access.covers_owner(self.spec.record_type, Action.CREATE, user.pk):
                raise f.CellError(_("You may not give records to %(name)s.") % {"name": user.display_name})
            return user
        if kind == "choice":
            if target.key == "visibility":
                return f.choice_value(raw, Visibility.choices)
            return self.handler.choice(target, raw)
        raise AssertionError(kind)  # pragma: no cover

    def parse(self, row: Row) -> Parsed:
        parsed = Parsed(row=row)
        if row.problem is not None:
            parsed.errors.append(row.problem)
            return parsed
        cells = row.cells
        for index, target in self.columns:
            raw = cells[index] if index < len(cells) else ""
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                parsed.values[target.key] = self.convert(target, raw, index)
            except f.CellError as exc:
                parsed.errors.append((self.headers[index], str(exc)))
        if not parsed.errors:
            self.handler.prepare(parsed)
        return parsed

    # --- The run -----------------------------------------------------------------------------------------

    def run(self, rows: Callable[[], Iterator[Row]], *, limit: int | None = None,
            progress: Callable[[int], None] | None = None, keep_plans: bool = False) -> Outcome:
        """Import the rows (the first `limit` only, for a preview) inside the caller's transaction."""
        self.scan_dates(rows())
        batch: list[Row] = []
        done = 0
        for row in rows():
            if limit is not None and done >= limit:
                break
            batch.append(row)
            done += 1
            if len(batch) >= BATCH:
                self._run_batch(batch, keep_plans)
                batch = []
                if progress is not None:
                    progress(done)
        if batch:
            self._run_batch(batch, keep_plans)
        if progress is not None:
            progress(done)
        self.outcome.rows = done
        return self.outcome

    def _run_batch(self, batch: list[Row], keep_plans: bool) -> None:
        parsed = [self.parse(row) for row in batch]
        good = [p for p in parsed if not p.bad]
        if good:
            try:
                with transaction.atomic():
                    self.handler.run_batch(good)
            except DatabaseError:
                # A constraint the checks did not foresee (someone else wrote the same order number meanwhile):
                # the batch again, a row at a time, so that the row it was is the one reported.
                self.handler.forget()
                for item in good:
                    item.action, item.note, item.record, item.changes, item.errors = "", "", None, {}, []
                    try:
                        with transaction.atomic():
                            self.handler.run_batch([item])
                    except DatabaseError as exc:
                        self.handler.forget()
                        item.errors.append(("", _("The row could not be stored: %(error)s") % {
                            "error": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}))
        for item in parsed:
            self._count(item)
            if keep_plans:
                self.outcome.plans.append(item)

    def _count(self, item: Parsed) -> None:
        out = self.outcome
        if item.bad:
            item.action = "reject"
            out.rejected += 1
            cells = [cell_text(cell) for cell in item.row.cells]
            for number, (column, message) in enumerate(item.errors):
                out.problems.append(Problem(item.row.number, column, message, cells if number == 0 else []))
            return
        if item.action == "create":
            out.created += 1
        elif item.action == "update":
            out.updated += 1
        elif item.action == "unchanged":
            out.unchanged += 1
        elif item.action == "skip":
            out.skipped += 1

    # --- Writing one row through a service ------------------------------------------------------------------

    def guarded(self, item: Parsed, write: Callable[[], Any]) -> Any:
        """Run one row's service call in a savepoint: a refusal becomes the row's problem, naming the column."""
        try:
            with transaction.atomic():
                return write()
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    item.errors.append((self.column_label(name), " ".join(str(m) for m in messages)))
            else:
                item.errors.append(("", " ".join(str(m) for m in exc.messages)))
        except (PermissionDenied, StaleVersion, PossibleDuplicate, Conflict) as exc:
            item.errors.append(("", str(exc) or _("Permission denied.")))
        return None


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
