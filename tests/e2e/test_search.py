"""Global search in a real browser: "/" focuses the top bar's box, a partial name with a typo brings the
contact up among the suggestions, the arrow keys and Enter open it; Enter alone opens the results page.
Screenshots of the suggestions and the results page at desktop and phone width go to /tmp/shots/search/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, AccountFactory, ContactFactory, NoteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

SHOTS = Path(os.environ.get("RAPPORT_SHOTS", "/tmp/shots/search"))
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 800}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()
    # The heading can show before the deferred scripts have run; a "/" pressed then finds no listener.
    page.wait_for_load_state("load")


@pytest.fixture
def sales(transactional_db):
    user = UserFactory(username="sales1", first_name="Sam", last_name="Seller", role_slugs="sales")
    acme = AccountFactory(owner=user, name="Acme Corporation", industry="Manufacturing")
    ContactFactory(owner=user, first_name="John", last_name="Smith", title="Buyer", account=acme,
                   email="john.smith@acme.example")
    ContactFactory(owner=user, first_name="Johanna", last_name="Smithers", account=acme)
    ContactFactory(owner=user, first_name="Jörg", last_name="Müller", title="CTO")
    NoteFactory(owner=user, about=acme, body="John Smith asked for the spring price list before Friday.")
    return user


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_slash_then_a_typo_then_the_contact_from_the_suggestions(page: Page, live_server, sales) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sales1")
    box = page.get_by_role("combobox", name="Search")
    expect(box).to_have_attribute("id", "global-search")

    page.keyboard.press("/")
    expect(box).to_be_focused()
    box.press_sequentially("jonh smi", delay=40)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions).to_be_visible()
    option = suggestions.get_by_role("option", name=re.compile(r"^John Smith Buyer"))
    expect(option).to_have_count(1)
    expect(option.locator(".search-suggestion-title mark")).to_have_text(["John", "Smi"])
    expect(box).to_have_attribute("aria-expanded", "true")
    _shot(page, "1280-suggestions")

    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "suggest-contact-1")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("John Smith")


def test_enter_opens_the_results_page_grouped_by_type(page: Page, live_server, sales) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sales1")
    box = page.get_by_role("combobox", name="Search")
    box.fill("smith")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Search")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Contacts")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Notes")).to_be_visible()
    expect(page.get_by_role("link", name="John Smith", exact=True)).to_be_visible()
    expect(box).to_have_value("smith")
    _shot(page, "1280-results")
    page.get_by_role("link", name="John Smith", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("John Smith")


def test_escape_closes_and_slash_in_a_field_is_typed(page: Page, live_server, sales) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sales1")
    page.goto(f"{live_server.url}/contacts/")
    field = page.locator("#filter-q")
    field.click()
    field.press_sequentially("a/b")
    expect(field).to_have_value("a/b")
    expect(page.locator("#global-search")).not_to_be_focused()

    box = page.get_by_role("combobox", name="Search")
    box.click()
    box.press_sequentially("mül", delay=40)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions.get_by_role("option", name="Jörg Müller")).to_be_visible()
    box.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")


def test_at_phone_width(page: Page, live_server, sales) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "sales1")
    box = page.get_by_role("combobox", name="Search")
    box.click()
    box.press_sequentially("acme", delay=40)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions.get_by_role("option", name=re.compile(r"^Acme Corporation"))).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"
    box_right = box.bounding_box()
    listbox = suggestions.bounding_box()
    assert box_right and listbox and listbox["x"] + listbox["width"] <= PHONE["width"] + 1
    _shot(page, "390-suggestions")
    box.press("Enter")
    expect(page.get_by_role("heading", level=2, name="Accounts")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the results page scrolls sideways ({width}px)"
    page.screenshot(path=str(SHOTS / "390-results.png"), full_page=True)
