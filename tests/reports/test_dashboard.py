"""The manager dashboard on My Home: loaded after the page by htmx, for managers and administrators only,
its tiles each a report over the manager's people with a link to the full report, and its figures kept a
minute per user (and rights) so a second load reads no report again."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.core.models import Visibility
from tests.conftest import client_for
from tests.factories import OpportunityFactory, SupportItemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_my_home_offers_the_dashboard_to_a_manager_and_not_to_a_sales_user(personas):
    home = client_for(personas.manager).get("/home/").content.decode()
    assert 'hx-get="/reports/dashboard/"' in home
    plain = client_for(personas.owner).get("/home/").content.decode()
    assert "/reports/dashboard/" not in plain
    assert "/reports/dashboard/" in client_for(personas.admin).get("/home/").content.decode()
    # Asked directly, the panel is empty for someone who is not a manager.
    assert client_for(personas.owner).get("/reports/dashboard/").content == b""


def test_the_tiles_count_the_managers_team_and_link_to_their_reports(personas):
    OpportunityFactory(owner=personas.owner, amount=Decimal("250.00"))
    OpportunityFactory(owner=personas.outsider, amount=Decimal("999.00"))  # team B: not the manager's
    SupportItemFactory(owner=personas.teammate, priority="urgent", status="new")
    panel = client_for(personas.manager).get("/reports/dashboard/").content.decode()
    for title in ("Open pipeline by stage", "Won and lost this quarter", "Overdue follow-ups per user",
                  "Open support items by priority"):
        assert title in panel
    assert 'href="/reports/pipeline-by-stage/?team=mine"' in panel
    assert 'href="/reports/won-lost/?period=this-quarter&amp;team=mine"' in panel
    assert 'href="/reports/support/?status=open&amp;team=mine"' in panel
    assert 'data-value="250.00"' in panel and "999" not in panel
    assert re.search(r'data-series="urgent" data-value="1"', panel)
    # The administrator manages no team: everyone's figures.
    everyone = client_for(personas.admin).get("/reports/dashboard/").content.decode()
    assert 'data-value="1249.00"' in everyone and 'href="/reports/pipeline-by-stage/"' in everyone


def test_a_second_load_within_the_minute_reads_no_report_and_a_change_of_rights_shows_at_once(personas):
    client = client_for(personas.manager)
    client.get("/reports/dashboard/")
    with CaptureQueriesContext(connection) as queries:
        warm = client.get("/reports/dashboard/")
    assert warm.status_code == 200 and "Open pipeline by stage" in warm.content.decode()
    assert len(queries) <= 3, [q["sql"] for q in queries]  # session, user, rights
    # A new member of the manager's team changes the rights: the next load counts again.
    newcomer = UserFactory(team=personas.owner.team)
    OpportunityFactory(owner=newcomer, amount=Decimal("77.00"), visibility=Visibility.TEAM)
    assert 'data-value="77.00"' in client.get("/reports/dashboard/").content.decode()


def test_the_dashboard_costs_the_same_queries_for_few_and_many_records(personas):
    client = client_for(personas.manager)

    def cold() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/dashboard/").status_code == 200
        return len(queries)

    OpportunityFactory(owner=personas.owner)
    few = cold()
    for index in range(12):
        OpportunityFactory(owner=personas.teammate if index % 2 else personas.owner, amount=Decimal(index),
                           currency="USD" if index % 3 else "EUR")
        SupportItemFactory(owner=personas.owner, priority=["low", "normal", "high", "urgent"][index % 4])
    assert cold() == few
