from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The record types whose pages carry a Files panel (each app's record type key).
FILES_PANEL_TYPES = ("account", "contact", "opportunity", "support_item", "project", "expense")


class DocumentsConfig(AppConfig):
    name = "rapport.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from rapport.core.registry import register_linkable, register_record_panel, register_record_type

        register_record_type("document", _("Documents"))
        register_linkable("document", "documents.Document", "document_detail", _("Document"))
        for record_type in FILES_PANEL_TYPES:
            register_record_panel(record_type, "record_documents", _("Files"), order=60)

        from rapport.documents import search

        search.register()

        from rapport.core.scheduler import register_periodic
        from rapport.documents.tasks import remove_orphan_files_job

        # Idempotent: a spare run only lists two folders.
        register_periodic("remove_orphan_files", remove_orphan_files_job, every_seconds=6 * 60 * 60)
