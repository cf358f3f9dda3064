from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from rapport.core.models import ApiToken, HistoryEntry, LoginFailure, Role, RolePermission, Team, User


class ReadOnlyAdminMixin:
    """For records whose writes must go through Rapport's services (rights, versions, history)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "team", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "team", "roles")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Rapport"), {"fields": ("team", "roles", "time_zone")}),
    )
    filter_horizontal = ("roles", "groups", "user_permissions")

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # As in Settings: an administrator role is what opens the admin.
        user = form.instance
        is_staff = user.is_superuser or user.roles.filter(is_admin=True).exists()
        if user.is_staff != is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=is_staff)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")
    search_fields = ("name",)


class RolePermissionInline(admin.TabularInline):
    model = RolePermission
    extra = 0


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_admin", "create_scope", "read_scope", "update_scope", "delete_scope")
    inlines = [RolePermissionInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "kind", "content_type", "object_id", "actor")
    list_filter = ("kind", "content_type")
    readonly_fields = ("content_type", "object_id", "kind", "actor", "at", "changes")


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins; delete a username's rows to lift its lock at once."""

    list_display = ("username", "ip_address", "at")
    search_fields = ("username",)
    readonly_fields = ("username", "ip_address", "at")

    def has_add_permission(self, request):
        return False
