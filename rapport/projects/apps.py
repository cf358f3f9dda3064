from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "rapport.projects"
    label = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        from rapport.core.registry import (
            register_linkable,
            register_nav_item,
            register_record_panel,
            register_record_type,
        )
        from rapport.projects.search import register_search

        register_record_type("project", _("Projects"))
        register_nav_item("project_list", _("Projects"), record_type="project", order=55)
        register_linkable("project", "projects.Project", "project_detail", _("Project"))
        register_record_panel("account", "record_projects", _("Projects"), order=25)
        register_record_panel("opportunity", "record_projects", _("Projects"), order=25)
        register_search()
