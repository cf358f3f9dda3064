"""Export in a real browser: a sales user filters the contact list, opens the Export menu in the header and
downloads the list as CSV and XLSX; the files hold the filtered contacts only, with the header the list
shows. The menu fits the header at phone width. Screenshots at desktop (1280) and phone (390) width go to
RAPPORT_SCREENSHOTS (a folder), when set."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

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
        page.screenshot(path=f"{folder}/{name}-{label}.png", full_page=False)
    page.set_viewport_size(DESKTOP)


def _download(page: Page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    path = info.value.path()
    return Path(path).read_bytes()


def test_a_user_exports_the_filtered_contact_list(page: Page, live_server) -> None:
    sam = UserFactory(username="sam", first_name="Sam", last_name="Sales", role_slugs="sales")
    nordwind = AccountFactory(owner=sam, name="Nordwind Logistik")
    for first, last in (("Anna", "Berg"), ("Bernd", "Bergmann"), ("Clara", "Dorn")):
        ContactFactory(owner=sam, account=nordwind, first_name=first, last_name=last, phone="+47 22 33 44 55",
                       email=f"{first.lower()}@nordwind.example")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("heading", level=1, name="Contacts")).to_be_visible()

    # Filter the list as the user types; the Export links follow the filter without a reload.
    page.get_by_role("searchbox", name="Search").fill("berg")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=berg"))
    menu = page.locator("details.export-menu")
    menu.locator("summary").click()
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
    expect(page.get_by_role("link", name="Export vCard")).to_be_visible()
    _shot(page, "contacts-export-menu")

    text = _download(page, "Export CSV").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sorted(row["Last name"] for row in rows) == ["Berg", "Bergmann"]
    assert rows[0]["Account"] == "Nordwind Logistik"
    assert rows[0]["Phone"] == "'+47 22 33 44 55"  # marked as text: no spreadsheet takes it for a formula

    menu.locator("summary").click()
    workbook = load_workbook(io.BytesIO(_download(page, "Export XLSX")))
    sheet = workbook.worksheets[0]
    assert sheet.max_row == 3
    assert {sheet.cell(row=r, column=2).value for r in (2, 3)} == {"Berg", "Bergmann"}
    assert sheet.cell(row=2, column=8).value == "+47 22 33 44 55"

    # At phone width the header keeps its title, actions and menu on screen: nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    menu.locator("summary").click()
    expect(page.get_by_role("link", name="Export XLSX")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    box = page.get_by_role("link", name="Export vCard").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.set_viewport_size(DESKTOP)


def test_the_menu_sits_in_each_list_header(page: Page, live_server) -> None:
    UserFactory(username="olga", first_name="Olga", last_name="Orders", role_slugs="sales")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for path, heading in (("/orders/", "Orders"), ("/support/", "Support"), ("/opportunities/", "Opportunities")):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        page.locator("details.export-menu summary").click()
        expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
        expect(page.get_by_role("link", name="Export vCard")).to_have_count(0)
        page.keyboard.press("Escape")
        expect(page.get_by_role("link", name="Export CSV")).to_be_hidden()
        _shot(page, f"{path.strip('/')}-export-menu")
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        page.set_viewport_size(DESKTOP)
