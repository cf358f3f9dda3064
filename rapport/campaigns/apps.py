from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "rapport.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from rapport.core.registry import register_record_type

        register_record_type("distribution_list", _("Distribution lists"))
        register_record_type("campaign", _("Campaigns"))
