"""Bad input to projects, in the services, the form and the API: a clear error naming the field, and nothing
stored changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from rapport.activities.models import Activity
from rapport.core.models import HistoryEntry
from rapport.projects import services
from rapport.projects.models import Milestone, Project, ProjectTask
from tests.conftest import ApiClient, client_for
from tests.factories import AccountFactory, OpportunityFactory, UserFactory
from tests.projects.factories import DUE, START, make_milestone, make_project, make_task

pytestmark = pytest.mark.django_db


def _state() -> tuple:
    return (list(Project.objects.order_by("pk").values()), list(Milestone.objects.order_by("pk").values()),
            list(ProjectTask.objects.order_by("pk").values()), Activity.objects.count(), HistoryEntry.objects.count())


def _refused(call, field: str) -> str:
    before = _state()
    with pytest.raises(ValidationError) as caught:
        call()
    assert field in caught.value.message_dict, caught.value.message_dict
    assert _state() == before
    return " ".join(caught.value.message_dict[field])


@pytest.fixture
def project(personas):
    return make_project(personas.owner)


def test_due_before_start(personas, project):
    message = _refused(lambda: services.project_update(actor=personas.owner, project=project, version=project.version,
                                                       data={"due_on": START - dt.timedelta(days=1)}), "due_on")
    assert "before the start date" in message


def test_negative_budget(personas, project):
    assert "negative" in _refused(lambda: services.project_update(
        actor=personas.owner, project=project, version=project.version, data={"budget": "-1"}), "budget")


def test_unknown_currency(personas, project):
    assert "XYZ" in _refused(lambda: services.project_update(
        actor=personas.owner, project=project, version=project.version, data={"currency": "XYZ"}), "currency")


def test_opportunity_of_another_account(personas, project):
    other = OpportunityFactory(owner=personas.owner, account=AccountFactory(owner=personas.owner))
    assert "another account" in _refused(lambda: services.project_update(
        actor=personas.owner, project=project, version=project.version, data={"opportunity": other}), "opportunity")


def test_inactive_member(personas, project):
    gone = UserFactory(username="gone", is_active=False)
    assert "not an active user" in _refused(lambda: services.project_members_add(
        actor=personas.owner, project=project, users=[gone], version=project.version), "members")
    assert "not an active user" in _refused(lambda: services.project_create(
        actor=personas.owner, data={"name": "X", "account": project.account, "starts_on": START, "due_on": DUE},
        members=[gone]), "members")


def test_milestone_of_another_project(personas, project):
    elsewhere = make_milestone(make_project(personas.owner, name="Other"), "Theirs")
    assert "not a milestone of this project" in _refused(lambda: services.task_add(
        actor=personas.owner, project=project, subject="Wrong", milestone=elsewhere), "milestone")
    task = make_task(project, "Right")
    assert "not a milestone of this project" in _refused(lambda: services.task_move(
        actor=personas.owner, project=project, activity=task, milestone=elsewhere), "milestone")


def test_milestone_outside_the_project_dates(personas, project):
    assert "within the project" in _refused(lambda: services.milestone_create(
        actor=personas.owner, project=project, data={"name": "Late", "due_on": DUE + dt.timedelta(days=1)}), "due_on")


def test_the_form_shows_the_error_under_the_field_and_saves_nothing(personas, project):
    before = _state()
    response = client_for(personas.owner).post(f"/projects/{project.public_id}/edit/", {
        "name": "Renamed", "account": project.account.public_id, "status": "active",
        "starts_on": "2030-05-01", "due_on": "2030-04-01", "manager": personas.owner.public_id,
        "budget": "-5", "currency": "EUR", "owner": personas.owner.public_id, "visibility": "everyone",
        "version": project.version})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The due date is before the start date." in html
    assert 'id="id_budget_error"' in html
    assert _state() == before


def test_the_api_names_the_field_and_changes_nothing(personas, project):
    api = ApiClient(personas.owner)
    other = OpportunityFactory(owner=personas.owner, account=AccountFactory(owner=personas.owner))
    gone = UserFactory(username="gone", is_active=False)
    elsewhere = make_milestone(make_project(personas.owner, name="Other"), "Theirs")
    before = _state()
    for body, field in (({"due_on": "2030-01-01"}, "due_on"), ({"budget": "-1.00"}, "budget"),
                        ({"currency": "ABC"}, "currency"), ({"opportunity": other.public_id}, "opportunity"),
                        ({"members": [gone.public_id]}, "members")):
        response = api.patch(f"projects/{project.public_id}", json={"version": project.version, **body})
        assert response.status_code == 422, (body, response.json())
        assert field in response.json()["errors"], (body, response.json())
    response = api.post(f"projects/{project.public_id}/tasks", json={"subject": "X", "milestone": elsewhere.public_id})
    assert (response.status_code, list(response.json()["errors"])) == (422, ["milestone"])
    assert _state() == before
