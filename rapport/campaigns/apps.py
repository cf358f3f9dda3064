from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "rapport.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from rapport.campaigns.tasks import dispatch_campaigns
        from rapport.core.registry import register_nav_item, register_record_panel, register_record_type
        from rapport.core.scheduler import register_periodic

        register_record_type("distribution_list", _("Distribution lists"))
        register_record_type("campaign", _("Campaigns"))
        register_nav_item("campaign_list", _("Campaigns"), record_type="campaign", order=70)
        register_record_panel("account", "record_distribution_lists", _("Distribution lists"), order=60)
        register_record_panel("contact", "record_distribution_lists", _("Distribution lists"), order=60)
        # Each minute, each sending campaign hands its next messages (at most its rate) to the outbox.
        register_periodic("dispatch_campaigns", dispatch_campaigns, every_seconds=60)
