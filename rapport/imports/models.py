"""Import jobs: an uploaded spreadsheet or vCard file, how its columns map to a record type, and what came of it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.models import PublicIdModel


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Awaiting mapping")
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    CHECKED = "checked", _("Checked (dry run)")
    REFUSED = "refused", _("Nothing imported: bad rows")
    FAILED = "failed", _("Failed")


FINISHED_STATUSES = (ImportStatus.DONE, ImportStatus.CHECKED, ImportStatus.REFUSED, ImportStatus.FAILED)


class DuplicateMode(models.TextChoices):
    SKIP = "skip", _("Skip the row (keep the existing record as it is)")
    UPDATE = "update", _("Update the existing record with the row's values")
    CREATE = "create", _("Create a new record anyway")


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    VCARD = "vcard", "vCard"


class ImportJob(PublicIdModel):
    """One import: who started it, the file's columns, the mapping and options chosen, progress and counts.

    Visible to its owner and to administrators only (selectors.import_jobs_visible_to). The file itself
    is kept in ImportFile until the import has run; the rows it refused are kept as ImportProblem rows.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(_("record type"), max_length=20)
    file_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=5, choices=FileFormat.choices)
    file_size = models.PositiveBigIntegerField(default=0)
    # What the reader found: encoding and delimiter (CSV), sheet (XLSX); shown to the user.
    file_notes = models.CharField(max_length=300, blank=True)
    headers = models.JSONField(default=list)
    # One target field key per column ("" = not imported), aligned with `headers`.
    mapping = models.JSONField(default=list)
    duplicates = models.CharField(_("duplicates"), max_length=6, choices=DuplicateMode.choices,
                                  default=DuplicateMode.SKIP)
    skip_bad_rows = models.BooleanField(_("skip bad rows"), default=False)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # The visibility of records the file does not give one for.
    visibility = models.CharField(_("visibility of new records"), max_length=8, default="everyone")
    status = models.CharField(_("status"), max_length=8, choices=ImportStatus.choices,
                              default=ImportStatus.UPLOADED)
    message = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    accounts_created = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "created_at", "id"], name="import_owner_created_idx"),
                   models.Index(fields=["created_at", "id"], name="import_created_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.record_type})"

    @property
    def record_type_label(self) -> str:
        from rapport.imports.fields import SPECS

        spec = SPECS.get(self.record_type)
        return str(spec.label) if spec is not None else self.record_type

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportFile(models.Model):
    """The uploaded bytes, apart from the job so that listing jobs never reads them; removed after the run."""

    job = models.OneToOneField(ImportJob, on_delete=models.CASCADE, related_name="upload", primary_key=True)
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"file of {self.job_id}"


class ImportProblem(models.Model):
    """A bad row (or cell) of an import: the row number as the user counts it (the header is row 1; in a
    vCard file, the card's number), the column, the reason, and the row's cells for the rejects file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    message = models.CharField(max_length=500)
    cells = models.JSONField(default=list)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row", "id"], name="import_problem_row_idx")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"
