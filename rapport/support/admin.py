"""The Django admin for support: administrators keep the list of categories."""

from django.contrib import admin

from rapport.support.models import SupportCategory


@admin.register(SupportCategory)
class SupportCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("position", "name")
    actions = ("offer", "withdraw")

    @admin.action(description="Offer the chosen categories")
    def offer(self, request, queryset):  # type: ignore[no-untyped-def]
        queryset.update(is_active=True)

    @admin.action(description="Stop offering the chosen categories")
    def withdraw(self, request, queryset):  # type: ignore[no-untyped-def]
        queryset.update(is_active=False)
