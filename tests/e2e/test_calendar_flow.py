"""A salesperson's day in a real browser: My Home, the calendar, a task and an event.

Locators are the accessible ones (label, role, name): if a page loses its labels, these tests fail.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from playwright.sync_api import Page, expect

from rapport.activities.models import Activity
from tests.e2e.test_account_flow import PHONE, no_horizontal_overflow
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def sign_in_home(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def sign_out_by_forgetting(page: Page) -> None:
    """Leave the page first, then drop the cookies.

    A request the old page still had in flight (an htmx panel loading) would otherwise come back
    without a session, be answered by the sign-in page and set a CSRF cookie that no longer matches
    the form of the next sign-in: a 403 that only shows under load.
    """
    page.goto("about:blank")
    page.context.clear_cookies()


def test_an_event_created_by_clicking_a_day_in_the_month_view_is_there_after_reload(page: Page, live_server) -> None:
    UserFactory(username="cleo", first_name="Cleo", last_name="Caller", role_slugs="sales", time_zone="Europe/Berlin")
    sign_in_home(page, live_server.url, "cleo")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1, name="Calendar")).to_be_visible()

    today = dt.datetime.now(BERLIN).date()
    day = today.replace(day=15)
    cell = page.locator(f'.cal-day[data-date="{day.isoformat()}"]')
    box = cell.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 8)  # the empty part of the day

    expect(page.get_by_role("heading", level=1, name="New activity")).to_be_visible()
    expect(page.get_by_label("Starts on")).to_have_value(day.isoformat())
    page.get_by_label("Subject").fill("Quarterly review with Nordwind")
    page.get_by_label("Start time").fill("14:30")
    page.get_by_label("End time").fill("15:30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1, name="Quarterly review with Nordwind")).to_be_visible()

    page.goto(f"{live_server.url}/calendar/?view=month&date={day.isoformat()}")
    page.reload()
    entry = page.locator(f'.cal-day[data-date="{day.isoformat()}"]').get_by_role("link", name="Quarterly review")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("14:30")
    activity = Activity.objects.get(subject="Quarterly review with Nordwind")
    assert activity.starts_at.astimezone(BERLIN).time() == dt.time(14, 30)

    # Drag it to the next day: same time, another date.
    target = page.locator(f'.cal-day[data-date="{(day + dt.timedelta(days=1)).isoformat()}"]')
    with page.expect_response(lambda response: "/move/" in response.url):
        entry.drag_to(target)
    page.wait_for_load_state()
    moved = page.locator(f'.cal-day[data-date="{(day + dt.timedelta(days=1)).isoformat()}"]')
    expect(moved.get_by_role("link", name="Quarterly review")).to_be_visible()
    activity.refresh_from_db()
    assert activity.starts_at.astimezone(BERLIN) == dt.datetime.combine(day + dt.timedelta(days=1),
                                                                        dt.time(14, 30), tzinfo=BERLIN)


def test_a_task_quick_created_on_my_home_lands_in_my_current_tasks(page: Page, live_server) -> None:
    UserFactory(username="tess", first_name="Tess", last_name="Tasker", role_slugs="sales", time_zone="Europe/Berlin")
    sign_in_home(page, live_server.url, "tess")
    tasks = page.get_by_role("region", name="My Current Tasks")
    expect(tasks).to_contain_text("No open tasks")

    quick = page.get_by_role("region", name="Quick create")
    quick.get_by_label("Subject").fill("Send the welcome package")
    quick.get_by_role("button", name="Create").click()
    expect(quick.get_by_role("status")).to_contain_text("Send the welcome package was created")
    expect(tasks.get_by_role("link", name="Send the welcome package")).to_be_visible()  # without a reload

    page.reload()
    tasks = page.get_by_role("region", name="My Current Tasks")
    expect(tasks.get_by_role("link", name="Send the welcome package")).to_be_visible()
    tasks.get_by_role("button", name="Mark “Send the welcome package” as completed").click()
    expect(tasks).to_contain_text("No open tasks")


def test_my_home_and_the_calendar_fit_a_phone(page: Page, live_server) -> None:
    UserFactory(username="phil", role_slugs="sales", time_zone="Europe/Berlin")
    page.set_viewport_size(PHONE)
    sign_in_home(page, live_server.url, "phil")
    assert no_horizontal_overflow(page)
    for view in ("month", "week", "day"):
        page.goto(f"{live_server.url}/calendar/?view={view}")
        expect(page.get_by_role("heading", level=1, name="Calendar")).to_be_visible()
        assert no_horizontal_overflow(page), view
