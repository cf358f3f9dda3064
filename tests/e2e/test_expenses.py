"""Expenses in a real browser: a seller records an expense with its receipt and submits it; their manager
finds it under "To approve" and approves it; the seller sees it approved. The pages fit a phone's width.

Locators are the accessible ones (label, role, name): if the expense pages lose their labels, these tests
fail. Screenshots of each step go to RAPPORT_SCREENSHOTS (when set), at 1280 and 390 pixels wide.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rapport.documents.models import Document
from rapport.expenses.models import Expense, ExpenseCategory
from tests.e2e.test_calendar_flow import sign_in_home, sign_out_by_forgetting
from tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]
DESKTOP = {"width": 1280, "height": 900}
PHONE_390 = {"width": 390, "height": 844}


def _shot(page: Page, name: str) -> None:
    """The page at both widths, when RAPPORT_SCREENSHOTS names a folder."""
    folder = os.environ.get("RAPPORT_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", DESKTOP), ("390", PHONE_390)):
        page.set_viewport_size(size)
        page.screenshot(path=f"{folder}/{label}-{name}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_seller_submits_an_expense_that_the_manager_approves(page: Page, live_server, settings,
                                                              tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    for position, name in enumerate(("Travel", "Meals", "Lodging", "Materials", "Other")):
        ExpenseCategory.objects.get_or_create(name=name, defaults={"position": position})
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role_slugs="manager")
    team = TeamFactory(name="North", manager=manager)
    UserFactory(username="sam", first_name="Sam", last_name="Seller", role_slugs="sales", team=team)
    receipt = tmp_path / "taxi-receipt.txt"
    receipt.write_text("RECEIPT\nTaxi to Nordwind Logistics\nTotal 42.50 EUR\n")
    page.set_viewport_size(DESKTOP)

    sign_in_home(page, live_server.url, "sam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Expenses").click()
    expect(page.get_by_role("heading", level=1, name="Expenses")).to_be_visible()
    page.get_by_role("link", name="New expense").click()
    expect(page.get_by_role("heading", level=1, name="New expense")).to_be_visible()
    page.get_by_label("Date").fill((dt.date.today() - dt.timedelta(days=2)).isoformat())
    page.get_by_label("Amount").fill("42.50")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Category").select_option(label="Travel")
    page.get_by_label("Description").fill("Taxi to Nordwind Logistics")
    page.get_by_label("Billable to the customer").check()
    page.get_by_label("Receipt").set_input_files(str(receipt))
    _shot(page, "expense-form")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Travel: 42.50 EUR")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    expect(page.get_by_role("link", name="taxi-receipt.txt", exact=True)).to_be_visible()
    # In the Receipt card (the Files panel below lists the same document with a Download link of its own).
    receipt_card = page.locator("section", has=page.locator("#receipt-heading"))
    expect(receipt_card.get_by_role("link", name="Download taxi-receipt.txt")).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submitted")
    expect(page.get_by_role("status").filter(has_text="Your expense was submitted for approval.")).to_be_visible()
    _shot(page, "expense-submitted")
    expense = Expense.objects.get()
    assert Document.objects.filter(about_type="expense", about_id=expense.pk).count() == 1

    sign_out_by_forgetting(page)
    sign_in_home(page, live_server.url, "mona")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Expenses").click()
    page.get_by_role("link", name="To approve").click()
    expect(page.get_by_role("heading", level=1, name="Expenses to approve")).to_be_visible()
    table = page.get_by_role("table", name="Expenses waiting for your decision, oldest first")
    expect(table).to_contain_text("Sam Seller")
    expect(table).to_contain_text("42.50 EUR")
    _shot(page, "expense-approvals")
    table.get_by_role("button", name="Approve Sam Seller, 42.50 EUR").click()
    expect(page.get_by_role("status").filter(has_text="The expense was approved.")).to_be_visible()
    expect(page.get_by_role("table", name="Expenses waiting for your decision, oldest first")).to_contain_text(
        "Nothing waits for your decision.")
    expense.refresh_from_db()
    assert (expense.status, expense.approver) == ("approved", manager)

    page.get_by_role("link", name="Totals").click()
    expect(page.get_by_role("table", name="Expense totals")).to_contain_text("42.50 EUR")
    _shot(page, "expense-totals")

    sign_out_by_forgetting(page)
    sign_in_home(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/expenses/{expense.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    expect(page.get_by_text("Approved by")).to_be_visible()
    _shot(page, "expense-approved")
    page.set_viewport_size(PHONE_390)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the expense page is {width}px wide on a 390px phone"
