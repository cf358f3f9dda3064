"""The permission matrix entries of the projects app: pages and API. See routes.py for the form.

A project is a business record: read as any record of its owner's is (SEE_OWNERS_RECORD; its manager and
members see it too, which tests/projects/test_visibility.py covers: the subjects have none but the owner),
created by whoever may create records, changed, deleted and restored with the update and delete rights on
the owner's records. Its plan (milestones, tasks, moving a task) is changed by whoever may change the
project (CHANGE_OWNERS_RECORD, as the subject's manager is its owner). Completing a task follows the
activities app: its owner and assignees (here the project's owner) and whoever may change it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.permissions.routes import Call as PageCall
from tests.permissions.routes import Route, api, page, version_of
from tests.permissions.rules import CHANGE_OWNERS_RECORD, CREATE, EVERYONE, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

PROJECT = "project"
MILESTONE = "milestone"
TASK = "project task"


@dataclass(frozen=True)
class MilestoneRoute(Route):
    """An API route naming a project and one of its milestones: the subject milestone's project, and the
    milestone (or `value` in its place; a milestone named by `value` brings its own project)."""

    def url(self, world: World, *, value: str | None = None) -> str:
        from rapport.projects.models import Milestone

        milestone = world.subject(MILESTONE)
        if value is not None:
            milestone = Milestone.objects.select_related("project").filter(public_id=value).first() or \
                _Unknown(project=milestone.project, public_id=value)
        path = re.sub(r"\{project_id\}", milestone.project.public_id, self.path)
        return path.replace("{milestone_id}", milestone.public_id)


@dataclass
class _Unknown:
    project: Any
    public_id: str


def _account(world: World) -> str:
    return world.subject("project account").public_id


def _form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    data = {"name": "Renamed by the matrix" if record else "Matrix project", "account": _account(world),
            "opportunity": "", "status": "active", "starts_on": "2030-03-01", "due_on": "2030-06-30",
            "manager": record.manager.public_id if record else world.user(actor).public_id,
            "budget": "10.00", "currency": "EUR",
            "owner": record.owner.public_id if record else world.user(actor).public_id,
            "visibility": record.visibility if record else "everyone", "description": ""}
    if record is not None:
        data["account"] = record.account.public_id
        data["version"] = str(record.version)
    return data


def _edit(world: World, actor: str) -> dict[str, Any]:
    return _form(world, actor, world.subject(PROJECT))


def _api_create(world: World, actor: str) -> dict[str, Any]:
    return {"name": "Matrix project", "account": _account(world), "starts_on": "2030-03-01", "due_on": "2030-06-30"}


ROUTES: list[Route] = [
    # Pages
    page("project_list", PageCall("GET", table(EVERYONE, 200))),
    page("project_create", PageCall("GET", table(CREATE, 200)),
         PageCall("POST", table(CREATE, 302), writes=True, body=lambda w, a: _form(w, a))),
    page("record_projects", PageCall("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
    page("project_detail", PageCall("GET", table(SEE_OWNERS_RECORD, 200)), subject=PROJECT),
    page("project_edit", PageCall("GET", table(CHANGE_OWNERS_RECORD, 200)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_edit), subject=PROJECT),
    page("project_delete", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(PROJECT)),
         subject=PROJECT),
    page("project_restore", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {PROJECT}"),
    page("project_milestone_create", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True,
                  body=lambda w, a: {"milestone-name": "Matrix milestone"}), subject=PROJECT),
    page("project_milestone_edit", PageCall("GET", table(CHANGE_OWNERS_RECORD, 200)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True,
                  body=lambda w, a: {"name": "Renamed by the matrix", "due_on": ""}), subject=MILESTONE),
    page("project_milestone_delete", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=MILESTONE),
    page("project_milestone_move", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, body=lambda w, a: {"direction": "down"}),
         subject=MILESTONE),
    page("project_task_create", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True,
                  body=lambda w, a: {"task-subject": "Matrix task"}), subject=PROJECT),
    page("project_task_status", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True,
                  body=lambda w, a: {"status": "completed", "version": w.subject(TASK).version}), subject=TASK),
    page("project_task_milestone", PageCall("GET", everyone(405)),
         PageCall("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, body=lambda w, a: {"milestone": ""}),
         subject=TASK),

    # API
    api("GET /api/v1/projects", table(EVERYONE, 200)),
    api("POST /api/v1/projects", table(CREATE, 201), writes=True, body=_api_create),
    api("GET /api/v1/projects/{project_id}", table(SEE_OWNERS_RECORD, 200), subject=PROJECT),
    api("PATCH /api/v1/projects/{project_id}", table(CHANGE_OWNERS_RECORD, 200), subject=PROJECT, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(PROJECT).version, "name": "Renamed by the matrix"}),
    api("DELETE /api/v1/projects/{project_id}", table(CHANGE_OWNERS_RECORD, 204), subject=PROJECT, writes=True,
        version=True),
    api("POST /api/v1/projects/{project_id}/restore", table(CHANGE_OWNERS_RECORD, 200), subject=f"deleted {PROJECT}",
        writes=True),
    api("GET /api/v1/projects/{project_id}/milestones", table(SEE_OWNERS_RECORD, 200), subject=PROJECT),
    api("POST /api/v1/projects/{project_id}/milestones", table(CHANGE_OWNERS_RECORD, 201), subject=PROJECT,
        writes=True, body=lambda w, a: {"name": "Matrix milestone"}),
    MilestoneRoute(key="PATCH /api/v1/projects/{project_id}/milestones/{milestone_id}", subject=MILESTONE, calls=(
        PageCall("PATCH", table(CHANGE_OWNERS_RECORD, 200), writes=True,
                 body=lambda w, a: {"name": "Renamed by the matrix"}),)),
    MilestoneRoute(key="DELETE /api/v1/projects/{project_id}/milestones/{milestone_id}", subject=MILESTONE, calls=(
        PageCall("DELETE", table(CHANGE_OWNERS_RECORD, 204), writes=True),)),
    api("GET /api/v1/projects/{project_id}/tasks", table(SEE_OWNERS_RECORD, 200), subject=PROJECT),
    api("POST /api/v1/projects/{project_id}/tasks", table(CHANGE_OWNERS_RECORD, 201), subject=PROJECT,
        writes=True, body=lambda w, a: {"subject": "Matrix task"}),
]
