from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TemplatingConfig(AppConfig):
    name = "rapport.templating"
    label = "templating"
    verbose_name = _("Templates")

    def ready(self) -> None:
        from rapport.core.registry import register_record_type

        register_record_type("template", _("Templates"))
        # No menu entry of its own: the Campaigns area shows Templates as one of its tabs
        # (templating/_marketing_tabs.html). Not linkable: activities and notes are not about templates.
