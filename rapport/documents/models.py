"""Documents and files on any record: versions, folders, links, safe storage and serving.

A Document is about one record (an account, a contact, a deal, a support item, a project, an
expense), as a note is: `about_type` (the record type key) and `about_id` (its pk). It is either a
file, kept as a list of DocumentVersions (a new upload adds one; older ones stay downloadable), or a
link to a document kept elsewhere. Files are stored under generated names in Django's default
storage (local disk or S3, docs/configuration.md); the name the user gave is kept, cleaned, apart.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.models import BusinessRecord

# The folders every install starts with (key, label); administrators add more in the admin.
DEFAULT_FOLDERS = [
    ("publications", "Publications"),
    ("templates", "Templates"),
    ("logos", "Logos"),
    ("receipts", "Receipts"),
    ("contracts", "Contracts"),
]


class DocumentFolder(models.Model):
    """A shelf documents are put on (publications, templates, logos…); administrators add their own."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=80)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("document folder")

    def __str__(self) -> str:
        return self.label


def stored_name(instance: DocumentVersion, filename: str) -> str:
    """Where a version's bytes go: a random name, never the user's (which could climb folders, collide,
    or reveal what it is to whoever lists the bucket)."""
    now = timezone.now()
    return f"documents/{now:%Y/%m}/{secrets.token_hex(16)}"


class Document(BusinessRecord):
    """A file (with its versions) or a link, about one record."""

    record_type = "document"
    # The extracted text can be 100 kB: it is what search finds, not a change a reader follows.
    untracked_fields = frozenset({"search_text", "current_version"})

    about_type = models.CharField(max_length=30)
    about_id = models.BigIntegerField()
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    folder = models.ForeignKey(DocumentFolder, verbose_name=_("folder"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="documents")
    link_url = models.URLField(_("link"), max_length=1000, blank=True)
    current_version = models.ForeignKey("DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", editable=False)
    # Cached from the current version for lists and search: its cleaned name and its text (capped).
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    search_text = models.TextField(blank=True, editable=False)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        indexes = [models.Index(fields=["about_type", "about_id", "-created_at"], name="document_about_idx"),
                   models.Index(fields=["created_at", "id"], name="document_created_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_link(self) -> bool:
        return bool(self.link_url)


class DocumentVersion(models.Model):
    """One upload of a document's file. Numbered from 1; never changed once stored."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(upload_to=stored_name, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_unique")]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.number})"
