"""Merging two contacts through the pages, in a real browser.

A salesperson opens the likely duplicates from the contact list, compares the two records of the same
person, keeps the mobile number of the second, merges, and finds one contact with the notes of both and
the merge in its history. Then the duplicates list and the merge page at phone width, without sideways
scrolling. Screenshots go to $RAPPORT_SHOTS (when set) for a visual review.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rapport.directory.models import Contact
from rapport.directory.services import account_create, contact_create
from tests.factories import PASSWORD, NoteFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

PHONE = {"width": 390, "height": 844}


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("RAPPORT_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def no_horizontal_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sales_user_merges_two_contacts_through_the_pages(page: Page, live_server) -> None:
    user = UserFactory(username="sally", first_name="Sally", last_name="Seller", role_slugs="sales")
    acme = account_create(actor=user, data={"name": "Acme Tools"})
    first = contact_create(actor=user, data={"first_name": "Anna", "last_name": "Berg", "account": acme,
                                             "email": "anna.berg@acme.example", "phone": "+47 22 00 00 01",
                                             "title": "Buyer"})
    second = contact_create(actor=user, confirm_duplicate=True, data={
        "first_name": "Anna", "last_name": "Berg", "account": acme, "email": "ANNA.BERG@acme.example",
        "mobile": "+47 900 00 002", "remarks": "Met at the fair. lang=sv"})
    NoteFactory(owner=user, about=first, body="Prefers calls before 10.")
    NoteFactory(owner=user, about=second, body="Asked for the price list.")

    sign_in(page, live_server.url, "sally")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Duplicates").click()
    expect(page.get_by_role("heading", level=1, name="Likely duplicate contacts")).to_be_visible()
    group = page.get_by_role("region", name="Same email anna.berg@acme.example")
    expect(group).to_contain_text("Same or similar name at the same account")  # found both ways: one group
    expect(group.get_by_role("row")).to_have_count(3)  # the header and the two of them
    shot(page, "desktop-duplicates")

    group.get_by_role("link", name="Compare and merge").click()
    expect(page.get_by_role("heading", level=1, name="Merge Anna Berg into Anna Berg")).to_be_visible()
    mobile = page.get_by_role("group", name="Mobile")
    expect(mobile.get_by_role("radio", name="+47 900 00 002")).to_be_checked()  # the one who has it
    title = page.get_by_role("group", name="Title")
    expect(title.get_by_role("radio", name="Buyer")).to_be_checked()
    page.get_by_role("group", name="Remarks").get_by_role("radio", name="Merged in: Met at the fair. lang=sv").check()
    expect(page.get_by_role("region", name="What moves to Anna Berg")).to_contain_text("1 note")
    shot(page, "desktop-merge")
    page.get_by_role("button", name="Merge Anna Berg into this record").click()

    expect(page.get_by_role("status").filter(has_text="merged")).to_contain_text(
        "Anna Berg was merged into Anna Berg.")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("+47 22 00 00 01")
    expect(details).to_contain_text("+47 900 00 002")
    expect(page.get_by_role("link", name="lang=sv")).to_be_visible()
    notes = page.locator("section", has=page.get_by_role("heading", name="Notes"))
    expect(notes).to_contain_text("Prefers calls before 10.")
    expect(notes).to_contain_text("Asked for the price list.")
    history = page.get_by_role("region", name="History")
    newest = history.get_by_role("listitem").first
    expect(newest).to_contain_text("Sally Seller")
    expect(newest).to_contain_text("merged")
    expect(newest).to_contain_text(f"Anna Berg ({second.public_id})")
    assert Contact.objects.get(pk=second.pk).deleted_at is not None
    assert page.url.endswith(f"/contacts/{first.public_id}/")

    # The pair is gone from the duplicates list.
    page.goto(f"{live_server.url}/contacts/duplicates/")
    expect(page.get_by_text("No likely duplicates found.")).to_be_visible()


def test_duplicates_and_merge_pages_at_phone_width(page: Page, live_server) -> None:
    user = UserFactory(username="pia", first_name="Pia", last_name="Phone", role_slugs="sales")
    acme = account_create(actor=user, data={"name": "Extraordinarily Long Company Name Incorporated"})
    long_email = "procurement.department.head@extraordinarily-long-company-name.example"
    first = contact_create(actor=user, data={"first_name": "Maximiliane", "last_name": "Oberstleutnant-Berg",
                                             "account": acme, "email": long_email})
    second = contact_create(actor=user, confirm_duplicate=True, data={
        "first_name": "Maximiliane", "last_name": "Oberstleutnant-Berg", "account": acme,
        "email": long_email.upper(), "remarks": "A long remark " * 20})
    for account in ("Twin Co", "Twin Co."):
        account_create(actor=user, confirm_duplicate=True, data={"name": account, "website": "twin.example"})

    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "pia")
    for path, heading in (("/contacts/duplicates/", "Likely duplicate contacts"),
                          ("/accounts/duplicates/", "Likely duplicate accounts"),
                          (f"/contacts/{first.public_id}/merge/?other={second.public_id}",
                           "Merge Maximiliane Oberstleutnant-Berg into Maximiliane Oberstleutnant-Berg"),
                          (f"/contacts/{first.public_id}/merge/", "Merge Maximiliane Oberstleutnant-Berg with…")):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        assert no_horizontal_overflow(page), f"{path} scrolls sideways at phone width"
        shot(page, "phone-" + path.strip("/").replace("/", "-").split("?")[0])
    page.goto(f"{live_server.url}/contacts/duplicates/")
    compare = page.get_by_role("link", name="Compare and merge")
    expect(compare).to_be_visible()
    box = compare.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
