"""Edge cases found in review: no hidden name leaks through an error or a prefilled form, a timeline over
centuries, honest percentages, a manager who has left, buttons only for who may press them, and plan changes
racing a deletion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from rapport.activities.models import Activity
from rapport.projects import services
from rapport.projects.models import Milestone, ProjectTask
from rapport.projects.selectors import Progress, project_tasks
from rapport.projects.timeline import MAX_MONTH_LINES, _grid, timeline_svg
from tests.conftest import ApiClient, client_for
from tests.factories import AccountFactory, OpportunityFactory, UserFactory
from tests.projects.factories import make_milestone, make_project, make_task

pytestmark = pytest.mark.django_db


# --- Names of hidden records --------------------------------------------------------------------------


def test_a_milestone_of_a_hidden_project_is_not_named_in_the_error(personas):
    hidden = make_project(personas.outsider, visibility="private", name="Their project",
                          account=AccountFactory(owner=personas.outsider, visibility="everyone"))
    secret = make_milestone(hidden, "Secret phase")
    mine = make_project(personas.owner)
    api = ApiClient(personas.owner)
    response = api.post(f"projects/{mine.public_id}/tasks", {"subject": "X", "milestone": secret.public_id})
    assert response.status_code == 422
    assert "Secret phase" not in response.content.decode()
    assert response.json()["errors"]["milestone"] == ["That is not a milestone of this project."]
    page = client_for(personas.owner).post(f"/projects/{mine.public_id}/tasks/",
                                           {"task-subject": "X", "task-milestone": secret.public_id},
                                           headers={"HX-Request": "true"})
    assert page.status_code == 400 and "Secret phase" not in page.content.decode()
    assert not ProjectTask.objects.filter(project=mine).exists()


def test_a_new_project_from_a_deal_does_not_show_the_deals_hidden_account(personas):
    account = AccountFactory(owner=personas.outsider, visibility="private", name="Hidden Corp")
    deal = OpportunityFactory(owner=personas.owner, account=account, visibility="everyone", name="Big deal")
    html = client_for(personas.owner).get("/projects/new/", {"opportunity": deal.public_id}).content.decode()
    assert "Hidden Corp" not in html
    # The account is prefilled when the user may see it.
    shown = AccountFactory(owner=personas.owner, visibility="everyone", name="Shown Corp")
    deal = OpportunityFactory(owner=personas.owner, account=shown, visibility="everyone")
    assert "Shown Corp" in client_for(personas.owner).get("/projects/new/",
                                                          {"opportunity": deal.public_id}).content.decode()


def test_a_deal_of_another_account_does_not_name_the_projects_hidden_account(personas):
    hidden_account = AccountFactory(owner=personas.outsider, visibility="private", name="Hidden Corp")
    project = make_project(personas.owner, account=hidden_account, visibility="everyone")
    other = OpportunityFactory(owner=personas.owner, account=AccountFactory(owner=personas.owner), name="Other deal")
    with pytest.raises(ValidationError) as caught:
        services.project_update(actor=personas.owner, project=project, version=project.version,
                                data={"opportunity": other})
    message = " ".join(caught.value.message_dict["opportunity"])
    assert "Other deal" in message and "another account" in message and "Hidden Corp" not in message


# --- The timeline and the percentages -----------------------------------------------------------------


def test_a_project_over_centuries_has_a_page_with_a_bounded_timeline(personas):
    project = make_project(personas.owner, starts_on=dt.date(1, 1, 1), due_on=dt.date(9999, 12, 31))
    make_task(project, "Far away")
    response = client_for(personas.owner).get(f"/projects/{project.public_id}/")
    assert response.status_code == 200
    svg = response.content.decode().split('<svg class="timeline"')[1].split("</svg>")[0]
    assert svg.count('class="grid"') <= MAX_MONTH_LINES + 1
    assert len(svg) < 20_000


@pytest.mark.parametrize(("start", "end", "by_year"), [
    (dt.date(2030, 1, 15), dt.date(2030, 1, 15), False),
    (dt.date(2030, 11, 1), dt.date(2031, 2, 1), False),
    (dt.date(2030, 1, 1), dt.date(2045, 6, 1), True),
    (dt.date(1, 1, 1), dt.date(9999, 12, 31), True),
    (dt.date(9990, 1, 1), dt.date(9999, 12, 31), True),
])
def test_the_grid_is_bounded_and_within_the_dates(start, end, by_year):
    lines, yearly = _grid(start, end)
    assert yearly is by_year
    assert 1 <= len(lines) <= MAX_MONTH_LINES + 1
    assert all(line <= end for line in lines) and lines == sorted(lines)


def test_a_one_day_project_without_tasks_draws(personas):
    day = dt.date(2030, 5, 5)
    project = make_project(personas.owner, starts_on=day, due_on=day)
    svg = timeline_svg(project, project_tasks(user=personas.owner, project=project), today=day)
    assert 'class="today"' in svg and 'class="bar"' in svg


@pytest.mark.parametrize(("done", "total", "percent"), [
    (0, 0, 0), (0, 5, 0), (1, 300, 1), (1, 3, 33), (2, 3, 67), (199, 200, 99), (200, 200, 100)])
def test_a_percentage_reads_100_only_when_all_is_done_and_0_only_when_nothing_is(done, total, percent):
    assert Progress(done=done, total=total).percent == percent


# --- People ------------------------------------------------------------------------------------------


def test_a_project_whose_manager_has_left_can_still_be_edited(personas):
    leaver = UserFactory(username="leaver", team=personas.owner.team)
    project = make_project(personas.owner, manager=leaver)
    leaver.is_active = False
    leaver.save()
    response = client_for(personas.owner).post(f"/projects/{project.public_id}/edit/", {
        "name": "Renamed", "account": project.account.public_id, "status": "active",
        "starts_on": "2030-03-01", "due_on": "2030-06-30", "manager": leaver.public_id,
        "budget": "5", "currency": "EUR", "owner": personas.owner.public_id, "visibility": "everyone",
        "version": project.version})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.manager_id) == ("Renamed", leaver.pk)
    # Naming a departed user as the new manager is still refused.
    other = make_project(personas.owner)
    with pytest.raises(ValidationError) as caught:
        services.project_update(actor=personas.owner, project=other, version=other.version, data={"manager": leaver})
    assert "manager" in caught.value.message_dict


def test_only_who_may_change_a_task_gets_its_complete_button(personas):
    project = make_project(personas.owner, visibility="team")
    make_task(project, "Write plan")
    make_task(project, "Teammate's part", assignee=personas.teammate)
    viewer = client_for(personas.viewer).get(f"/projects/{project.public_id}/").content.decode()
    assert "Write plan" in viewer and "Complete Write plan" not in viewer
    owner = client_for(personas.owner).get(f"/projects/{project.public_id}/").content.decode()
    assert "Complete Write plan" in owner
    teammate = client_for(personas.teammate).get(f"/projects/{project.public_id}/").content.decode()
    assert "Complete Teammate&#x27;s part" in teammate


# --- Racing a deletion --------------------------------------------------------------------------------


def test_changing_a_milestone_deleted_meanwhile_is_a_404_not_a_500(personas):
    project = make_project(personas.owner)
    milestone = make_milestone(project, "Phase")
    stale = Milestone.objects.select_related("project").get(pk=milestone.pk)
    Milestone.objects.filter(pk=milestone.pk).delete()
    with pytest.raises(Http404):
        services.milestone_update(actor=personas.owner, milestone=stale, data={"name": "Renamed"})
    with pytest.raises(Http404):
        services.milestone_move(actor=personas.owner, milestone=stale, step=1)


def test_a_task_is_not_filed_under_a_milestone_deleted_meanwhile(personas):
    project = make_project(personas.owner)
    milestone = make_milestone(project, "Phase")
    task = make_task(project, "Already here")
    Milestone.objects.filter(pk=milestone.pk).delete()
    activities = Activity.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.task_add(actor=personas.owner, project=project, subject="New", milestone=milestone)
    assert "milestone" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.task_move(actor=personas.owner, project=project, activity=task, milestone=milestone)
    assert Activity.objects.count() == activities
    assert ProjectTask.objects.get(activity=task).milestone_id is None


def test_the_api_moves_a_milestone_to_a_position_in_one_step(personas):
    project = make_project(personas.owner)
    first, second, third = (make_milestone(project, name) for name in ("A", "B", "C"))
    api = ApiClient(personas.owner)
    response = api.patch(f"projects/{project.public_id}/milestones/{third.public_id}", {"position": 1})
    assert response.status_code == 200 and response.json()["position"] == 1
    order = [m["name"] for m in api.get(f"projects/{project.public_id}/milestones").json()["items"]]
    assert order == ["C", "A", "B"]
    response = api.patch(f"projects/{project.public_id}/milestones/{first.public_id}", {"position": 99})
    assert response.json()["position"] == 3
    assert [m.name for m in project.milestones.all()] == ["C", "B", "A"] and second.name == "B"


def test_moving_a_project_to_another_account_does_not_name_its_hidden_deal(personas):
    account = AccountFactory(owner=personas.owner, visibility="everyone")
    hidden_deal = OpportunityFactory(owner=personas.outsider, account=account, visibility="private",
                                     name="Secret deal")
    project = make_project(personas.owner, account=account, opportunity=hidden_deal)
    elsewhere = AccountFactory(owner=personas.owner, visibility="everyone")
    response = ApiClient(personas.owner).patch(f"projects/{project.public_id}",
                                               {"version": project.version, "account": elsewhere.public_id})
    assert response.status_code == 422
    assert "opportunity" in response.json()["errors"] and "Secret deal" not in response.content.decode()
    project.refresh_from_db()
    assert project.account_id == account.pk


def test_the_last_milestone_cannot_be_moved_down_nor_the_first_up(personas):
    project = make_project(personas.owner)
    make_milestone(project, "First")
    make_milestone(project, "Last")
    make_task(project, "Loose")  # the group of tasks in no milestone comes after the last milestone
    html = client_for(personas.owner).get(f"/projects/{project.public_id}/").content.decode()

    def button(label: str) -> str:
        end = html.index(f'aria-label="{label}"')
        return html[html.rindex("<button", 0, end):end]

    assert "disabled" in button("Move First up") and "disabled" not in button("Move First down")
    assert "disabled" in button("Move Last down") and "disabled" not in button("Move Last up")
