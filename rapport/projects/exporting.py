"""The project list's export (CSV, XLSX) through rapport.exports: key "projects", the list's Export menu,
/exports/projects/ and GET /api/v1/projects/export, with the list's filters and ordering."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.exports.resources import ID, RECORD_TAIL, ExportResource, choice, plain, related, user_name


def export_resources() -> list[ExportResource]:
    from rapport.projects.models import Project
    from rapport.projects.selectors import PROJECT_FILTERS, PROJECT_ORDERINGS, project_list

    return [ExportResource(
        key="projects", title=_("Projects"), record_type="project", list_url_name="project_list",
        selector=project_list, orderings=PROJECT_ORDERINGS, default_ordering="due_on",
        filters=frozenset(PROJECT_FILTERS),
        columns=(
            ID, plain(_("Name"), "name"), related(_("Account"), "account", "account"),
            related(_("Opportunity"), "opportunity", "opportunity"), choice(_("Status"), Project, "status"),
            user_name(_("Project manager"), "manager"), plain(_("Start"), "starts_on"), plain(_("Due"), "due_on"),
            plain(_("Budget"), "budget"), plain(_("Currency"), "currency"), plain(_("Description"), "description"),
            *RECORD_TAIL,
        ),
    )]
