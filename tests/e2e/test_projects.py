"""Projects in a real browser: create a project from its account's page, add a milestone and a task, complete
the task and see the progress; the list and the project page fit a phone's width.

Locators are the accessible ones (label, role, name): if the project pages lose their labels, these tests fail.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.activities.models import Activity, ActivityStatus
from rapport.projects.models import Project
from tests.e2e.test_calendar_flow import sign_in_home
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]
PHONE_390 = {"width": 390, "height": 844}


def test_create_a_project_plan_it_and_complete_a_task(page: Page, live_server) -> None:
    user = UserFactory(username="pia", first_name="Pia", last_name="Planner", role_slugs="sales")
    account = AccountFactory(name="Nordwind Logistics", owner=user, visibility="everyone")
    sign_in_home(page, live_server.url, "pia")

    page.goto(f"{live_server.url}/accounts/{account.public_id}/")
    projects = page.get_by_role("region", name="Projects")
    expect(projects).to_contain_text("No projects yet.")
    projects.get_by_role("link", name="New project").click()
    expect(page.get_by_role("heading", level=1, name="New project")).to_be_visible()
    page.get_by_label("Name").first.fill("Warehouse rollout")
    page.get_by_label("Start date").fill("2030-03-01")
    page.get_by_label("Due date").fill("2030-02-01")  # before the start: refused, naming the field
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The due date is before the start date.").first).to_be_visible()
    assert not Project.objects.exists()
    page.get_by_label("Due date").fill("2030-06-30")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1, name="Warehouse rollout")).to_be_visible()
    expect(page.get_by_role("img", name="Timeline of Warehouse rollout")).to_be_visible()
    page.get_by_text("Add a milestone").click()
    page.get_by_label("Milestone name").fill("Installation")
    page.get_by_role("button", name="Add milestone").click()
    expect(page.get_by_role("heading", level=3, name="Installation")).to_be_visible()

    page.get_by_text("Add a task").click()
    page.get_by_role("textbox", name="Task", exact=True).fill("Mount the scanners")
    page.get_by_role("combobox", name="Milestone", exact=True).select_option(label="Installation")
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_role("link", name="Mount the scanners")).to_be_visible()
    plan = page.get_by_role("region", name="Milestones and tasks")
    expect(plan.get_by_role("progressbar").first).to_have_attribute("aria-label", "0 of 1 tasks done")

    page.get_by_role("button", name="Complete Mount the scanners").click()
    expect(page.get_by_role("button", name="Reopen Mount the scanners")).to_be_visible()
    expect(plan.get_by_role("progressbar").first).to_have_attribute("aria-label", "1 of 1 tasks done")
    assert Activity.objects.get(subject="Mount the scanners").status == ActivityStatus.COMPLETED

    # The list of my projects shows it with its progress.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", level=1, name="My projects")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Warehouse rollout")
    expect(row).to_contain_text("100 %")
    expect(row).to_contain_text("Nordwind Logistics")


def test_the_list_and_the_project_page_fit_a_phone(page: Page, live_server) -> None:
    user = UserFactory(username="pia", first_name="Pia", last_name="Planner", role_slugs="sales")
    from tests.projects.factories import make_milestone, make_project, make_task

    project = make_project(user, name="A project with a rather long name for a small screen")
    milestone = make_milestone(project, "Preparation of everything that is needed")
    make_task(project, "A task whose subject is long enough to wrap on a phone", milestone=milestone)
    page.set_viewport_size(PHONE_390)
    sign_in_home(page, live_server.url, "pia")
    for path in ("/projects/", f"/projects/{project.public_id}/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE_390["width"], f"{path} is {width} px wide at 390 px"
