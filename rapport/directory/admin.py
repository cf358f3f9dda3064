from django.contrib import admin

from rapport.core.admin import ReadOnlyAdminMixin
from rapport.directory.models import Account, Address, Attribute, Contact

# Accounts and contacts are changed in Rapport's own pages and API, where rights, versions and
# history apply; the admin shows them read-only so that nothing bypasses those rules.


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class AddressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Address
    extra = 0


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "stage", "owner", "visibility", "updated_at", "deleted_at")
    list_filter = ("stage", "visibility")
    search_fields = ("name", "email")
    raw_id_fields = ("owner", "parent", "created_by")
    readonly_fields = ("public_id", "version", "stage_changed_on")
    inlines = [AddressInline]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("last_name", "first_name", "account", "email", "owner", "deleted_at")
    search_fields = ("last_name", "email")
    raw_id_fields = ("owner", "account", "created_by")
    readonly_fields = ("public_id", "uid", "version")
    inlines = [AddressInline]
    show_full_result_count = False


@admin.register(Attribute)
class AttributeAdmin(ReadOnlyAdmin):
    list_display = ("key", "value", "account", "contact")
    raw_id_fields = ("account", "contact")
