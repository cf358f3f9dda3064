"""Projects for tests, made through the services (so members, history and links are as a user's clicks make them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.activities.models import Activity, ActivityStatus
from rapport.projects import services
from rapport.projects.models import Milestone, Project
from tests.factories import AccountFactory

START = dt.date(2030, 3, 1)
DUE = dt.date(2030, 6, 30)


def make_project(owner: Any, *, account: Any = None, members: list[Any] = (), **data: Any) -> Project:
    fields = {"name": "Rollout", "account": account or AccountFactory(owner=owner, visibility="everyone"),
              "starts_on": START, "due_on": DUE, "budget": "1000.00", "currency": "EUR", **data}
    return services.project_create(actor=owner, data=fields, members=list(members))


def make_milestone(project: Project, name: str, *, actor: Any = None, due_on: dt.date | None = None) -> Milestone:
    return services.milestone_create(actor=actor or project.owner, project=project,
                                     data={"name": name, "due_on": due_on})


def make_task(project: Project, subject: str, *, milestone: Milestone | None = None, status: str | None = None,
              actor: Any = None, assignee: Any = None) -> Activity:
    actor = actor or project.owner
    task = services.task_add(actor=actor, project=project, subject=subject, milestone=milestone, assignee=assignee)
    if status and status != ActivityStatus.OPEN:
        task = services.task_status(actor=actor, project=project, activity=task, status=status, version=task.version)
    return task
