"""A support request in a real browser: support1 opens an item and asks support2 to handle it; support2
signs in, finds the request waiting on My Home and on the Support list, accepts it in the app, and finds
the item on their task list. Locators are the accessible ones (label, role, name)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

PHONE = {"width": 390, "height": 800}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Rapport")).to_be_visible()


def test_support1_assigns_and_support2_accepts(page: Page, live_server) -> None:
    UserFactory(username="support1", first_name="Sune", last_name="Sørensen", role_slugs="support")
    UserFactory(username="support2", first_name="Şule", last_name="Yılmaz", role_slugs="support")
    AccountFactory(name="Fjord Freight", visibility="everyone")

    sign_in(page, live_server.url, "support1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", level=1, name="Support")).to_be_visible()
    page.get_by_role("link", name="New support item").click()
    expect(page.get_by_role("heading", level=1, name="New support item")).to_be_visible()
    page.get_by_role("textbox", name="Subject").fill("Label printer jams")
    page.get_by_role("combobox", name="Priority").select_option(label="High")
    page.get_by_role("searchbox", name="Find Account").press_sequentially("Fjo", delay=30)
    account = page.get_by_role("combobox", name="Account", exact=True)
    expect(account.get_by_role("option", name="Fjord Freight")).to_have_count(1)
    account.select_option(label="Fjord Freight")
    page.get_by_role("combobox", name="Assign to").select_option(label="Şule Yılmaz")
    page.get_by_role("textbox", name="Message to them").fill("You know these printers.")
    page.get_by_role("button", name="Save").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Label printer jams")
    reference = re.search(r"SUP-\d+", heading.inner_text()).group(0)
    expect(page.get_by_role("status").filter(has_text="created")).to_contain_text(f"{reference} was created.")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("asked, awaiting an answer")
    expect(details.get_by_role("link", name="Fjord Freight")).to_be_visible()
    requests = page.get_by_role("region", name="Requests")
    expect(requests).to_contain_text("Sune Sørensen asked Şule Yılmaz")
    sign_out(page)

    sign_in(page, live_server.url, "support2")
    awaiting = page.get_by_role("region", name="Awaiting my answer")
    expect(awaiting).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    expect(page.get_by_role("link", name=re.compile(r"Awaiting my answer.*1"))).to_be_visible()
    page.goto(f"{live_server.url}/")
    awaiting = page.get_by_role("region", name="Awaiting my answer")
    awaiting.get_by_role("link", name=re.compile(reference)).click()

    answer = page.get_by_role("region", name="Awaiting your answer")
    expect(answer).to_contain_text("Sune Sørensen asked you to handle this item")
    expect(answer).to_contain_text("You know these printers.")
    answer.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status").filter(has_text="accepted")).to_contain_text(f"You accepted {reference}")
    expect(page.get_by_role("region", name="My copy")).to_be_visible()
    expect(page.get_by_role("region", name="Awaiting your answer")).to_have_count(0)

    page.get_by_role("link", name="Rapport", exact=True).click()
    tasks = page.get_by_role("region", name="My Current Tasks")
    expect(tasks.get_by_role("link", name=f"{reference}: Label printer jams")).to_be_visible()
    expect(page.get_by_role("region", name="Awaiting my answer")).to_have_count(0)

    # Assigned to me on the Support list; the item's page at phone width keeps its parts usable.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    page.get_by_role("link", name="Assigned to me").click()
    results = page.locator("#results")
    expect(results.get_by_role("link", name=reference)).to_be_visible()
    page.set_viewport_size(PHONE)
    results.get_by_role("link", name=reference).click()
    expect(page.get_by_role("region", name="My copy")).to_be_visible()
    expect(page.get_by_role("region", name="History")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
