"""The Django admin for campaigns: administrators keep the suppression list (an address can be added by
hand, or taken off when its owner asks to get campaigns again). Lists and campaigns are changed in the
app, where their history is kept."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from rapport.campaigns.models import Suppression, SuppressionReason


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email_key", "reason", "campaign", "created_at")
    list_filter = ("reason",)
    search_fields = ("email_key",)
    ordering = ("-created_at", "-id")
    readonly_fields = ("campaign", "created_at")
    show_full_result_count = False

    def get_changeform_initial_data(self, request: Any) -> dict[str, Any]:
        return {"reason": SuppressionReason.MANUAL}

    def save_model(self, request: Any, obj: Suppression, form: Any, change: bool) -> None:
        obj.email_key = obj.email_key.strip().lower()  # as campaigns compare addresses
        super().save_model(request, obj, form, change)
