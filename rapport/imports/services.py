"""Import jobs, step by step: upload, map, preview, start; and the run itself, in the worker.

import_upload      reads the file (refusing what is not a spreadsheet, see readers.py) and guesses the mapping
import_configure   the mapping and options the user chose
import_preview     the first rows as they would be stored, in a transaction that is rolled back
import_start       hands the job to the worker (on commit)
import_execute     the worker's part: all the rows in one transaction, committed only if every row went in
                   (or, with "skip bad rows", the good ones), rolled back for a dry run; the problems kept

Progress: the run is one transaction, so the job's row cannot show how far it got until the end (on SQLite
no other connection may write meanwhile). The worker writes its progress to a small file in the default
storage instead, which every web process reads (import_progress).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_for, require
from rapport.core.models import Action, User, Visibility
from rapport.imports import fields as f
from rapport.imports.engine import PREVIEW_ROWS, Importer, Options, Outcome
from rapport.imports.models import (
    DuplicateMode,
    FileFormat,
    ImportFile,
    ImportJob,
    ImportProblem,
    ImportStatus,
)
from rapport.imports.readers import Table, open_table

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 10_000
STALE_AFTER = dt.timedelta(hours=1)


def import_types(*, user: Any) -> list[tuple[str, str]]:
    """The record types the user may import: those they may create."""
    access = access_for(user)
    return [(key, str(spec.label)) for key, spec in f.SPECS.items() if access.can(key, Action.CREATE)]


def _require_import(actor: Any, record_type: str) -> f.Spec:
    spec = f.spec_for(record_type)
    require(actor, record_type, Action.CREATE)
    return spec


@transaction.atomic
def import_upload(*, actor: Any, file_name: str, data: bytes, record_type: str) -> ImportJob:
    """A new job for a file the user uploaded, its mapping guessed from its headers. Nothing else is stored
    for a file that cannot be read: the ValidationError says why."""
    spec = _require_import(actor, record_type)
    file_name = (file_name or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    table = open_table(data, file_name)
    if table.format == FileFormat.VCARD and record_type != "contact":
        raise ValidationError({"record_type": [_("A vCard file holds contacts: import it as contacts.")]})
    job = ImportJob.objects.create(
        owner=actor, record_type=record_type, file_name=file_name, file_format=table.format, file_size=len(data),
        file_notes=table.notes[:300], headers=table.headers, mapping=f.guess_mapping(spec, table.headers))
    ImportFile.objects.create(job=job, data=data)
    return job


def _check_waiting(job: ImportJob) -> None:
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError({"status": [_("This import has been started already; upload the file again to import "
                                            "it once more.")]})


@transaction.atomic
def import_configure(
    *, actor: Any, job: ImportJob, mapping: list[str], duplicates: str = DuplicateMode.SKIP,
    skip_bad_rows: bool = False, visibility: str = Visibility.EVERYONE, dry_run: bool = False,
) -> ImportJob:
    """Keep the mapping (a target key per column) and the options the user chose, checked."""
    spec = _require_import(actor, job.record_type)
    _check_waiting(job)
    job.mapping = f.check_mapping(spec, mapping, len(job.headers))
    if duplicates not in DuplicateMode.values:
        raise ValidationError({"duplicates": [_("Choose one of: %s.") % ", ".join(DuplicateMode.values)]})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": [_("Choose one of: %s.") % ", ".join(Visibility.values)]})
    job.duplicates, job.skip_bad_rows, job.visibility, job.dry_run = duplicates, skip_bad_rows, visibility, dry_run
    job.save(update_fields=["mapping", "duplicates", "skip_bad_rows", "visibility", "dry_run"])
    return job


def _table(job: ImportJob) -> Table:
    upload = ImportFile.objects.filter(job=job).first()
    if upload is None:
        raise ValidationError({"file": [_("The file of this import is no longer kept; upload it again.")]})
    return open_table(bytes(upload.data), job.file_name)


def _importer(actor: Any, job: ImportJob) -> Importer:
    return Importer(actor=actor, spec=f.spec_for(job.record_type), headers=job.headers, mapping=job.mapping,
                    options=Options(duplicates=job.duplicates, skip_bad_rows=job.skip_bad_rows,
                                    visibility=job.visibility))


def import_preview(*, actor: Any, job: ImportJob, limit: int = PREVIEW_ROWS) -> Outcome:
    """The first rows run as the import will run them (duplicates found, accounts linked or made, every rule
    of the services applied), in a transaction that is then rolled back: nothing is kept."""
    _require_import(actor, job.record_type)
    table = _table(job)
    importer = _importer(actor, job)
    with transaction.atomic():
        outcome = importer.run(table.rows, limit=limit, keep_plans=True)
        transaction.set_rollback(True)
    return outcome


@transaction.atomic
def import_start(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the import for the worker (once the job's row is committed)."""
    spec = _require_import(actor, job.record_type)
    _check_waiting(job)
    f.check_mapping(spec, job.mapping, len(job.headers))
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.QUEUED, queued_at=timezone.now())
    if not updated:
        raise ValidationError({"status": [_("This import has been started already.")]})
    job.refresh_from_db()
    job_id = job.pk

    def enqueue() -> None:
        from rapport.imports.tasks import run_import

        run_import.enqueue(job_id)

    transaction.on_commit(enqueue)
    return job


def import_submit(
    *, actor: Any, file_name: str, data: bytes, record_type: str, mapping: list[str] | dict[str, str] | None,
    duplicates: str = DuplicateMode.SKIP, skip_bad_rows: bool = False, visibility: str = Visibility.EVERYONE,
    dry_run: bool = False,
) -> ImportJob:
    """Upload, map and start in one step (the API): mapping None guesses it from the headers."""
    with transaction.atomic():
        job = import_upload(actor=actor, file_name=file_name, data=data, record_type=record_type)
        if mapping is None:
            columns = list(job.mapping)
        elif isinstance(mapping, dict):
            columns = f.mapping_from_names(f.spec_for(record_type), job.headers, mapping)
        else:
            columns = list(mapping)
        import_configure(actor=actor, job=job, mapping=columns, duplicates=duplicates, skip_bad_rows=skip_bad_rows,
                         visibility=visibility, dry_run=dry_run)
        return import_start(actor=actor, job=job)


# --- Progress ---------------------------------------------------------------------------------------------


def _progress_name(job: ImportJob) -> str:
    return f"imports/progress/{job.public_id}.json"


def _write_progress(job: ImportJob, done: int, total: int) -> None:
    name = _progress_name(job)
    try:
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(json.dumps({"done": done, "total": total}).encode()))
    except OSError:  # progress is a courtesy: a full disk must not stop the import
        logger.warning("Could not write the progress of import %s", job.public_id)


def _clear_progress(job: ImportJob) -> None:
    with contextlib.suppress(OSError):
        default_storage.delete(_progress_name(job))


def import_progress(job: ImportJob) -> tuple[int, int]:
    """(rows done, rows in all) as far as the worker got."""
    if job.is_finished:
        return job.processed_rows, job.total_rows
    if job.status != ImportStatus.RUNNING:
        return 0, job.total_rows
    try:
        with default_storage.open(_progress_name(job)) as handle:
            data = json.loads(handle.read() or b"{}")
        return int(data.get("done", 0)), int(data.get("total", job.total_rows))
    except (OSError, ValueError):
        return 0, job.total_rows


# --- The run (the worker) -------------------------------------------------------------------------------------


def _claim(job_id: int) -> bool:
    """Take the job for this run: queued, or left running by a worker that died an hour ago or more (its
    transaction was rolled back with it). Only one run gets it."""
    now = timezone.now()
    stale = Q(status=ImportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    return bool(ImportJob.objects.filter(Q(status=ImportStatus.QUEUED) | stale, pk=job_id).update(
        status=ImportStatus.RUNNING, started_at=now, processed_rows=0))


def import_execute(job_id: int) -> ImportJob | None:
    """Run a queued import. Idempotent: a job already run, or running, is left alone (None)."""
    if not _claim(job_id):
        return None
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    actor = User.objects.get(pk=job.owner_id)
    outcome: Outcome | None = None
    message = ""
    try:
        if not actor.is_active:
            raise PermissionDenied(_("%(name)s can no longer sign in.") % {"name": actor.display_name})
        _require_import(actor, job.record_type)
        table = _table(job)
        total = table.count()
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
        job.total_rows = total
        importer = _importer(actor, job)
        _write_progress(job, 0, total)
        with transaction.atomic():
            outcome = importer.run(table.rows, progress=lambda done: _write_progress(job, done, total))
            if job.dry_run or (outcome.failed and not job.skip_bad_rows):
                transaction.set_rollback(True)
    except (ValidationError, PermissionDenied) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    except Exception:
        logger.exception("Import %s failed", job.public_id)
        message = _("The import stopped on an unexpected error; nothing was imported. The administrator can find "
                    "the details in the worker's log.")
    _finish(job, outcome, message)
    return ImportJob.objects.get(pk=job.pk)


@transaction.atomic
def _finish(job: ImportJob, outcome: Outcome | None, message: str) -> None:
    now = timezone.now()
    if outcome is None:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message=message, finished_at=now)
    else:
        if job.dry_run:
            status = ImportStatus.CHECKED
        elif outcome.failed and not job.skip_bad_rows:
            status = ImportStatus.REFUSED
        else:
            status = ImportStatus.DONE
        kept = status != ImportStatus.REFUSED
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, message=message, finished_at=now, processed_rows=outcome.rows,
            total_rows=outcome.rows,
            created_count=outcome.created if kept else 0, updated_count=outcome.updated if kept else 0,
            unchanged_count=outcome.unchanged if kept else 0, skipped_count=outcome.skipped if kept else 0,
            rejected_count=outcome.rejected, accounts_created=outcome.accounts_created if kept else 0)
        ImportProblem.objects.bulk_create([
            ImportProblem(job=job, row=p.row, column=p.column[:255], message=p.message[:500], cells=p.cells)
            for p in outcome.problems[:MAX_PROBLEMS]
        ], batch_size=1000)
    ImportFile.objects.filter(job=job).delete()
    transaction.on_commit(lambda: _clear_progress(job))
