from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "rapport.projects"
    label = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        pass
