"""Background jobs of the imports app."""

from __future__ import annotations

from django_tasks import task

from rapport.imports.services import import_execute


@task()
def run_import(job_id: int) -> str:
    """Run one queued import (idempotent: a job already run or running is left alone)."""
    job = import_execute(job_id)
    return job.status if job is not None else "not claimed"
