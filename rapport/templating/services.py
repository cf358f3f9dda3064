"""Writes of templates (each text checked by the merge language before it is stored), and serial
letters: one letter per recipient from a letter template, as a PDF or DOCX document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from rapport.core.access import record_visible
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.directory.models import Contact
from rapport.templating import documents
from rapport.templating.merge import (
    ADDRESS_KEY,
    CAMPAIGN_ONLY,
    FIELDS,
    main_address,
    merge_values,
    postal_lines,
    problems,
)
from rapport.templating.models import Template, TemplateKind
from rapport.templating.selectors import with_merge_data

LETTER_FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def allowed_fields(kind: str) -> frozenset[str]:
    """The merge fields a template of this kind may use: letters cannot carry an unsubscribe link."""
    names = frozenset(FIELDS)
    return names - CAMPAIGN_ONLY if kind == TemplateKind.LETTER else names


def _check_template(data: dict[str, Any], current: Template | None) -> None:
    """Every problem of the texts at once, each under its field and naming its line."""
    def value(name: str) -> Any:
        return data[name] if name in data else getattr(current, name, "")

    kind = value("kind") or TemplateKind.EMAIL
    allowed = allowed_fields(kind)
    errors: dict[str, list[str]] = {}
    every = current is None or "kind" in data
    for name in ("subject", "body"):
        if every or name in data:
            found = problems(value(name) or "", allowed=allowed)
            if found:
                errors[name] = found
    if kind == TemplateKind.EMAIL and not (value("subject") or "").strip() and (every or "subject" in data):
        errors.setdefault("subject", []).append(_("An email template needs a subject."))
    if current is not None and data.get("kind") not in (None, current.kind, TemplateKind.EMAIL) \
            and _campaign_names(current):
        errors.setdefault("kind", []).append(
            _("Campaigns send this template (%s): it stays an email template.") % ", ".join(_campaign_names(current)))
    if errors:
        raise ValidationError(errors)


def _campaign_names(template: Template, *, active_only: bool = False) -> list[str]:
    """The campaigns that use a template (active ones: drafts and those sending)."""
    from rapport.campaigns.models import Campaign, CampaignStatus

    qs = Campaign.objects.alive().filter(template=template)
    if active_only:
        qs = qs.filter(status__in=[CampaignStatus.DRAFT, CampaignStatus.SENDING])
    return list(qs.order_by("name_key").values_list("name", flat=True)[:5])


@transaction.atomic
def template_create(*, actor: Any, data: dict[str, Any]) -> Template:
    data = dict(data)
    _check_template(data, None)
    return record_create(Template, actor=actor, data=data)


@transaction.atomic
def template_update(*, actor: Any, template: Template, data: dict[str, Any], version: int | None) -> Template:
    data = dict(data)
    _check_template(data, template)
    return record_update(template, actor=actor, data=data, version=version)


@transaction.atomic
def template_delete(*, actor: Any, template: Template, version: int | None = None) -> Template:
    """Soft delete (it can be restored); refused while a draft or sending campaign uses the template."""
    if names := _campaign_names(template, active_only=True):
        raise ValidationError({"template": [
            _("Campaigns that are not finished use this template (%s); cancel them or choose another template "
              "first.") % ", ".join(names)]})
    return record_delete(template, actor=actor, version=version)


@transaction.atomic
def template_restore(*, actor: Any, template: Template) -> Template:
    return record_restore(template, actor=actor)


# --- Serial letters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterFile:
    filename: str
    content_type: str
    content: bytes
    count: int


def letter_address(*, user: Any, contact: Contact) -> list[str]:
    """Where a letter goes: the contact's main address, else their account's (if the user may see it)."""
    address = main_address(contact)
    if address is None and contact.account_id and record_visible(user, contact.account):
        address = main_address(contact.account)
    return postal_lines(address)


def letter_values(*, user: Any, contacts: Iterable[Contact]) -> list[dict[str, str]]:
    """The merge values of each recipient, with their postal address for the letter's head."""
    return [merge_values(contact=contact, user=user,
                         extra={ADDRESS_KEY: "\n".join(letter_address(user=user, contact=contact))})
            for contact in contacts]


def serial_letters(*, user: Any, template: Template, contacts: QuerySet[Contact], fmt: str) -> LetterFile:
    """One letter per contact (those the user may see, by name) from a letter template, as one document.

    Refused, naming the field: an email template, an unknown format, no recipients, more than
    documents.MAX_LETTERS of them, or a PDF on a server without a Unicode font.
    """
    if template.kind != TemplateKind.LETTER:
        raise ValidationError({"template": [_("Serial letters are made from letter templates; this is an email "
                                              "template.")]})
    if fmt not in LETTER_FORMATS:
        raise ValidationError({"format": [_("Choose pdf or docx.")]})
    contacts = contacts.filter(pk__in=Contact.objects.visible_to(user).values("pk"))
    # One row more than a document holds, to tell "too many" without counting the whole list.
    rows = list(with_merge_data(contacts).order_by("name_key", "id")[: documents.MAX_LETTERS + 1])
    if not rows:
        raise ValidationError({"contacts": [_("There is nobody to write to: choose contacts or a list with "
                                              "members.")]})
    if len(rows) > documents.MAX_LETTERS:
        raise ValidationError({"contacts": [_("One document holds at most %(max)s letters; choose a smaller list.")
                                            % {"max": documents.MAX_LETTERS}]})
    recipients = letter_values(user=user, contacts=rows)
    if fmt == "pdf":
        try:
            content = documents.letters_pdf(template, recipients)
        except documents.FontMissing as exc:
            raise ValidationError({"format": [str(exc)]}) from None
    else:
        content = documents.letters_docx(template, recipients)
    stem = slugify(template.name)[:60] or "letters"
    return LetterFile(filename=f"{stem}-letters.{fmt}", content_type=LETTER_FORMATS[fmt], content=content,
                      count=len(rows))
