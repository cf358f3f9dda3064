from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "rapport.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from rapport.core.registry import (
            register_linkable,
            register_nav_item,
            register_record_panel,
            register_record_type,
        )

        register_record_type("lead", _("Leads"))
        register_record_type("opportunity", _("Opportunities"))
        register_record_type("order", _("Orders"))
        register_nav_item("lead_list", _("Leads"), record_type="lead", order=40)
        register_nav_item("opportunity_board", _("Pipeline"), record_type="opportunity", order=45)
        register_nav_item("order_list", _("Orders"), record_type="order", order=50)
        register_linkable("lead", "sales.Lead", "lead_detail", _("Lead"))
        register_linkable("opportunity", "sales.Opportunity", "opportunity_detail", _("Opportunity"))
        register_linkable("order", "sales.Order", "order_detail", _("Order"))
        register_record_panel("account", "record_opportunities", _("Opportunities"), order=10)
        register_record_panel("account", "record_orders", _("Orders"), order=20)
        register_record_panel("account", "record_communications", _("Communications"), order=30)
        register_record_panel("contact", "record_opportunities", _("Opportunities"), order=10)
