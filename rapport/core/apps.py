from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"
    verbose_name = "Rapport core"

    def ready(self) -> None:
        from rapport.core.scheduler import register_periodic
        from rapport.core.tasks import optimize_database

        register_periodic("optimize_database", optimize_database, every_seconds=6 * 3600)
