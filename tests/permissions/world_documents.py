"""Permission-matrix subjects and snapshot tables of the documents app (see world_emails.py for the form).

The document subject is a text file of `owner`'s, one per visibility, on an account of `owner`'s that
everyone sees (so the document's own visibility decides); the deleted one is what restoring acts on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas


def _document(personas: Personas, visibility: str, *, deleted: bool = False) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rapport.directory.services import account_create
    from rapport.documents import services
    from rapport.documents.models import Document

    owner = personas.owner
    account = account_create(actor=owner, data={"name": f"Customer of file {visibility}{' gone' if deleted else ''}",
                                                "visibility": "everyone"})
    document = services.document_add(actor=owner, about=account, title=f"Subject file {visibility}",
                                     upload=SimpleUploadedFile("subject.txt", b"Matrix subject file.\n"))
    Document.objects.filter(pk=document.pk).update(visibility=visibility)
    document = Document.objects.get(pk=document.pk)
    if deleted:
        services.document_delete(actor=owner, document=document)
    return Document.objects.get(pk=document.pk)


def _documents() -> Any:
    from rapport.documents.models import Document

    return Document.objects.order_by("pk").values()


def _versions() -> Any:
    from rapport.documents.models import DocumentVersion

    return DocumentVersion.objects.order_by("pk").values()


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "document": _document,
    "deleted document": lambda p, v: _document(p, v, deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {"documents": _documents, "document_versions": _versions}
