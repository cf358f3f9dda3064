from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "rapport.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from rapport.core.registry import (
            register_linkable,
            register_nav_item,
            register_record_panel,
            register_record_type,
        )

        register_record_type("support_item", _("Support items"))
        from rapport.support.selectors import requests_awaiting

        register_nav_item("support_list", _("Support"), record_type="support_item", order=55,
                          badge=requests_awaiting, badge_label=_("awaiting your answer"))
        register_linkable("support_item", "support.SupportItem", "support_detail", _("Support item"))
        register_record_panel("account", "record_support_items", _("Support"), order=40)
        register_record_panel("contact", "record_support_items", _("Support"), order=40)
        register_record_panel("opportunity", "record_support_items", _("Support"), order=40)
