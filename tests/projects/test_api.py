"""The projects API round trip: create, read with progress and milestones, change with the version (409 when
stale), milestones and tasks, delete and restore."""

from __future__ import annotations

import pytest

from rapport.activities.models import ActivityStatus
from tests.conftest import ApiClient
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def test_round_trip_with_a_stale_version(personas):
    api = ApiClient(personas.owner)
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    deal = OpportunityFactory(owner=personas.owner, account=account)
    created = api.post("projects", json={
        "name": "Rollout", "account": account.public_id, "opportunity": deal.public_id, "starts_on": "2030-03-01",
        "due_on": "2030-06-30", "budget": "12000.50", "currency": "usd", "members": [personas.teammate.public_id]})
    assert created.status_code == 201, created.json()
    body = created.json()
    project_id = body["id"]
    assert (body["budget"], body["currency"], body["status"]) == ("12000.50", "USD", "planned")
    assert body["manager"]["id"] == personas.owner.public_id
    assert [m["id"] for m in body["members"]] == [personas.teammate.public_id]
    assert body["opportunity"]["id"] == deal.public_id
    assert body["progress"] == {"done": 0, "total": 0, "percent": 0}

    milestone = api.post(f"projects/{project_id}/milestones", json={"name": "Build", "due_on": "2030-04-30"})
    assert milestone.status_code == 201, milestone.json()
    milestone_id = milestone.json()["id"]
    first = api.post(f"projects/{project_id}/tasks", json={"subject": "Code it", "milestone": milestone_id})
    second = api.post(f"projects/{project_id}/tasks", json={"subject": "Test it", "milestone": milestone_id,
                                                            "assignee": personas.teammate.public_id})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["due_on"] == "2030-04-30"
    assert first.json()["assignees"][0]["id"] == personas.owner.public_id
    # Completing a task is the activities API's PATCH.
    done = api.patch(f"activities/{first.json()['id']}", json={"status": ActivityStatus.COMPLETED,
                                                                "version": first.json()["version"]})
    assert done.status_code == 200, done.json()

    read = api.get(f"projects/{project_id}").json()
    assert read["progress"] == {"done": 1, "total": 2, "percent": 50}
    assert read["milestones"][0]["progress"] == {"done": 1, "total": 2, "percent": 50}
    tasks = api.get(f"projects/{project_id}/tasks").json()
    # Open tasks first, then the completed ones.
    assert [(t["subject"], t["milestone"]) for t in tasks["items"]] == [("Test it", milestone_id),
                                                                       ("Code it", milestone_id)]

    version = read["version"]
    changed = api.patch(f"projects/{project_id}", json={"version": version, "status": "active"})
    assert (changed.status_code, changed.json()["status"]) == (200, "active")
    stale = api.patch(f"projects/{project_id}", json={"version": version, "name": "Overwritten"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == version + 1
    assert api.get(f"projects/{project_id}").json()["name"] == "Rollout"

    renamed = api.patch(f"projects/{project_id}/milestones/{milestone_id}", json={"name": "Build it"})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Build it")
    assert api.get(f"projects/{project_id}/milestones").json()["items"][0]["name"] == "Build it"

    assert api.delete(f"projects/{project_id}?version={version}").status_code == 409
    assert api.delete(f"projects/{project_id}?version={version + 1}").status_code == 204
    assert api.get(f"projects/{project_id}").status_code == 404
    restored = api.post(f"projects/{project_id}/restore")
    assert (restored.status_code, restored.json()["name"]) == (200, "Rollout")

    assert api.delete(f"projects/{project_id}/milestones/{milestone_id}").status_code == 204
    after = api.get(f"projects/{project_id}/tasks").json()
    assert {t["milestone"] for t in after["items"]} == {None}


def test_list_filters_and_cursor(personas):
    api = ApiClient(personas.owner)
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    for index in range(3):
        created = api.post("projects", json={"name": f"P{index}", "account": account.public_id,
                                             "starts_on": "2030-01-01", "due_on": f"2030-0{index + 2}-01",
                                             "status": "active" if index else "planned"})
        assert created.status_code == 201
    page = api.get("projects", limit=2).json()
    assert [p["name"] for p in page["items"]] == ["P0", "P1"] and page["next"]
    rest = api.get("projects", limit=2, cursor=page["next"]).json()
    assert [p["name"] for p in rest["items"]] == ["P2"] and rest["next"] is None
    assert [p["name"] for p in api.get("projects", status="active").json()["items"]] == ["P1", "P2"]
    assert api.get("projects", status="bogus").status_code == 400
    assert "colour" in api.get("projects", colour="red").json()["errors"]
