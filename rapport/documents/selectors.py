"""Reads of documents, always through visible_to(user) and the visibility of the record each is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from rapport.activities.selectors import linked_model, record_ref, records_linked
from rapport.core.access import access_record, record_visible, require
from rapport.core.history import history_for
from rapport.core.models import Action
from rapport.core.registry import linkables
from rapport.documents.models import DEFAULT_FOLDERS, Document, DocumentFolder, DocumentVersion

PANEL_LIMIT = 100


def _with_lists(qs: QuerySet[Document]) -> QuerySet[Document]:
    return qs.select_related("owner", "created_by", "folder", "current_version__uploaded_by").annotate(
        version_count=Count("versions")).defer("search_text")


def _may_see(user: Any, record: Any) -> bool:
    """Whether the user may see a record (cheap when the caller loaded it through visible_to)."""
    return record_visible(user, record) or bool(records_linked(user=user, links=[(record.record_type, record.pk)]))


def documents_about(*, user: Any, record: Any) -> list[Document]:
    """The documents on a record that the user can see, newest first; none if they may not see the record."""
    if record is None or not _may_see(user, record):
        return []
    return list(_with_lists(Document.objects.visible_to(user))
                .filter(about_type=record.record_type, about_id=record.pk)
                .order_by("-created_at", "-id")[:PANEL_LIMIT])


@dataclass
class PanelDocument:
    document: Document
    # The person a document of an account's Files pane is about, when it is one of its contacts'.
    contact: Any = None


def documents_for_panel(*, user: Any, record: Any) -> list[PanelDocument]:
    """A record's Files pane: its documents; for an account also those of its contacts (each marked
    with the contact), newest first."""
    if record is None or not _may_see(user, record):
        return []
    condition = Q(about_type=record.record_type, about_id=record.pk)
    contacts: dict[int, Any] = {}
    if record.record_type == "account" and "contact" in linkables():
        contacts = {contact.pk: contact for contact in
                    linked_model("contact").objects.visible_to(user).filter(account_id=record.pk)
                    .only("pk", "public_id", "first_name", "last_name", "owner_id", "visibility")}
        if contacts:
            condition |= Q(about_type="contact", about_id__in=list(contacts))
    found = _with_lists(Document.objects.visible_to(user)).filter(condition).order_by("-created_at", "-id")
    return [PanelDocument(document=document,
                          contact=contacts.get(document.about_id) if document.about_type == "contact" else None)
            for document in found[:PANEL_LIMIT]]


def document_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Document:
    """One document: 404 unless the user may see it and the record it is about, 403 if they may not do
    `action` to it."""
    qs = Document.objects.select_related("owner", "created_by", "folder", "current_version__uploaded_by")
    document = access_record(user, Document, public_id, Action.READ, queryset=qs, deleted=deleted)
    about = records_linked(user=user, links=[(document.about_type, document.about_id)])
    if not about:
        raise Http404
    document.about = about[0]  # type: ignore[attr-defined]
    if action != Action.READ:
        require(user, Document.record_type, action, owner_id=document.owner_id)
    return document


def document_versions(*, document: Document) -> list[DocumentVersion]:
    return list(document.versions.select_related("uploaded_by").order_by("-number"))


def version_get(*, document: Document, number: int | None = None) -> DocumentVersion:
    """A version of a document the caller may see (its current one without a number): 404 if none."""
    if number is None:
        if document.current_version is None:
            raise Http404
        return document.current_version
    found = document.versions.filter(number=number).first()
    if found is None:
        raise Http404
    return found


def folders() -> list[DocumentFolder]:
    """The folders offered. With none at all (a database emptied since its migrations ran), the default ones,
    unsaved: choosing one makes it (services.folder_for)."""
    found = list(DocumentFolder.objects.filter(is_active=True))
    if found or DocumentFolder.objects.exists():
        return found
    return [DocumentFolder(key=key, label=label, position=index * 10)
            for index, (key, label) in enumerate(DEFAULT_FOLDERS, start=1)]


def document_list(*, user: Any, params: dict[str, Any]) -> QuerySet[Document]:
    """Documents for the API: about one record (`about=type:id`), in one folder (`folder=key`), or every
    document the user may see that is about a record they may see."""
    qs = _with_lists(Document.objects.visible_to(user))
    about = params.get("about")
    if about:
        record = record_ref(user=user, ref=about, field="about")
        qs = qs.filter(about_type=record.record_type, about_id=record.pk)
    else:
        seen = Q(pk__in=[])
        for record_type in linkables():
            seen |= Q(about_type=record_type,
                      about_id__in=linked_model(record_type).objects.visible_to(user).values("pk"))
        qs = qs.filter(seen)
    folder = params.get("folder")
    if folder:
        if not DocumentFolder.objects.filter(key=folder).exists():
            raise ValidationError({"folder": [_("No folder “%(key)s”.") % {"key": folder[:40]}]})
        qs = qs.filter(folder__key=folder)
    return qs


def abouts(*, user: Any, documents: list[Document]) -> dict[tuple[str, int], Any]:
    """The records a page of documents is about, one query per type, for naming them in the API."""
    found = records_linked(user=user, links=[(d.about_type, d.about_id) for d in documents])
    return {(record.record_type, record.pk): record for record in found}


def document_history(*, user: Any, document: Document) -> list[Any]:
    return history_for(document, user=user)


