from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "rapport.directory"
    label = "directory"
    verbose_name = _("Accounts and contacts")

    def ready(self) -> None:
        from rapport.core.registry import register_record_type

        register_record_type("account", _("Accounts"))
        register_record_type("contact", _("Contacts"))
