"""Projects in global search: found by name and description; members and the manager find theirs too."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy

from rapport.core.access import access_for, record_visible
from rapport.core.models import Action, Scope


def _members_and_manager(user: Any) -> Q | None:
    """The search index's pre-filter widened by the projects' own rule: their manager and members see them."""
    from rapport.projects.models import Project, ProjectMember

    access = access_for(user)
    if access.user_id is None or access.scope(Project.record_type, Action.READ) == Scope.NONE:
        return None
    return Q(Exists(Project.objects.filter(pk=OuterRef("record_id"), manager_id=access.user_id))) | Q(
        Exists(ProjectMember.objects.filter(project_id=OuterRef("record_id"), user_id=access.user_id)))


def _subtitle(project: Any, user: Any) -> str:
    parts = [project.get_status_display(),
             project.account.name if record_visible(user, project.account) else "",
             f"{project.starts_on:%Y-%m-%d} – {project.due_on:%Y-%m-%d}"]
    return " · ".join(part for part in parts if part)


def register_search() -> None:
    from rapport.projects.models import Project
    from rapport.search.registry import SearchDocument, register_searchable

    register_searchable(
        Project, lambda p: SearchDocument(title=p.name, text=p.description),
        label=gettext_lazy("Projects"), order=55, api_path="/api/v1/projects/{id}", related=("account",),
        subtitle=_subtitle, shared=_members_and_manager,
    )
