"""A salesperson's first minutes in Rapport, in a real browser.

Sign in, create an account, find it with search-as-you-type, open it, change it,
and read the change in its History. Then the same pages at phone width.
Locators are the accessible ones (label, role, name): if a page loses its labels,
these tests fail.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

PHONE = {"width": 375, "height": 740}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    expect(page.get_by_role("heading", name="Sign in to Rapport")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1, name="Accounts")).to_be_visible()


def name_box(page: Page):
    return page.get_by_role("textbox", name="Name", exact=True)


def assert_stylesheet_served(page: Page) -> None:
    """The page links a stylesheet and the server answers it: unstyled pages are unusable on a phone."""
    hrefs = page.locator("link[rel=stylesheet]").evaluate_all("links => links.map(l => l.getAttribute('href'))")
    assert hrefs, "the page links no stylesheet"
    for href in hrefs:
        response = page.request.get(urljoin(page.url, href))
        assert response.ok, f"stylesheet {href} answers {response.status}"


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sales_user_creates_finds_edits_and_sees_history(page: Page, live_server) -> None:
    user = UserFactory(username="sally", first_name="Sally", last_name="Seller", role_slugs="sales")
    others = [AccountFactory(name=name, owner=user) for name in ("Alpha Mills", "Borealis Trading", "Crown Foods")]
    AccountFactory(name="Zenith Group", owner=user)  # shares the first letter: search must narrow as one types

    sign_in(page, live_server.url, "sally")
    results = page.locator("#results")
    for other in others:
        expect(results.get_by_role("link", name=other.name)).to_be_visible()

    # Create an account through the form.
    page.get_by_role("link", name="New account").click()
    expect(page.get_by_role("heading", level=1, name="New account")).to_be_visible()
    name_box(page).fill("Zephyr Instruments")
    page.get_by_label("Website").fill("zephyr.example")
    page.get_by_label("Industry").fill("Manufacturing")
    # The parent account is picked with the htmx lookup: type, then choose.
    page.get_by_role("searchbox", name="Find Parent account").press_sequentially("Crow", delay=30)
    parent = page.get_by_role("combobox", name="Parent account")
    expect(parent.get_by_role("option", name="Crown Foods")).to_have_count(1)
    parent.select_option(label="Crown Foods")
    page.get_by_label("Remarks").fill("Met at the fair.\nregion=north")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1, name="Zephyr Instruments")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="created")).to_contain_text("Zephyr Instruments was created.")
    expect(page.get_by_role("link", name="region=north")).to_be_visible()
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_role("link", name="Crown Foods")).to_be_visible()

    # Find it in the list by typing: htmx swaps the results without a page load.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(results.get_by_role("link", name="Alpha Mills")).to_be_visible()
    page.evaluate("window.__samePage = true")
    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("ze", delay=40)
    expect(results).to_contain_text("2 found")
    expect(results.get_by_role("link", name="Zenith Group")).to_be_visible()
    expect(results.get_by_role("link", name="Alpha Mills")).to_have_count(0)
    search.press_sequentially("ph", delay=40)  # keeps narrowing after the URL has changed
    expect(results.get_by_role("link", name="Zephyr Instruments")).to_be_visible()
    expect(results.get_by_role("link", name="Zenith Group")).to_have_count(0)
    expect(results).to_contain_text("1 found")
    expect(page.locator("#results-status")).to_have_text("1 found")
    expect(page).to_have_url(re.compile(r"[?&]q=zeph(&|$)"))
    assert page.url.count("q=") == 1, f"the pushed URL repeats the query: {page.url}"
    assert page.evaluate("window.__samePage === true"), "search reloaded the page instead of swapping results"

    # The attribute from the remarks filters the list too.
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_role("textbox", name="Attribute").fill("region:north")
    page.get_by_role("button", name="Filter").click()
    expect(results.get_by_role("link", name="Zephyr Instruments")).to_be_visible()
    expect(results.get_by_role("link", name="Borealis Trading")).to_have_count(0)

    # Open it and edit it.
    results.get_by_role("link", name="Zephyr Instruments").click()
    expect(page.get_by_role("heading", level=1, name="Zephyr Instruments")).to_be_visible()
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1, name="Edit Zephyr Instruments")).to_be_visible()
    expect(page.get_by_label("Industry")).to_have_value("Manufacturing")
    # The form shows the record as it is: its owner and its parent are chosen, not blank.
    expect(page.get_by_role("combobox", name="Owner").locator("option:checked")).to_have_text("Sally Seller")
    expect(page.get_by_role("combobox", name="Parent account").locator("option:checked")).to_have_text("Crown Foods")
    page.get_by_label("Industry").fill("Energy")
    page.get_by_role("combobox", name="Relationship stage").select_option(label="Growing")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_contain_text("Your changes were saved.")

    # The History panel says who changed which field from what to what.
    history = page.get_by_role("region", name="History")
    expect(history).to_be_visible()
    newest = history.get_by_role("listitem").first
    expect(newest).to_contain_text("Sally Seller")
    industry = re.compile(r"^\s*industry\s*$", re.IGNORECASE)  # the field's name or its label
    industry_row = newest.get_by_role("row").filter(has=page.get_by_role("cell", name=industry))
    expect(industry_row.get_by_role("cell")).to_have_text([industry, "Manufacturing", "Energy"])
    expect(history.get_by_role("listitem").last).to_contain_text("created")
    expect(details).to_contain_text("Energy")
    expect(details.get_by_role("link", name="Crown Foods")).to_be_visible()  # the edit kept the parent


def test_phone_width_lists_detail_and_form_are_usable(page: Page, live_server) -> None:
    page.set_viewport_size(PHONE)
    user = UserFactory(username="pia", first_name="Pia", last_name="Phone", role_slugs="sales")
    account = AccountFactory(
        name="Extraordinarily Long Company Name Incorporated International Holdings", owner=user,
        website="https://a-very-long-subdomain.of-a-rather-long-domain-name.example/with/a/long/path",
        email="procurement.department.head@extraordinarily-long-company-name.example", industry="Logistics",
        remarks="region=north\nA remark that goes on and on without much of a break: " + "x" * 80,
    )
    sign_in(page, live_server.url, "pia")
    assert_stylesheet_served(page)

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Accounts")).to_be_visible()
    expect(nav.get_by_role("link", name="Contacts")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    expect(page.locator("#results").get_by_role("link", name=account.name)).to_be_visible()
    assert no_horizontal_overflow(page), "account list scrolls sideways at phone width"

    page.locator("#results").get_by_role("link", name=account.name).click()
    expect(page.get_by_role("heading", level=1, name=account.name)).to_be_visible()
    expect(page.get_by_role("region", name="History")).to_be_visible()
    expect(nav.get_by_role("link", name="Accounts")).to_be_visible()
    assert no_horizontal_overflow(page), "account page scrolls sideways at phone width"

    page.goto(f"{live_server.url}/accounts/new/")
    expect(page.get_by_role("heading", level=1, name="New account")).to_be_visible()
    assert no_horizontal_overflow(page), "account form scrolls sideways at phone width"
    # An empty name is refused with a message next to the field.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Name: This field is required.")
    expect(name_box(page)).to_have_attribute("aria-invalid", "true")
    expect(name_box(page)).to_have_accessible_description(re.compile("This field is required."))
    assert no_horizontal_overflow(page), "account form with errors scrolls sideways at phone width"
    page.get_by_role("alert").get_by_role("link", name="Name").click()
    expect(name_box(page)).to_be_focused()

    name_box(page).fill("Pocket Ventures")
    page.get_by_label("Remarks").fill("region=south")
    save = page.get_by_role("button", name="Save")
    save.scroll_into_view_if_needed()
    expect(save).to_be_in_viewport()
    save.click()
    expect(page.get_by_role("heading", level=1, name="Pocket Ventures")).to_be_visible()
    expect(page.get_by_role("link", name="region=south")).to_be_visible()
    assert no_horizontal_overflow(page)
