"""Who sees a project: the usual rules of its owner and visibility, and also its manager and its members; anyone
else gets 404 on the page and in the API, and does not find it in lists, panels or search."""

from __future__ import annotations

import pytest

from rapport.projects import services
from tests.conftest import ApiClient, client_for
from tests.factories import AccountFactory
from tests.projects.factories import make_project, make_task

pytestmark = pytest.mark.django_db


def _private(personas, **data):
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    return make_project(personas.owner, account=account, visibility="private", name="Secret rollout", **data)


def test_someone_of_another_team_gets_404_on_a_team_project(personas):
    project = make_project(personas.owner, visibility="team")
    assert client_for(personas.outsider).get(f"/projects/{project.public_id}/").status_code == 404
    assert ApiClient(personas.outsider).get(f"projects/{project.public_id}").status_code == 404
    assert client_for(personas.teammate).get(f"/projects/{project.public_id}/").status_code == 200


def test_a_member_from_another_team_sees_a_private_project(personas):
    project = _private(personas, members=[personas.outsider])
    assert client_for(personas.outsider).get(f"/projects/{project.public_id}/").status_code == 200
    body = ApiClient(personas.outsider).get(f"projects/{project.public_id}").json()
    assert body["name"] == "Secret rollout"
    # ... and finds it under "my projects", by default
    assert "Secret rollout" in client_for(personas.outsider).get("/projects/").content.decode()
    # A teammate of the owner who is no member does not.
    assert client_for(personas.teammate).get(f"/projects/{project.public_id}/").status_code == 404


def test_the_manager_sees_the_project_and_a_removed_member_no_longer_does(personas):
    project = _private(personas, manager=personas.outsider, members=[personas.teammate])
    assert client_for(personas.outsider).get(f"/projects/{project.public_id}/").status_code == 200
    project = services.project_members_remove(actor=personas.owner, project=project, users=[personas.teammate],
                                              version=project.version)
    assert client_for(personas.teammate).get(f"/projects/{project.public_id}/").status_code == 404


def test_my_projects_lists_those_i_manage_or_work_on_and_all_lists_the_rest(personas):
    make_project(personas.owner, name="Mine to run", manager=personas.teammate)
    make_project(personas.owner, name="Mine to help", members=[personas.teammate])
    make_project(personas.owner, name="Someone else's")
    client = client_for(personas.teammate)
    mine = client.get("/projects/").content.decode()
    assert "Mine to run" in mine and "Mine to help" in mine and "Someone else&#x27;s" not in mine
    everything = client.get("/projects/", {"view": "all"}).content.decode()
    assert "Someone else&#x27;s" in everything
    api = ApiClient(personas.teammate).get("projects", view="mine").json()
    assert sorted(item["name"] for item in api["items"]) == ["Mine to help", "Mine to run"]


def test_the_account_panel_shows_only_visible_projects(personas):
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    make_project(personas.owner, account=account, name="Open project", visibility="everyone")
    make_project(personas.owner, account=account, name="Hidden project", visibility="private")
    html = client_for(personas.outsider).get(f"/projects/about/{account.ref}/").content.decode()
    assert "Open project" in html and "Hidden project" not in html


def test_a_member_finds_the_private_project_in_search_and_others_do_not(personas):
    _private(personas, members=[personas.outsider])
    found = ApiClient(personas.outsider).get("search", q="secret rollout").json()
    assert any(item["title"] == "Secret rollout" for group in found["groups"] for item in group["items"])
    hidden = ApiClient(personas.teammate).get("search", q="secret rollout").json()
    assert not any(group["type"] == "project" for group in hidden["groups"])


def test_a_task_is_shared_as_its_project_is(personas):
    project = make_project(personas.owner, visibility="team")
    task = make_task(project, "Team task")
    assert task.visibility == "team"
    assert client_for(personas.outsider).get(f"/projects/tasks/{task.public_id}/status/").status_code == 405
    response = client_for(personas.outsider).post(f"/projects/tasks/{task.public_id}/status/",
                                                  {"status": "completed", "version": task.version})
    assert response.status_code == 404


def test_a_member_from_another_team_may_add_and_complete_tasks_but_not_edit_the_project(personas):
    project = _private(personas, members=[personas.outsider])
    client = client_for(personas.outsider)
    response = client.post(f"/projects/{project.public_id}/tasks/", {"task-subject": "Outsider's task",
                                                                      "task-assignee": personas.outsider.public_id})
    assert response.status_code == 302
    task = project.tasks.get().activity
    assert list(task.assignments.values_list("user_id", flat=True)) == [personas.outsider.pk]
    response = client.post(f"/projects/tasks/{task.public_id}/status/", {"status": "completed",
                                                                        "version": task.version})
    assert response.status_code == 302
    assert client.get(f"/projects/{project.public_id}/edit/").status_code == 403
