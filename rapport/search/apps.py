from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "rapport.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from rapport.core.records import register_lifecycle_listener
        from rapport.core.registry import register_record_listener
        from rapport.search.index import on_lifecycle_event, on_record_event
        from rapport.search.types import register_builtin_types

        register_builtin_types()
        register_record_listener(on_record_event)
        register_lifecycle_listener(on_lifecycle_event)
