"""The Django admin for templates: read-only. Templates are changed in Rapport's own pages and API,
where rights, versions, history and the merge-field check apply."""

from django.contrib import admin

from rapport.core.admin import ReadOnlyAdminMixin
from rapport.templating.models import Template


@admin.register(Template)
class TemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "owner", "visibility", "updated_at", "deleted_at")
    list_filter = ("kind", "visibility")
    search_fields = ("name",)
    raw_id_fields = ("owner", "created_by")
    readonly_fields = ("public_id", "version")
    show_full_result_count = False
