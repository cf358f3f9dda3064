from django.contrib import admin

from rapport.activities.models import Activity, ActivityKind, Note
from rapport.core.admin import ReadOnlyAdminMixin

# Administrators add kinds of activity here (a site visit, a demo); activities and notes themselves
# are changed in Rapport's pages and API, where rights, versions and history apply.


@admin.register(ActivityKind)
class ActivityKindAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "is_active", "position")
    list_editable = ("is_active", "position")
    ordering = ("position", "label")

    def has_delete_permission(self, request, obj=None):  # activities keep their kind: retire it instead
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "activity_type", "kind", "status", "starts_at", "owner", "deleted_at")
    list_filter = ("activity_type", "status")
    search_fields = ("subject",)
    raw_id_fields = ("owner", "created_by")
    show_full_result_count = False


@admin.register(Note)
class NoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "about_type", "owner", "created_at", "deleted_at")
    raw_id_fields = ("owner", "created_by")
    show_full_result_count = False
