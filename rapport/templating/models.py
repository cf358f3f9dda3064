"""Email and letter templates with merge fields ({{ contact.first_name }}), for single messages,
campaigns and serial letters. The text is never compiled as a Django or Jinja template: merge.py
reads it with a small placeholder language over an allow-listed set of fields."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.models import BusinessRecord
from rapport.core.text import fold


class TemplateKind(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")


class Template(BusinessRecord):
    record_type = "template"

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=6, choices=TemplateKind.choices, default=TemplateKind.EMAIL)
    description = models.CharField(_("description"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True,
                               help_text=_("Email templates: the subject line, merge fields allowed."))
    body = models.TextField(_("text"), max_length=50000)
    name_key = models.CharField(max_length=150, editable=False, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["name_key", "id"], name="template_name_idx")]

    def __str__(self) -> str:
        return self.name

    def derive(self) -> list[str]:
        self.name_key = fold(self.name)[:150]
        return ["name_key"]
