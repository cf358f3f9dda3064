"""The imports API (see docs/import.md): start an import, follow it, read its error report.

POST /api/v1/imports takes the file as multipart/form-data (a `file` part and the options as form fields:
record_type, mapping, duplicates, skip_bad_rows, visibility, dry_run) or, for small files, as JSON with the
file's bytes in base64 (`file_name`, `content_base64` and the same options). The import runs in the worker:
the answer is 202 with the job, which GET /api/v1/imports/{id} then follows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from rapport.core.apitools import (
    FORM_CONTENT,
    ListParams,
    UploadIn,
    UploadLimit,
    api_page,
    file_body,
    refuse_unknown_params,
    uploaded_file,
    utc_time,
)
from rapport.exports.writers import csv_response
from rapport.imports import selectors, services
from rapport.imports.models import ImportJob
from rapport.imports.readers import check_size, max_bytes, too_large

router = Router(tags=["imports"])

IMPORT_LIMIT = UploadLimit(max_bytes=max_bytes, too_large=too_large)
IMPORT_BODY = file_body(IMPORT_LIMIT)


class ImportIn(UploadIn):
    """The options of an import. With JSON, the file comes as file_name and content_base64."""

    record_type: str
    mapping: dict[str, str] | str | None = None
    duplicates: str = "skip"
    skip_bad_rows: bool = False
    visibility: str = "everyone"
    dry_run: bool = False


class ColumnOut(Schema):
    column: str
    field: str


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class CountsOut(Schema):
    created: int
    updated: int
    unchanged: int
    skipped: int
    rejected: int
    accounts_created: int


class ImportSummaryOut(Schema):
    id: str
    record_type: str
    file_name: str
    file_format: str
    status: str
    status_label: str
    dry_run: bool
    progress: ProgressOut
    counts: CountsOut
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ImportOut(ImportSummaryOut):
    file_notes: str
    message: str
    duplicates: str
    skip_bad_rows: bool
    visibility: str
    mapping: list[ColumnOut]
    started_at: dt.datetime | None


class ImportListOut(Schema):
    items: list[ImportSummaryOut]
    next: str | None


class ProblemOut(Schema):
    row: int
    column: str
    message: str


class ProblemListOut(Schema):
    items: list[ProblemOut]
    next: str | None


def _summary_out(job: ImportJob, progress: tuple[int, int] | None = None) -> dict[str, Any]:
    done, total = progress or (job.processed_rows, job.total_rows)
    return {
        "id": job.public_id, "record_type": job.record_type, "file_name": job.file_name,
        "file_format": job.file_format, "status": job.status, "status_label": str(job.get_status_display()),
        "dry_run": job.dry_run,
        "progress": {"done": done, "total": total, "percent": int(100 * done / total) if total else 0},
        "counts": {"created": job.created_count, "updated": job.updated_count, "unchanged": job.unchanged_count,
                   "skipped": job.skipped_count, "rejected": job.rejected_count,
                   "accounts_created": job.accounts_created},
        "created_at": utc_time(job.created_at), "finished_at": utc_time(job.finished_at),
    }


def _job_out(job: ImportJob) -> dict[str, Any]:
    return {
        **_summary_out(job, services.import_progress(job)),
        "file_notes": job.file_notes, "message": job.message, "duplicates": job.duplicates,
        "skip_bad_rows": job.skip_bad_rows, "visibility": job.visibility,
        "mapping": [{"column": header, "field": field} for header, field in zip(job.headers, job.mapping,
                                                                                strict=False)],
        "started_at": utc_time(job.started_at),
    }


def _file(request: HttpRequest, payload: ImportIn) -> tuple[str, bytes]:
    upload = uploaded_file(request, payload, IMPORT_LIMIT, default_name="upload.csv")
    if upload is None:
        raise ValidationError({"file": [_("Send the file: as the `file` part of a multipart/form-data request, or as "
                                          "content_base64 (with file_name) in JSON.")]})
    check_size(upload.size or 0)
    return upload.name or "upload", upload.read()


def _mapping(value: dict[str, str] | str | None) -> dict[str, str] | None:
    if value is None or value == "guess":
        return None
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise ValidationError({"mapping": [_("Give \"guess\", or a JSON object of column name to field, such as "
                                             "{\"E-mail\": \"email\"}.")]})
    return parsed


@router.post("/imports", response={202: ImportOut}, summary="Start an import",
             openapi_extra={"requestBody": {"content": {FORM_CONTENT: {"schema": {
                 "type": "object", "required": ["file", "record_type"],
                 "properties": {
                     "file": {"type": "string", "format": "binary",
                              "description": "The CSV, XLSX or vCard file (at most RAPPORT_IMPORT_MAX_BYTES)."},
                     "record_type": {"type": "string", "enum": ["contact", "account", "opportunity", "order",
                                                                "activity"]},
                     "mapping": {"type": "string", "description": "\"guess\" (the default) or a JSON object "
                                                                  "{column name: field}"},
                     "duplicates": {"type": "string", "enum": ["skip", "update", "create"]},
                     "skip_bad_rows": {"type": "boolean"},
                     "visibility": {"type": "string", "enum": ["private", "team", "everyone"]},
                     "dry_run": {"type": "boolean"}}}}}}})
def import_create(request: HttpRequest, payload: ImportIn = IMPORT_BODY) -> Any:  # type: ignore[assignment]
    """Upload a file and start importing it in the worker. The file is checked at once (what it is, its size,
    its encoding, its header, the mapping): a bad one answers 422 and nothing is kept. Bad rows come later,
    in the job's error report."""
    file_name, data = _file(request, payload)
    job = services.import_submit(actor=request.user, file_name=file_name, data=data,
                                 record_type=payload.record_type, mapping=_mapping(payload.mapping),
                                 duplicates=payload.duplicates, skip_bad_rows=payload.skip_bad_rows,
                                 visibility=payload.visibility, dry_run=payload.dry_run)
    return Status(202, _job_out(job))


@router.get("/imports", response=ImportListOut, summary="The imports you started")
def import_list(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """Newest first; an administrator sees everyone's."""
    refuse_unknown_params(request)
    page = api_page(selectors.import_list(user=request.user), params=params,
                    allowed_orderings={"created_at": "created_at"}, default_ordering="-created_at")
    page["items"] = [_summary_out(job) for job in page["items"]]
    return page


@router.get("/imports/{import_id}", response=ImportOut, summary="An import's status, progress and counts")
def import_detail(request: HttpRequest, import_id: str) -> dict[str, Any]:
    return _job_out(selectors.import_get(user=request.user, public_id=import_id))


@router.get("/imports/{import_id}/errors", response=ProblemListOut, summary="An import's error report")
def import_errors(request: HttpRequest, import_id: str, params: Query[ListParams],
                  format: str | None = None) -> Any:
    """Every bad row: its number as the user counts rows in the spreadsheet (the header is row 1; a vCard
    file's card number), the column and the reason. `format=csv` answers the same as a CSV file."""
    refuse_unknown_params(request, {"format"})
    job = selectors.import_get(user=request.user, public_id=import_id)
    problems = selectors.import_problems(job=job)
    if format == "csv":
        return _problems_csv(job, problems)
    if format not in (None, "", "json"):
        raise ValidationError({"format": [_("Use csv or json.")]})
    page = api_page(problems, params=params, allowed_orderings={"row": "row"}, default_ordering="row")
    page["items"] = [{"row": p.row, "column": p.column, "message": p.message} for p in page["items"]]
    return page


def _problems_csv(job: ImportJob, problems: Any) -> HttpResponseBase:
    rows = ((p.row, p.column, p.message) for p in problems.only("row", "column", "message").iterator())
    return csv_response(f"import-{job.public_id}-errors.csv", [_("Row"), _("Column"), _("Problem")], rows)

