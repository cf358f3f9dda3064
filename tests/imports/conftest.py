"""Shared set-up of the import tests: files kept in a temporary folder, and a short way to run an import."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.imports import services
from rapport.imports.models import ImportJob


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Progress files go to a temporary folder, not the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "files"


def run_import(user: Any, content: bytes | str, name: str = "people.csv", record_type: str = "contact",
               mapping: list[str] | None = None, **options: Any) -> ImportJob:
    """Upload, map (the guess unless given), start and run an import as the worker would; the job after it."""
    data = content.encode() if isinstance(content, str) else content
    job = services.import_upload(actor=user, file_name=name, data=data, record_type=record_type)
    services.import_configure(actor=user, job=job, mapping=mapping if mapping is not None else job.mapping,
                              **options)
    services.import_start(actor=user, job=job)
    services.import_execute(job.pk)
    return ImportJob.objects.get(pk=job.pk)
