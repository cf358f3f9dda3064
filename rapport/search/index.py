"""Keeping the global search index current (owned by the search work; this is its agreed interface).

Saves through rapport.core.records reach the index by themselves (a record listener). A write that goes
around them (a bulk import, a merge, a set-based update) calls these in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


def index_records(model: type[models.Model], pks: Iterable[int]) -> None:
    """(Re)index these records of `model`, set-based: as they are now, or removed if gone or deleted."""


def unindex_records(model: type[models.Model], pks: Iterable[int]) -> None:
    """Remove these records of `model` from the index (after a hard delete or a merge)."""
