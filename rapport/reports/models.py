"""Saved reports: a report kind with its filters under a name, private to its owner or shared with
their team or everyone. The report itself is computed for whoever opens it, over what that person
may see (rapport.reports.selectors), never stored."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.models import BusinessRecord, Visibility
from rapport.core.text import fold

NAME_MAX = 150


class SavedReport(BusinessRecord):
    """A report kind ("pipeline-by-stage") and its filters ({"from": "2026-01-01", "owner": "me"})."""

    record_type = "report"

    name = models.CharField(_("name"), max_length=NAME_MAX)
    kind = models.CharField(_("report"), max_length=40)
    # The filters as the report's address carries them: {name: text}. Checked by the kind when saved.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    name_key = models.CharField(max_length=NAME_MAX, editable=False, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="saved_report_name_idx"),
            models.Index(fields=["owner", "name_key", "id"], name="saved_report_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def derive(self) -> list[str]:
        self.name = (self.name or "").strip()
        self.name_key = fold(self.name)[:NAME_MAX]
        return ["name", "name_key"]


DEFAULT_VISIBILITY = Visibility.PRIVATE
