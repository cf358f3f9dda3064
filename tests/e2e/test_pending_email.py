"""Pending email in a real browser: a salesperson finds messages waiting on My Home, files one to a contact
by searching for them, makes a contact of another's sender and discards a third, without leaving the page;
the filed message then shows on the contact's page. Locators are the accessible ones (label, role, name)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from rapport.mail.models import EmailMessage, EmailStatus
from tests.factories import PASSWORD, AccountFactory, ContactFactory, EmailMessageFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

PHONE = {"width": 390, "height": 800}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def test_files_a_pending_email_from_my_home(page: Page, live_server) -> None:
    sales = UserFactory(username="sales1", first_name="Sam", last_name="Seller", role_slugs="sales")
    account = AccountFactory(owner=sales, name="Fjord Freight")
    anna = ContactFactory(owner=sales, first_name="Anna", last_name="Bergström", account=account,
                          email="anna@fjord.example")
    now = dt.datetime.now(dt.UTC)
    order = EmailMessageFactory(owner=sales, subject="Order for spring", from_name="Purchasing",
                                from_address="orders@unknown.example", received_at=now - dt.timedelta(hours=1),
                                text_body="We would like 40 pallets.")
    newcomer = EmailMessageFactory(owner=sales, subject="Introduction", from_name="Cleo Dahl",
                                   from_address="cleo@newco.example", received_at=now - dt.timedelta(hours=2))
    spam = EmailMessageFactory(owner=sales, subject="You won a cruise", from_address="win@spam.example",
                               received_at=now - dt.timedelta(hours=3))

    sign_in(page, live_server.url, "sales1")
    badge = page.get_by_role("navigation", name="Main").get_by_role("link", name="Email")
    expect(badge).to_contain_text("3")
    panel = page.get_by_role("region", name="Pending email")
    expect(panel.get_by_role("listitem")).to_have_count(3)
    item = panel.get_by_role("listitem").filter(has_text="Order for spring")
    expect(item).to_contain_text("Purchasing <orders@unknown.example>")
    expect(item).to_contain_text("Matches no record")

    # File it to Anna: search, pick, file. The panel comes back without it and says so.
    item.get_by_role("searchbox", name="Find a record to file “Order for spring” to").press_sequentially(
        "Berg", delay=30)
    picker = item.get_by_role("combobox", name="File to")
    expect(picker.get_by_role("option", name="Anna Bergström <anna@fjord.example>")).to_have_count(1)
    picker.select_option(label="Anna Bergström <anna@fjord.example>")
    item.get_by_role("button", name="File", exact=True).click()
    expect(panel.get_by_role("status")).to_contain_text("“Order for spring” was filed to Anna Bergström.")
    expect(panel.get_by_role("listitem")).to_have_count(2)
    assert EmailMessage.objects.get(pk=order.pk).status == EmailStatus.FILED

    # A contact from the sender of another; discard the third.
    intro = panel.get_by_role("listitem").filter(has_text="Introduction")
    intro.get_by_role("button", name="Create contact “Cleo Dahl”").click()
    expect(panel.get_by_role("status")).to_contain_text("Cleo Dahl was created")
    expect(panel.get_by_role("listitem")).to_have_count(1)
    panel.get_by_role("button", name="Discard “You won a cruise”").click()
    expect(panel).to_contain_text("Nothing waits to be filed.")
    assert EmailMessage.objects.get(pk=newcomer.pk).status == EmailStatus.FILED
    assert EmailMessage.objects.get(pk=spam.pk).status == EmailStatus.DISCARDED

    # The filed message is on Anna's page (and her company's), and opens as itself.
    page.goto(f"{live_server.url}/contacts/{anna.public_id}/")
    page.get_by_role("link", name="Order for spring").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order for spring")

    # The discarded one is under Discarded on the Email list, and comes back from there.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Email").click()
    page.get_by_role("link", name="All I may see").click()
    page.get_by_role("combobox", name="Status").select_option(label="Discarded")
    page.locator("#results").get_by_role("link", name="You won a cruise").click()
    page.get_by_role("button", name="Restore to pending").click()
    expect(page.locator(".messages")).to_contain_text("“You won a cruise” is pending again.")

    # At phone width My Home and the message's page do not scroll sideways.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/emails/{order.public_id}/")
    expect(page.get_by_role("region", name="History")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    page.goto(f"{live_server.url}/home/")
    expect(page.get_by_role("region", name="Pending email").get_by_role("listitem")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "My Home scrolls sideways"
