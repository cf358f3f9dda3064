"""Background jobs of the documents app."""

from __future__ import annotations

from django_tasks import task

from rapport.documents import services


@task()
def remove_orphan_files_job() -> int:
    """Stored files no document version points to (an upload rolled back by its caller): the scheduler's job."""
    return services.orphan_files_remove()
