from django.contrib import admin

from rapport.core.admin import ReadOnlyAdminMixin
from rapport.documents.models import Document, DocumentFolder, DocumentVersion

# Administrators add, rename, reorder and retire folders here; documents themselves are changed in
# Rapport's pages and API, where rights, versions and history apply.


@admin.register(DocumentFolder)
class DocumentFolderAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "is_active", "position")
    list_editable = ("is_active", "position")
    ordering = ("position", "label")
    prepopulated_fields = {"key": ("label",)}

    def has_delete_permission(self, request, obj=None):  # documents keep their folder: retire it instead
        return False


class DocumentVersionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DocumentVersion
    fields = ("number", "original_name", "size", "content_type", "uploaded_by", "uploaded_at")
    extra = 0


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "about_type", "folder", "file_name", "owner", "created_at", "deleted_at")
    list_filter = ("folder", "about_type")
    search_fields = ("title", "file_name")
    raw_id_fields = ("owner", "created_by")
    exclude = ("search_text",)
    inlines = [DocumentVersionInline]
    show_full_result_count = False
