"""Reads of import jobs: a job is its owner's, and administrators', alone."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from rapport.core.access import access_for
from rapport.imports.models import ImportJob, ImportProblem

# The columns a list of jobs shows (not the headers and mapping of each file).
LIST_FIELDS = ("id", "public_id", "owner_id", "record_type", "file_name", "file_format", "status", "total_rows",
               "processed_rows", "created_count", "updated_count", "unchanged_count", "skipped_count",
               "rejected_count", "accounts_created", "created_at", "finished_at", "dry_run")


def import_jobs(*, user: Any) -> QuerySet[ImportJob]:
    """The jobs the user may see: their own; every job for an administrator."""
    access = access_for(user)
    if access.user_id is None:
        return ImportJob.objects.none()
    qs = ImportJob.objects.all()
    return qs if access.is_admin else qs.filter(owner_id=access.user_id)


def import_list(*, user: Any) -> QuerySet[ImportJob]:
    return import_jobs(user=user).select_related("owner").only(*LIST_FIELDS, "owner__username",
                                                               "owner__first_name", "owner__last_name")


def import_get(*, user: Any, public_id: str) -> ImportJob:
    """One job: 404 for anyone but its owner and administrators."""
    job = import_jobs(user=user).select_related("owner").filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job


def import_problems(*, job: ImportJob) -> QuerySet[ImportProblem]:
    return ImportProblem.objects.filter(job=job).order_by("row", "id")
