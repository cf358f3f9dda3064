from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "rapport.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from rapport.core.registry import register_nav_item, register_record_type

        register_record_type("report", _("Saved reports"))
        # Everyone may open reports: each counts only what its reader may see, and lists only the kinds
        # whose records their roles let them read.
        register_nav_item("report_index", _("Reports"), record_type=None, order=80)
