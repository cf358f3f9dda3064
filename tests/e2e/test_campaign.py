"""A campaign in a real browser: a marketer makes a static list of three people (the contact picker),
a campaign of it with an email template, previews it for one of them, starts it, and watches the
recipients go from waiting to sent as the dispatch job and the outbox worker run (to a real SMTP server
on 127.0.0.1). Then the account page shows who of the company is on the list. Locators are the
accessible ones (label, role, name).

With RAPPORT_SCREENSHOTS=<dir>, the pages are also saved there at desktop and phone width."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rapport.campaigns.services import campaign_dispatch
from tests.campaigns import deliver_all
from tests.e2e.test_calendar_flow import sign_out_by_forgetting
from tests.factories import PASSWORD, AccountFactory, ContactFactory, TemplateFactory, UserFactory
from tests.mail.smtp import smtp_listener

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 800}


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("RAPPORT_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=f"{folder}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def _fits_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    page.set_viewport_size(DESKTOP)


def test_a_marketer_sends_a_campaign_to_a_list(page: Page, live_server, settings) -> None:
    mia = UserFactory(username="mia", first_name="Mia", last_name="Marketing", role_slugs="marketing")
    account = AccountFactory(owner=mia, name="Nordwind Logistik")
    for first, last in (("Anna", "Berg"), ("Bernd", "Claus"), ("Clara", "Dorn")):
        ContactFactory(owner=mia, account=account, first_name=first, last_name=last,
                       email=f"{first.lower()}@nordwind.example")
    TemplateFactory(owner=mia, name="Spring newsletter", subject="Spring news for {{ contact.first_name }}",
                    body="Dear {{ contact.full_name }},\n\nour spring offers.\n\n{{ user.full_name }}")
    page.set_viewport_size(DESKTOP)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()

    # A static list with three people.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    page.get_by_role("link", name="Distribution lists").click()
    page.get_by_role("link", name="New list").click()
    _shot(page, "list-form")
    page.get_by_role("textbox", name="Name", exact=True).fill("Nordwind spring")
    page.get_by_role("textbox", name="Category").fill("Newsletter")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nordwind spring")
    for typed, full in (("Ber", "Anna Berg"), ("Cla", "Bernd Claus"), ("Dor", "Clara Dorn")):
        page.get_by_role("searchbox", name="Find Contact").fill("")
        page.get_by_role("searchbox", name="Find Contact").press_sequentially(typed, delay=30)
        picker = page.get_by_role("combobox", name="Contact", exact=True)
        expect(picker.get_by_role("option", name=re.compile(full))).to_have_count(1)
        picker.select_option(label=full)
        page.get_by_role("button", name="Add to the list").click()
        expect(page.get_by_role("status").filter(has_text="is on the list now")).to_contain_text(full)
    members = page.get_by_role("region", name="People on the list")
    expect(members.locator("tbody tr")).to_have_count(3)
    _fits_phone(page)
    _shot(page, "list-detail")

    # A campaign of it, previewed for Bernd, started.
    page.get_by_role("link", name="New campaign to this list").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Spring 2027")
    expect(page.get_by_role("combobox", name="Distribution list")).to_have_value(re.compile(r"[a-z2-7]{16}"))
    page.get_by_role("combobox", name="Email template").select_option(label="Spring newsletter")
    page.get_by_role("spinbutton", name="Messages per minute").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring 2027")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    preview = page.get_by_role("region", name="Preview")
    expect(page.locator("#preview")).to_contain_text("Spring news for Anna")  # the first on the list, at once
    preview.get_by_role("combobox", name="Preview for").select_option(label="Bernd Claus")
    expect(page.locator("#preview")).to_contain_text("Spring news for Bernd")
    expect(page.locator("#preview")).to_contain_text("Dear Bernd Claus")
    _shot(page, "campaign-draft")
    page.get_by_role("button", name="Start sending").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sending")
    recipients = page.get_by_role("region", name="Recipients")
    expect(recipients.get_by_role("cell", name="anna@nordwind.example")).to_be_visible()
    expect(recipients.get_by_role("link", name=re.compile(r"Waiting\s+3"))).to_be_visible()

    # The jobs run: two a minute go to the outbox, the worker sends them.
    with smtp_listener(settings) as server:
        campaign_dispatch()
        deliver_all()
        campaign_dispatch()
        page.reload()
        expect(recipients.get_by_role("link", name=re.compile(r"Sent\s+2"))).to_be_visible()
        expect(recipients.get_by_role("link", name=re.compile(r"Waiting\s+1"))).to_be_visible()
        recipients.get_by_role("link", name=re.compile(r"Sent\s+2")).click()
        expect(page.locator("#results").get_by_role("row")).to_have_count(3)  # the header and two
        assert len(server.messages) == 2
        link = re.search(r"https?://\S+/unsubscribe/[a-z2-7]+/", server.messages[0].text).group(0)
    _fits_phone(page)
    _shot(page, "campaign-sending")

    # The account page: who of the company is on which list.
    page.goto(f"{base}/accounts/{account.public_id}/")
    panel = page.get_by_role("region", name="Distribution lists")
    expect(panel.get_by_role("link", name="Nordwind spring")).to_be_visible()
    expect(panel).to_contain_text("Anna Berg")
    panel.get_by_role("combobox", name="Category").select_option("Newsletter")
    expect(page.get_by_role("region", name="Distribution lists").get_by_role("link", name="Nordwind spring")) \
        .to_be_visible()
    _fits_phone(page)
    _shot(page, "account-panel")

    page.goto(f"{base}/distribution-lists/")
    expect(page.get_by_role("link", name="Nordwind spring")).to_be_visible()
    _shot(page, "lists")

    # The unsubscribe link of a message, in a browser that is not signed in.
    sign_out_by_forgetting(page)
    page.goto(live_server.url + link.split("8000", 1)[1])
    expect(page.get_by_role("heading", level=1, name="Unsubscribe")).to_be_visible()
    _shot(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1, name="You are unsubscribed")).to_be_visible()
    expect(page.get_by_text("Nordwind")).to_have_count(0)
