"""A project's progress is its completed tasks out of all its tasks that count (cancelled and deleted ones do
not), overall and per milestone, counted by hand here."""

from __future__ import annotations

import pytest

from rapport.activities import services as activities
from rapport.activities.models import ActivityLink, ActivityStatus
from rapport.projects import selectors, services
from tests.conftest import client_for
from tests.projects.factories import make_milestone, make_project, make_task

pytestmark = pytest.mark.django_db


def test_progress_overall_and_per_milestone_from_the_tasks(personas):
    project = make_project(personas.owner)
    design = make_milestone(project, "Design")
    build = make_milestone(project, "Build")
    make_task(project, "Sketch", milestone=design, status=ActivityStatus.COMPLETED)
    make_task(project, "Review", milestone=design, status=ActivityStatus.COMPLETED)
    make_task(project, "Approve", milestone=design)
    make_task(project, "Code", milestone=build, status=ActivityStatus.COMPLETED)
    make_task(project, "Test", milestone=build)
    make_task(project, "Dropped", milestone=build, status=ActivityStatus.CANCELLED)  # does not count
    gone = make_task(project, "Deleted", milestone=build)  # does not count once deleted
    activities.activity_delete(actor=personas.owner, activity=gone)
    make_task(project, "Loose", status=ActivityStatus.COMPLETED)  # in no milestone

    progress = selectors.project_progress(project)

    # Design: 2 of 3. Build: 1 of 2 (cancelled and deleted left out). No milestone: 1 of 1. All: 4 of 6.
    assert (progress.of(design).done, progress.of(design).total, progress.of(design).percent) == (2, 3, 67)
    assert (progress.of(build).done, progress.of(build).total, progress.of(build).percent) == (1, 2, 50)
    assert (progress.of(None).done, progress.of(None).total) == (1, 1)
    assert (progress.overall.done, progress.overall.total, progress.overall.percent) == (4, 6, 67)


def test_a_project_without_tasks_is_at_zero_percent(personas):
    project = make_project(personas.owner)
    assert selectors.project_progress(project).overall.percent == 0


def test_a_task_is_an_activity_regarding_the_project_assigned_to_its_manager(personas):
    project = make_project(personas.owner, manager=personas.teammate)
    milestone = make_milestone(project, "Kick-off", due_on=project.starts_on)
    task = make_task(project, "Kick-off meeting", milestone=milestone)
    assert ActivityLink.objects.filter(activity=task, record_type="project", record_id=project.pk).exists()
    assert list(task.assignments.values_list("user_id", flat=True)) == [personas.teammate.pk]
    assert task.due_on == milestone.due_on  # the milestone's date when none is given
    assert task.project_task.milestone == milestone


def test_moving_a_task_moves_its_progress(personas):
    project = make_project(personas.owner)
    first, second = make_milestone(project, "First"), make_milestone(project, "Second")
    task = make_task(project, "Move me", milestone=first, status=ActivityStatus.COMPLETED)
    services.task_move(actor=personas.owner, project=project, activity=task, milestone=second)
    progress = selectors.project_progress(project)
    assert (progress.of(first).total, progress.of(second).done) == (0, 1)


def test_completing_a_task_on_the_page_updates_the_progress(personas):
    project = make_project(personas.owner)
    task = make_task(project, "Finish")
    client = client_for(personas.owner)
    response = client.post(f"/projects/tasks/{task.public_id}/status/", {"status": "completed",
                                                                        "version": task.version},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "100 %" in response.content.decode()
    task.refresh_from_db()
    assert task.status == ActivityStatus.COMPLETED


def test_milestones_reorder_and_a_deleted_one_leaves_its_tasks_in_the_project(personas):
    project = make_project(personas.owner)
    _a, b, c = (make_milestone(project, name) for name in "ABC")
    services.milestone_move(actor=personas.owner, milestone=c, step=-1)
    assert [m.name for m in selectors.milestones_of(project)] == ["A", "C", "B"]
    task = make_task(project, "Stays", milestone=b)
    services.milestone_delete(actor=personas.owner, milestone=b)
    task.project_task.refresh_from_db()
    assert task.project_task.milestone is None
    assert selectors.project_progress(project).overall.total == 1
