"""Background jobs of the sync app."""

from __future__ import annotations

from django_tasks import task

from rapport.sync import changes


@task()
def prune_tombstones_job() -> int:
    """Old tombstones of synced collections (the scheduler's daily job); returns how many went."""
    return changes.prune_tombstones()
