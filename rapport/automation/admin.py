"""The Django admin of automation, read-only: for looking things up. Changes go through the pages and the
services, which check what the admin would not (versions, triggers, follow-ups a rule made)."""

from typing import Any

from django.contrib import admin

from rapport.automation.models import FollowUp, Override, Rule, TaskDefinition


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(TaskDefinition)
class TaskDefinitionAdmin(ReadOnly):
    list_display = ("name", "is_active", "updated_at")
    search_fields = ("name",)


@admin.register(Rule)
class RuleAdmin(ReadOnly):
    list_display = ("name", "trigger", "record_type", "definition", "is_active")
    list_filter = ("is_active", "trigger", "record_type")
    search_fields = ("name",)


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnly):
    list_display = ("rule", "record_type", "record_id", "period", "assignee", "created_at")
    list_filter = ("rule", "record_type")


@admin.register(Override)
class OverrideAdmin(ReadOnly):
    list_display = ("absent", "starts_on", "ends_on", "to_user", "to_team", "reverted_at")
