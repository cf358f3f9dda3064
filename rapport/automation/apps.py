from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "rapport.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from rapport.automation.services import on_record_event
        from rapport.automation.tasks import sweep_rules_job
        from rapport.core.registry import register_nav_item, register_record_listener, register_record_type
        from rapport.core.scheduler import register_periodic

        # Roles grant the right to set up rules (update scope team or all) on this type.
        register_record_type("rule", _("Automation rules"))
        register_record_listener(on_record_event)
        # Everyone has follow-ups: the status page shows each user theirs (managers their team's).
        register_nav_item("follow_up_dashboard", _("Follow-ups"), record_type=None, order=60)
        # Sweeps are idempotent: running them often costs little and misses nothing.
        register_periodic("sweep_rules", sweep_rules_job, every_seconds=15 * 60)
