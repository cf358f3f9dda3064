"""The pipeline board in a real browser: drag a deal to another stage, and move one from the keyboard.

Locators are the accessible ones (label, role, name): if the board loses its labels, these tests fail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rapport.sales import services
from rapport.sales.models import Opportunity, OpportunityStageChange, PipelineStage
from tests.e2e.test_account_flow import PHONE, no_horizontal_overflow
from tests.e2e.test_calendar_flow import sign_in_home
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]


def stage(name: str) -> PipelineStage:
    return PipelineStage.objects.get(pipeline__is_default=True, name=name)


def column(page: Page, name: str):
    return page.get_by_role("region", name=name, exact=False).filter(
        has=page.get_by_role("heading", level=2, name=name))


def test_dragging_a_card_to_another_column_moves_the_deal(page: Page, live_server) -> None:
    user = UserFactory(username="petra", first_name="Petra", last_name="Pipeline", role_slugs="sales",
                       time_zone="Europe/Berlin")
    account = AccountFactory(name="Nordwind Logistics", owner=user)
    fleet = services.opportunity_create(actor=user, data={
        "name": "Fleet renewal", "account": account, "amount": Decimal("1000"), "probability": 25,
        "expected_close_on": dt.date(2030, 6, 30)})
    services.opportunity_create(actor=user, data={"name": "Spare parts", "account": account,
                                                  "amount": Decimal("400"), "stage": stage("Proposal")})

    sign_in_home(page, live_server.url, "petra")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipeline").click()
    expect(page.get_by_role("heading", level=1, name="Pipeline")).to_be_visible()
    prospecting, proposal = column(page, "Prospecting"), column(page, "Proposal")
    card = prospecting.get_by_role("listitem").filter(has=page.get_by_role("link", name="Fleet renewal"))
    expect(card).to_contain_text("Nordwind Logistics")
    expect(card).to_contain_text("1,000.00 EUR")
    expect(proposal).to_contain_text("400.00 EUR")
    expect(proposal.locator(".board-count")).to_have_text("1")

    page.evaluate("window.notReloaded = true")
    with page.expect_response(lambda response: "/move/" in response.url):
        card.drag_to(proposal.locator(".board-cards"), source_position={"x": 12, "y": 8})

    expect(page.get_by_role("status").filter(has_text="Fleet renewal moved to Proposal.")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.evaluate("window.notReloaded === true"), "the board was swapped in place, not reloaded"
    proposal = column(page, "Proposal")
    expect(proposal.get_by_role("link", name="Fleet renewal")).to_be_visible()
    expect(column(page, "Prospecting").get_by_role("link", name="Fleet renewal")).to_have_count(0)
    # The totals of both columns follow: 1,000 + 400 at Proposal's 60 %.
    expect(proposal.locator(".board-count")).to_have_text("2")
    expect(proposal).to_contain_text("1,400.00 EUR")
    expect(proposal).to_contain_text("weighted 840.00")
    expect(column(page, "Prospecting").locator(".board-count")).to_have_text("0")

    fleet = Opportunity.objects.get(pk=fleet.pk)
    assert (fleet.stage.name, fleet.probability) == ("Proposal", 60)
    change = OpportunityStageChange.objects.filter(opportunity=fleet).latest("changed_at")
    assert (change.from_stage.name, change.to_stage.name, change.changed_by_id) == ("Prospecting", "Proposal",
                                                                                    user.pk)
    assert timezone.now() - change.changed_at < dt.timedelta(minutes=5)  # recorded when the card moved

    # The card's own form does the same from the keyboard, on the redrawn board.
    page.get_by_label("Stage for Fleet renewal").select_option(label="Negotiation")
    page.get_by_role("button", name="Move Fleet renewal").click()
    expect(page.get_by_role("status").filter(has_text="Fleet renewal moved to Negotiation.")).to_be_visible()
    expect(column(page, "Negotiation").get_by_role("link", name="Fleet renewal")).to_be_visible()
    assert Opportunity.objects.get(pk=fleet.pk).stage.name == "Negotiation"


def test_the_board_fits_a_phone_and_its_columns_scroll_sideways(page: Page, live_server) -> None:
    user = UserFactory(username="phoebe", role_slugs="sales", time_zone="Europe/Berlin")
    services.opportunity_create(actor=user, data={"name": "Pocket deal", "account": AccountFactory(owner=user)})
    page.set_viewport_size(PHONE)
    sign_in_home(page, live_server.url, "phoebe")
    page.goto(f"{live_server.url}/opportunities/board/")
    expect(page.get_by_role("link", name="Pocket deal")).to_be_visible()
    assert no_horizontal_overflow(page)
    board = page.locator(".board")
    assert board.evaluate("el => el.scrollWidth > el.clientWidth")  # the columns scroll inside the board
    for url in ("/opportunities/", "/opportunities/forecast/", "/opportunities/new/"):
        page.goto(f"{live_server.url}{url}")
        assert no_horizontal_overflow(page), url
