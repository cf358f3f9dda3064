"""A new user imports their own contacts spreadsheet through the wizard, then finds a contact with the global
search box. Then the same wizard at phone width, without horizontal scrolling.

The worker is the test itself: once the import is queued, it runs the job as `rapport worker` would, and the
page (polling for progress) reloads to show the result. Set RAPPORT_SCREENSHOTS=<dir> to keep a screenshot of
each step at both widths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rapport.imports.models import ImportJob
from rapport.imports.services import import_execute
from tests.factories import PASSWORD, UserFactory
from tests.imports import files

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

SHOTS = os.environ.get("RAPPORT_SCREENSHOTS")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def walk_the_wizard(page: Page, base_url: str, spreadsheet: Path) -> None:
    page.goto(f"{base_url}/imports/")
    expect(page.get_by_role("heading", level=1, name="Import")).to_be_visible()
    shot(page, "1-upload")
    page.get_by_label("What the file holds").select_option("contact")
    page.locator("input[type=file]").set_input_files(str(spreadsheet))
    page.get_by_role("button", name="Upload and choose columns").click()

    expect(page.get_by_role("heading", name="Columns")).to_be_visible()
    expect(page.get_by_label("E-mail Address")).to_have_value("email")
    expect(page.get_by_label("Title", exact=True)).to_have_value("")  # Outlook's Mr./Ms., not the job title
    expect(page.get_by_label("Job Title")).to_have_value("title")
    page.get_by_label("Notes").select_option("")  # guesses the user changes
    page.get_by_label("Department").select_option("remarks")
    shot(page, "2-columns")
    assert no_horizontal_overflow(page)
    page.get_by_role("button", name="Preview the first rows").click()

    expect(page.get_by_text("Nothing is stored yet")).to_be_visible()
    expect(page.get_by_role("cell", name="Halvorsen")).to_be_visible()
    expect(page.get_by_text("Fjord Logistics: new account")).to_be_visible()
    shot(page, "3-preview")
    assert no_horizontal_overflow(page)
    page.get_by_role("button", name="Import all rows").click()

    expect(page.get_by_role("status").filter(has_text="Waiting for the worker to start")).to_be_visible()
    shot(page, "4-progress")
    job = ImportJob.objects.order_by("-id").first()
    assert import_execute(job.pk).status == "done"
    # The page polls its progress and reloads itself with the result.
    expect(page.get_by_text("rows read")).to_be_visible(timeout=10_000)
    expect(page.locator(".import-counts")).to_contain_text("2 new")
    shot(page, "5-report")
    assert no_horizontal_overflow(page)


def test_a_new_user_imports_their_contacts_and_finds_one_with_search(page: Page, live_server, tmp_path) -> None:
    UserFactory(username="nora", first_name="Nora", last_name="New", role_slugs="sales")
    spreadsheet = tmp_path / "My contacts.csv"
    spreadsheet.write_bytes(files.outlook_csv())
    sign_in(page, live_server.url, "nora")

    walk_the_wizard(page, live_server.url, spreadsheet)

    search = page.locator("#global-search")
    search.fill("halvorsen")
    search.press("Enter")
    result = page.get_by_role("link", name="Ingrid Halvorsen").first
    expect(result).to_be_visible()
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Halvorsen")
    expect(page.get_by_text("Purchasing Manager")).to_be_visible()
    expect(page.get_by_text("Sales", exact=True)).to_be_visible()  # the Department column, mapped to remarks


def test_the_wizard_at_phone_width(page: Page, live_server, tmp_path) -> None:
    UserFactory(username="nora", first_name="Nora", last_name="New", role_slugs="sales")
    spreadsheet = tmp_path / "contacts.csv"
    spreadsheet.write_bytes(files.outlook_csv())
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "nora")
    walk_the_wizard(page, live_server.url, spreadsheet)
