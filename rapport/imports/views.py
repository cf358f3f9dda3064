"""The import wizard: upload (with the list of past imports), mapping, preview, progress and report.

Thin: parse, call a service or selector, render. A job is its owner's and administrators' alone (404 for
anyone else, as for any record one may not see).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from itertools import islice
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.core.files import human_size
from rapport.core.pagination import keyset_page, parse_ordering
from rapport.exports.writers import csv_response
from rapport.imports import selectors, services
from rapport.imports.engine import Parsed, cell_text
from rapport.imports.fields import spec_for
from rapport.imports.forms import MappingForm, UploadForm
from rapport.imports.models import ImportJob, ImportStatus
from rapport.imports.readers import check_size, max_bytes

PAGE_SIZE = 20
SAMPLE_ROWS = 3


def _errors_text(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for messages in exc.message_dict.values() for m in messages]
    return [str(m) for m in exc.messages]


def _list_context(request: HttpRequest) -> dict[str, Any]:
    try:
        page = keyset_page(selectors.import_list(user=request.user),
                           ordering=parse_ordering("-created_at", {"created_at": "created_at"}, "-created_at"),
                           cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        page = keyset_page(selectors.import_list(user=request.user),
                           ordering=parse_ordering("-created_at", {"created_at": "created_at"}, "-created_at"),
                           cursor=None, limit=PAGE_SIZE)
    return {"page": page, "jobs": page.items, "max_size": human_size(max_bytes())}


@csrf_exempt
def import_list(request: HttpRequest) -> HttpResponse:
    """The upload form and the user's imports. A file over the limit is refused from its Content-Length,
    before its body is read (no write happens, so the CSRF check that reads the body is not needed for that)."""
    if request.method == "POST" and request.user.is_authenticated:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > max_bytes() + 1024 * 1024:
            types = services.import_types(user=request.user)
            form = UploadForm(types=types)
            form.errors["file"] = form.error_class([
                _("The file is %(size)s; imports take files of at most %(limit)s (RAPPORT_IMPORT_MAX_BYTES). Split it "
                  "into smaller files.") % {"size": human_size(length), "limit": human_size(max_bytes())}])
            return render(request, "imports/import_list.html",
                          {**_list_context(request), "form": form, "types": types}, status=400)
    return _import_list(request)


@login_required
@csrf_protect
@require_http_methods(["GET", "POST"])
def _import_list(request: HttpRequest) -> HttpResponse:
    types = services.import_types(user=request.user)
    status = 200
    form = UploadForm(request.POST or None, request.FILES or None, types=types,
                      initial={"record_type": request.GET.get("type", "contact")})
    if request.method == "POST":
        if not types:
            raise PermissionDenied(_("You may not create records, so you may not import them."))
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_size(upload.size or 0)
                job = services.import_upload(actor=request.user, file_name=upload.name, data=upload.read(),
                                             record_type=form.cleaned_data["record_type"])
                return redirect("import_detail", job.public_id)
            except ValidationError as exc:
                form.add_error("file" if "file" in getattr(exc, "error_dict", {}) else None, _errors_text(exc))
        status = 400
    return render(request, "imports/import_list.html", {**_list_context(request), "form": form, "types": types},
                  status=status)


def _samples(job: ImportJob) -> list[list[str]]:
    """A few values of each column, to recognise it by."""
    try:
        table = services._table(job)
        rows = [row.cells for row in islice(table.rows(), SAMPLE_ROWS)]
    except ValidationError:
        return [[] for _header in job.headers]
    return [[cell_text(cells[i]) for cells in rows if i < len(cells) and cell_text(cells[i]).strip()]
            for i in range(len(job.headers))]


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step 2 (the mapping) while the job waits for it; then its progress, then its report."""
    job = selectors.import_get(user=request.user, public_id=public_id)
    if job.status != ImportStatus.UPLOADED:
        if request.method == "POST":
            return HttpResponse(status=405)
        return _report(request, job)
    spec = spec_for(job.record_type)
    initial = {f"column_{i}": key for i, key in enumerate(job.mapping)}
    initial.update(duplicates=job.duplicates, skip_bad_rows=job.skip_bad_rows, visibility=job.visibility)
    form = MappingForm(request.POST or None, spec=spec, headers=job.headers, initial=initial)
    status = 200
    if request.method == "POST":
        if job.owner_id != request.user.pk:
            raise PermissionDenied(_("Only the person who uploaded the file maps it."))
        if form.is_valid():
            try:
                services.import_configure(actor=request.user, job=job, mapping=form.mapping(),
                                          duplicates=form.cleaned_data["duplicates"],
                                          skip_bad_rows=form.cleaned_data["skip_bad_rows"],
                                          visibility=form.cleaned_data["visibility"])
                return redirect("import_preview", job.public_id)
            except ValidationError as exc:
                form.add_error(None, _errors_text(exc))
        status = 400
    columns = list(zip(form.column_fields(), _samples(job), strict=False))
    return render(request, "imports/import_mapping.html",
                  {"job": job, "form": form, "columns": columns, "spec": spec, "step": 2}, status=status)


def _report(request: HttpRequest, job: ImportJob) -> HttpResponse:
    done, total = services.import_progress(job)
    problems = list(selectors.import_problems(job=job)[:200]) if job.is_finished else []
    return render(request, "imports/import_report.html", {
        "job": job, "done": done, "total": total, "percent": int(100 * done / total) if total else 0,
        "problems": problems, "more_problems": len(problems) == 200, "step": 4})


@login_required
@require_GET
def import_progress(request: HttpRequest, public_id: str) -> HttpResponse:
    """The progress bar, polled by the report page while the job runs; a finished job reloads the page."""
    job = selectors.import_get(user=request.user, public_id=public_id)
    done, total = services.import_progress(job)
    response = render(request, "imports/_progress.html",
                      {"job": job, "done": done, "total": total, "percent": int(100 * done / total) if total else 0})
    if job.is_finished and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def import_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step 3: the first rows as they will be stored, with each row's problems and what becomes of it."""
    job = selectors.import_get(user=request.user, public_id=public_id)
    if job.status != ImportStatus.UPLOADED:
        return redirect("import_detail", job.public_id)
    spec = spec_for(job.record_type)
    error = None
    plans: list[Parsed] = []
    outcome = None
    try:
        # As its owner's import will run (an administrator looking at it sees what it would do for them).
        outcome = services.import_preview(actor=job.owner, job=job)
        plans = outcome.plans
    except ValidationError as exc:
        error = " ".join(_errors_text(exc))
    keys = [t.key for t in spec.targets if any(t.key in p.values for p in plans)]
    targets = [t for t in spec.targets if t.key in keys]
    source = {job.headers[i]: key for i, key in enumerate(job.mapping) if key and i < len(job.headers)}
    rows = []
    for plan in plans:
        bad_keys = {source.get(column) for column, _message in plan.errors}
        rows.append({"plan": plan, "cells": [(target.label, _shown(plan.values.get(target.key)), target.key in bad_keys)
                                             for target in targets]})
    return render(request, "imports/import_preview.html", {
        "job": job, "spec": spec, "targets": targets, "rows": rows, "error": error, "outcome": outcome,
        "step": 3, "can_start": job.owner_id == request.user.pk})


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):  # a moment and whether it had a time
        value = value[0]
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "get_full_name"):
        return value.display_name
    return str(value)


@login_required
@require_POST
def import_start(request: HttpRequest, public_id: str) -> HttpResponse:
    job = selectors.import_get(user=request.user, public_id=public_id)
    if job.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the person who uploaded the file starts its import."))
    with contextlib.suppress(ValidationError):  # started already (a second click): the page shows how far it got
        services.import_start(actor=request.user, job=job)
    return redirect("import_detail", job.public_id)


@login_required
@require_GET
def import_errors_csv(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """The error report as a CSV file: row, column, problem."""
    job = selectors.import_get(user=request.user, public_id=public_id)
    rows = ((p.row, p.column, p.message)
            for p in selectors.import_problems(job=job).only("row", "column", "message").iterator())
    return csv_response(f"import-errors-{job.file_name.rsplit('.', 1)[0]}.csv",
                        [_("Row"), _("Column"), _("Problem")], rows)


@login_required
@require_GET
def import_rejects_csv(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """The rows that were not imported, in the file's own columns plus one saying why: fix and import again."""
    job = selectors.import_get(user=request.user, public_id=public_id)

    def rows() -> Any:
        current: int | None = None
        cells: list[Any] = []
        reasons: list[str] = []
        for problem in selectors.import_problems(job=job).iterator():
            if problem.row != current:
                if current is not None:
                    yield _reject_row(cells, reasons, len(job.headers))
                current, cells, reasons = problem.row, problem.cells, []
            reasons.append(f"{problem.column}: {problem.message}" if problem.column else problem.message)
        if current is not None:
            yield _reject_row(cells, reasons, len(job.headers))

    return csv_response(f"import-rejects-{job.file_name.rsplit('.', 1)[0]}.csv",
                        [*job.headers, _("Import error")], rows())


def _reject_row(cells: list[Any], reasons: list[str], width: int) -> list[Any]:
    cells = list(cells or [])
    cells = cells + [""] * (width - len(cells)) if len(cells) < width else cells
    return [*cells, " | ".join(reasons)]
