"""A follow-up in a real browser: a manager's rule ("no order in 60 days: call") swept by the engine
gives sales1 a follow-up; sales1 signs in, finds it in My Current Tasks on My Home, opens it, reads
the definition's message and instructions, sets it Pending with a note, then Completed, and the
status dashboard's counts move from open to closed. Locators are the accessible ones."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rapport.automation import services
from rapport.automation.models import FollowUp
from rapport.sales.services import order_create
from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]

PHONE = {"width": 390, "height": 800}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My Home")).to_be_visible()


def _quiet_account_rule(seller, manager) -> FollowUp:
    """An account of sales1's whose last order is 90 days old, and an active inactivity rule, swept."""
    account = AccountFactory(name="Fjord Freight", owner=seller, visibility="everyone")
    order_create(actor=seller, data={"account": account, "amount": "250",
                                     "ordered_on": timezone.localdate() - dt.timedelta(days=90)})
    call = services.definition_save(actor=manager, definition=None, data={
        "name": "Call about the next order",
        "contact_message": "Call the buyer about their next order.",
        "pending_message": "Waiting to hear back from the buyer.",
        "complete_message": "Called; the next order is agreed.",
        "instructions": "Look at the account's orders before the call."})
    rule = services.rule_save(actor=manager, rule=None, data={
        "name": "No order in 60 days: call", "definition": call, "trigger": "inactivity",
        "record_type": "account", "inactivity_of": "order", "days": 60, "assign_to": "owner",
        "due_in_days": 2})
    rule = services.rule_activate(actor=manager, rule=rule)
    assert services.sweep_rule(rule) == 1
    return FollowUp.objects.get(rule=rule)


def test_sales1_works_a_follow_up_from_my_home_to_completed(page: Page, live_server) -> None:
    manager = UserFactory(username="manager", first_name="Maya", last_name="Manager", role_slugs="manager")
    seller = UserFactory(username="sales1", first_name="Sam", last_name="Seller", role_slugs="sales")
    follow_up = _quiet_account_rule(seller, manager)
    assert follow_up.assignee == seller

    sign_in(page, live_server.url, "sales1")
    # The dashboard first: one open follow-up, none closed.
    page.goto(f"{live_server.url}/follow-ups/")
    expect(page.get_by_role("heading", level=1, name="Follow-up status")).to_be_visible()
    expect(page.get_by_text("1 open, 0 closed.")).to_be_visible()
    per_rule = page.get_by_role("region", name="Per rule")
    expect(per_rule.get_by_role("row", name="No order in 60 days: call")).to_contain_text("1")

    # My Home: the follow-up is in My Current Tasks, marked as one.
    page.goto(f"{live_server.url}/")
    tasks = page.get_by_role("region", name="My Current Tasks")
    link = tasks.get_by_role("link", name="Call about the next order: Fjord Freight")
    expect(link).to_be_visible()
    expect(tasks.get_by_role("listitem").filter(has_text="Fjord Freight")).to_contain_text("follow-up")
    link.click()

    # The follow-up: the message for its stage, the instructions, the account one click away.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Call about the next order: Fjord Freight")
    expect(page.get_by_role("region", name="What to do")).to_contain_text("Call the buyer about their next order.")
    expect(page.get_by_role("region", name="Instructions")).to_contain_text("Look at the account's orders")
    expect(page.get_by_role("link", name=re.compile(r"Open account Fjord Freight", re.IGNORECASE))).to_be_visible()

    # Pending needs a note.
    page.get_by_role("button", name="Pending").click()
    expect(page.get_by_role("region", name="Set its stage")).to_contain_text("Say what the follow-up waits for.")
    page.get_by_role("textbox", name="Note").fill("Left a message with the buyer; they call back Friday.")
    page.get_by_role("button", name="Pending").click()
    expect(page.get_by_role("status").filter(has_text="now")).to_contain_text("The follow-up is now pending.")
    expect(page.get_by_role("region", name="Pending")).to_contain_text("Waiting to hear back from the buyer.")
    expect(page.get_by_role("region", name="Task and notes")).to_contain_text("they call back Friday")

    # Still on My Home while pending, marked so.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("region", name="My Current Tasks").get_by_role("listitem").filter(
        has_text="Fjord Freight")).to_contain_text("pending")
    page.get_by_role("region", name="My Current Tasks").get_by_role(
        "link", name="Call about the next order: Fjord Freight").click()

    # Completed; at phone width, as a seller in the field would.
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Completed").click()
    expect(page.get_by_role("status").filter(has_text="now")).to_contain_text("The follow-up is now completed.")
    expect(page.get_by_role("region", name="Completed").first).to_contain_text("Called; the next order is agreed.")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()

    # Off My Current Tasks, and the dashboard counts it closed.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("region", name="My Current Tasks").get_by_role(
        "link", name="Call about the next order: Fjord Freight")).to_have_count(0)
    page.goto(f"{live_server.url}/follow-ups/")
    expect(page.get_by_text("0 open, 1 closed.")).to_be_visible()
    follow_up.task.refresh_from_db()
    assert follow_up.task.status == "completed"
