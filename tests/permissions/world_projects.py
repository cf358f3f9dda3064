"""Permission-matrix subjects and snapshot tables of the projects app (see world_emails.py for the form).

The project subject is a project of `owner`'s (its manager too, no other members), one per visibility, on an
account everyone sees, with two milestones and a task (assigned to the owner) in the first. The milestone
and task subjects are the first milestone and the task of such a project; their "deleted" forms belong to
a deleted project, which is what makes them gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.conftest import Personas


def _account(personas: Personas, label: str) -> Any:
    from rapport.directory import services as directory

    return directory.account_create(actor=personas.owner, confirm_duplicate=True,
                                    data={"name": f"Customer of project {label}", "visibility": "everyone"})


def _project(personas: Personas, visibility: str, *, deleted: bool = False, label: str = "") -> Any:
    from rapport.projects import services
    from rapport.projects.models import Project

    owner = personas.owner
    suffix = f"{visibility}{label}{' gone' if deleted else ''}"
    project = services.project_create(actor=owner, data={
        "name": f"Subject project {suffix}", "account": _account(personas, suffix),
        "starts_on": dt.date(2030, 3, 1), "due_on": dt.date(2030, 6, 30), "visibility": visibility})
    first = services.milestone_create(actor=owner, project=project, data={"name": "First"})
    services.milestone_create(actor=owner, project=project, data={"name": "Second"})
    services.task_add(actor=owner, project=project, subject=f"Subject task {suffix}", milestone=first)
    if deleted:
        services.project_delete(actor=owner, project=project)
    return Project.objects.get(pk=project.pk)


def _milestone(personas: Personas, visibility: str, *, deleted: bool = False) -> Any:
    return _project(personas, visibility, deleted=deleted, label=" (milestone)").milestones.order_by("position")[0]


def _task(personas: Personas, visibility: str, *, deleted: bool = False) -> Any:
    return _project(personas, visibility, deleted=deleted, label=" (task)").tasks.get().activity


def _rows(model_name: str) -> Callable[[], Any]:
    def rows() -> Any:
        from django.apps import apps

        return apps.get_model("projects", model_name).objects.order_by("pk").values()

    return rows


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "project": _project,
    "deleted project": lambda p, v: _project(p, v, deleted=True),
    "milestone": _milestone,
    "deleted milestone": lambda p, v: _milestone(p, v, deleted=True),
    "project task": _task,
    "deleted project task": lambda p, v: _task(p, v, deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {
    "project account": lambda p: _account(p, "for new projects"),
}
def list_rows(kind: str) -> list[tuple[str, str, Any, bool]]:
    """The project subjects' tasks, for the activity lists: the owner's, with their project's visibility."""
    if kind != "activity":
        return []
    from rapport.activities.models import Activity
    from rapport.projects.models import ProjectTask

    tasks = Activity.objects.filter(pk__in=ProjectTask.objects.values("activity_id")).order_by("pk")
    return [("owner", task.visibility, task, task.deleted_at is not None) for task in tasks]


SNAPSHOT: dict[str, Callable[[], Any]] = {
    "projects": _rows("Project"),
    "project_members": _rows("ProjectMember"),
    "milestones": _rows("Milestone"),
    "project_tasks": _rows("ProjectTask"),
}
