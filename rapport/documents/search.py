"""Documents in global search: found by title, file name, description and the text of their file."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def register() -> None:
    from rapport.documents.models import Document
    from rapport.search.registry import SearchDocument, register_searchable

    def on_visible_records(documents: list[Any], user: Any) -> list[Any]:
        from rapport.activities.selectors import records_linked

        about = {(r.record_type, r.pk): r for r in records_linked(
            user=user, links=[(d.about_type, d.about_id) for d in documents])}
        kept = []
        for document in documents:
            record = about.get((document.about_type, document.about_id))
            if record is not None:  # a document is seen only with the record it is about
                document.search_about = record
                kept.append(document)
        return kept

    def subtitle(document: Any, user: Any) -> str:
        about = getattr(document, "search_about", "")
        parts = [document.file_name or document.link_url, _("on %(record)s") % {"record": about} if about else "",
                 document.folder.label if document.folder_id else ""]
        return " · ".join(str(part) for part in parts if part)

    register_searchable(
        Document,
        lambda d: SearchDocument(title=d.title, text="\n".join([d.file_name, d.description, d.search_text])),
        label=gettext_lazy("Files"), order=90, api_path="/api/v1/documents/{id}", related=("folder",),
        subtitle=subtitle, prepare=on_visible_records,
    )
