"""Reports in a real browser: open a report from the menu, change a filter, save it under a name and open it
again; a manager's dashboard loads on My Home; a report fits a phone's width.

Locators are the accessible ones (label, role, name): if the report page loses its labels, these tests fail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from rapport.reports.models import SavedReport
from tests.e2e.test_calendar_flow import sign_in_home
from tests.factories import AccountFactory, OpportunityFactory, TeamFactory, UserFactory, default_stage

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("default_roles")]
PHONE_390 = {"width": 390, "height": 844}


def _deals(user) -> None:
    account = AccountFactory(name="Nordwind Logistics", owner=user)
    for stage, amount, currency in (("Prospecting", "1000.00", "EUR"), ("Proposal", "2500.00", "EUR"),
                                    ("Proposal", "700.00", "USD")):
        OpportunityFactory(owner=user, account=account, stage=default_stage(stage), amount=Decimal(amount),
                           currency=currency, expected_close_on=dt.date(2030, 6, 30))


def test_open_a_report_change_a_filter_and_save_it(page: Page, live_server) -> None:
    user = UserFactory(username="rita", first_name="Rita", last_name="Reporter", role_slugs="sales")
    _deals(user)
    sign_in_home(page, live_server.url, "rita")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    page.get_by_role("link", name="Pipeline by stage").click()
    expect(page.get_by_role("heading", level=1, name="Pipeline by stage")).to_be_visible()
    # Two charts, one per currency, each an image with its own title.
    expect(page.get_by_role("img", name="Open pipeline by stage (EUR)")).to_be_visible()
    expect(page.get_by_role("img", name="Open pipeline by stage (USD)")).to_be_visible()

    page.get_by_label("Currency").fill("usd")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/reports/pipeline-by-stage/?period=any&from=&to=&owner=&team="
                             "&currency=usd&stage=")
    expect(page.get_by_role("img", name="Open pipeline by stage (EUR)")).to_have_count(0)
    table = page.get_by_role("table", name="Pipeline by stage")
    expect(table).to_contain_text("700.00")
    expect(table).not_to_contain_text("2,500.00")

    page.get_by_text("Save this report").click()
    page.get_by_label("Name").fill("My dollar deals")
    page.get_by_label("Share with").select_option("team")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="My dollar deals")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="The report was saved as My dollar deals.")).to_be_visible()
    expect(page.get_by_label("Currency")).to_have_value("USD")
    saved = SavedReport.objects.get()
    assert (saved.kind, saved.filters, saved.visibility) == ("pipeline-by-stage", {"currency": "USD",
                                                                                     "period": "any"}, "team")

    page.get_by_role("link", name="All reports").click()
    page.get_by_role("link", name="My dollar deals").click()
    expect(page.get_by_role("table", name="Pipeline by stage")).to_contain_text("700.00")


def test_a_manager_sees_the_dashboard_on_my_home_and_a_report_fits_a_phone(page: Page, live_server) -> None:
    manager = UserFactory(username="mona", first_name="Mona", last_name="Manager", role_slugs="manager")
    team = TeamFactory(name="North", manager=manager)
    seller = UserFactory(username="sven", first_name="Sven", last_name="Seller", role_slugs="sales", team=team)
    _deals(seller)
    sign_in_home(page, live_server.url, "mona")
    dashboard = page.get_by_role("region", name="Your team")
    expect(dashboard).to_be_visible()
    expect(dashboard.get_by_role("link", name="Open pipeline by stage")).to_be_visible()
    dashboard.get_by_role("link", name="Open pipeline by stage").click()
    expect(page.get_by_role("heading", level=1, name="Pipeline by stage")).to_be_visible()
    expect(page.get_by_label("Team")).to_have_value("mine")

    page.set_viewport_size(PHONE_390)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    chart = page.get_by_role("img", name="Open pipeline by stage (EUR)")
    box = chart.bounding_box()
    assert box is not None and box["width"] <= 390
    # The labels of the chart stay readable: text no smaller than 10 px once scaled to the phone.
    size = page.evaluate("""() => {
        const text = document.querySelector('svg.report-chart text.label');
        return text.getBoundingClientRect().height;
    }""")
    assert size >= 10
