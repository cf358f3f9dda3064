"""Pinned query counts of the project pages, the panel and the API: the same for one project with a task as for
many projects with many milestones, tasks and members (no query per row, per milestone or per task).

If a change adds a query on purpose, update the number here and say why.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.activities.models import ActivityStatus
from tests.conftest import ApiClient, client_for
from tests.factories import AccountFactory, UserFactory
from tests.projects.factories import make_milestone, make_project, make_task

pytestmark = pytest.mark.django_db

# A page: session + user (2), rights (1), the top bar's badges (1, counted together).
PAGES = {
    # + the page of projects (1), their progress (1); the filter form's managers (1)
    "list": 7,
    # + the project with account, deal, manager, owner (1), its members and their users (2), milestones (1),
    # progress (1), the plan's tasks (1), their visible activities (1), their assignees and users (2), history
    # (1) and the accounts it names that the reader may see (1), the task form's people (1)
    "detail": 16,
    # session, user, rights (3); the account (1), its projects (1), their progress (1)
    "panel": 6,
}
# The API: token (1), rights (1), then
API = {
    "list": 5,  # + the projects (1), their members and users (2)
    "get": 7,  # + the project (1), members and users (2), progress (1), milestones (1)
    "milestones": 7,  # + the project (1), members and users (2), milestones (1), progress (1)
    "tasks": 11,  # + the project (3), milestones (1), progress (1), tasks (1), activities (1), assignees (2)
}


def _world(personas, n: int):
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    people = [UserFactory(team=personas.owner.team) for _ in range(n)]
    first = None
    for index in range(n):
        project = make_project(personas.owner, account=account, name=f"Project {index}", members=people,
                               manager=people[index % len(people)] if index else personas.owner)
        first = first or project
        for m_index in range(n):
            milestone = make_milestone(project, f"M{m_index}")
            for t_index in range(n):
                make_task(project, f"T{m_index}.{t_index}", milestone=milestone,
                          assignee=people[t_index % len(people)],
                          status=ActivityStatus.COMPLETED if t_index % 2 else None)
    return account, first


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _counts(personas, n: int) -> dict[str, int]:
    account, project = _world(personas, n)
    client = client_for(personas.owner)
    api = ApiClient(personas.owner)
    api.get("projects")  # the token's first use writes its time; later ones within the minute do not
    return {
        "list": _count(lambda: client.get("/projects/", {"view": "all"})),
        "detail": _count(lambda: client.get(f"/projects/{project.public_id}/")),
        "panel": _count(lambda: client.get(f"/projects/about/{account.ref}/")),
        "api list": _count(lambda: api.get("projects")),
        "api get": _count(lambda: api.get(f"projects/{project.public_id}")),
        "api milestones": _count(lambda: api.get(f"projects/{project.public_id}/milestones")),
        "api tasks": _count(lambda: api.get(f"projects/{project.public_id}/tasks")),
    }


def test_counts_are_pinned_and_do_not_grow(personas):
    small = _counts(personas, 1)
    expected = {**PAGES, **{f"api {name}": count for name, count in API.items()}}
    assert small == expected


def test_counts_do_not_grow_with_projects_milestones_and_tasks(personas):
    assert _counts(personas, 4) == {**PAGES, **{f"api {name}": count for name, count in API.items()}}
