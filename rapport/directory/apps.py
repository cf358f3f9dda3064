from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "rapport.directory"
    label = "directory"
    verbose_name = _("Accounts and contacts")

    def ready(self) -> None:
        from rapport.core.registry import register_linkable, register_nav_item, register_record_type

        register_record_type("account", _("Accounts"))
        register_record_type("contact", _("Contacts"))
        register_nav_item("account_list", _("Accounts"), record_type="account", order=20)
        register_nav_item("contact_list", _("Contacts"), record_type="contact", order=30)
        register_linkable("account", "directory.Account", "account_detail", _("Account"))
        register_linkable("contact", "directory.Contact", "contact_detail", _("Contact"))
