from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "rapport.sync"
    label = "sync"
    verbose_name = _("Calendar and contact sync")

    def ready(self) -> None:
        from rapport.core.scheduler import register_periodic
        from rapport.sync.tasks import prune_tombstones_job

        # Idempotent: a spare run finds nothing old enough.
        register_periodic("prune_sync_tombstones", prune_tombstones_job, every_seconds=24 * 60 * 60)
