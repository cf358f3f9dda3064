"""Pinned query counts of the report pages, their exports, the API and the dashboard: the same for the small
world as for one with more people, deals, activities, follow-ups, items, campaigns and accounts (no query per
row or per group).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.activities.models import ActivityKind
from rapport.automation.models import FollowUp, Rule, TaskDefinition
from rapport.campaigns.models import CampaignRecipient
from tests.conftest import ApiClient, client_for
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignFactory,
    OpportunityFactory,
    SupportItemFactory,
    UserFactory,
    default_stage,
)
from tests.reports.world import build_world

pytestmark = pytest.mark.django_db

# A page: session + user (2), rights (1), the top bar's badges (support requests awaiting an answer, pending
# email: 1), then the report and the filter form's lists.
PAGES: dict[str, int] = {
    # + the groups (1), the stages to name them (1); the form: owners (1), teams (1), stages (1)
    "pipeline-by-stage": 9,
    # + the groups (1), the owners' names (1); the form: owners, teams, stages
    "pipeline-by-owner": 9,
    # + the groups (1); the form: owners, teams, stages
    "pipeline-by-month": 8,
    "won-lost": 8,
    # + the groups (1), the kinds (1), the owners' names (1); the form: owners, teams, kinds
    "activities": 10,
    # + the groups (1), the rules or the people to name them (1); the form: owners, teams, rules
    "follow-ups-by-rule": 9,
    "follow-ups-by-user": 9,
    # + the groups (1); the form: owners, teams
    "support": 7,
    # + the campaigns (1), their recipients by status (1); the form: owners, teams
    "campaigns": 8,
    # + the groups (1); the form: owners, teams
    "accounts-by-stage": 7,
}
# The filter form's lists on a page: owners and teams, and stages, kinds of activity or rules where it has them.
FORM_LISTS = dict.fromkeys(PAGES, 3) | {"support": 2, "campaigns": 2, "accounts-by-stage": 2}
# The report itself: the page less its chrome and its form.
REPORT = {kind: count - 4 - FORM_LISTS[kind] for kind, count in PAGES.items()}
# The dashboard cold: session, user, rights (3); the four tiles' reports (2 + 1 + 2 + 1).
DASHBOARD_COLD = 9
OTHER_PAGES = {
    "/reports/": 5,  # + the saved reports with their owners (1)
}


def grow(personas, n: int) -> None:
    """n more people in team A, each with a deal in two currencies, won and lost ones, activities of two
    kinds, follow-ups, support items, a campaign with recipients, and accounts in a stage."""
    definition = TaskDefinition.objects.create(name=f"More {n}", contact_message="Call.")
    rule = Rule.objects.create(name=f"More rule {n}", definition=definition, trigger="created", record_type="account")
    account = AccountFactory(owner=personas.admin)
    today = timezone.localdate()
    for index in range(n):
        person = UserFactory(team=personas.owner.team)
        OpportunityFactory(owner=person, account=account, currency="USD" if index % 2 else "EUR",
                           stage=default_stage(["Qualification", "Needs analysis"][index % 2]))
        OpportunityFactory(owner=person, account=account, stage=default_stage("Won"), is_open=False,
                           closed_on=today - dt.timedelta(days=31 * index), amount=Decimal(index))
        for kind in ("call", "email"):
            ActivityFactory(owner=person, actor=personas.admin, kind=ActivityKind.objects.get(key=kind),
                            starts_at=dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC),
                            ends_at=dt.datetime.combine(today, dt.time(10), tzinfo=dt.UTC), assignees=[person])
        task = ActivityFactory(task=True, owner=person, actor=personas.admin, assignees=[person])
        FollowUp.objects.create(rule=rule, task=task, record_type="account", record_id=account.pk,
                                period=f"g{n}-{index}", assignee=person)
        SupportItemFactory(owner=person, account=account, status=["new", "waiting"][index % 2],
                           priority=["low", "high"][index % 2])
        campaign = CampaignFactory(owner=person, status="sent")
        CampaignRecipient.objects.create(campaign=campaign, email=f"g{n}-{index}@example.com", status="bounced")
        AccountFactory(owner=person, stage="mature")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture
def counted(personas):
    build_world(personas)
    return personas


@pytest.mark.parametrize("kind", list(PAGES))
def test_report_page_export_and_api_query_counts_do_not_grow_with_rows(counted, kind):
    page, api = client_for(counted.owner), ApiClient(counted.owner)
    api.get("reports/kinds")  # the token's first use is recorded once

    def counts() -> tuple[int, int, int]:
        return (_count(page, f"/reports/{kind}/"), _count(page, f"/reports/{kind}/export/?format=csv"),
                _api(api, kind))

    small = counts()
    grow(counted, 6)
    assert counts() == small
    # The page; the export: session, user, rights and the report; the API: token, rights and the report.
    assert small == (PAGES[kind], 3 + REPORT[kind], 2 + REPORT[kind]), small


def _api(api: ApiClient, kind: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"reports/kinds/{kind}").status_code == 200
    return len(queries)


def test_the_reports_index_and_the_dashboard(counted):
    cache.clear()
    owner = client_for(counted.owner)
    manager = client_for(counted.manager)
    assert _count(owner, "/reports/") == OTHER_PAGES["/reports/"]
    cold = _count(manager, "/reports/dashboard/")
    grow(counted, 5)
    cache.clear()
    assert _count(manager, "/reports/dashboard/") == cold == DASHBOARD_COLD
    assert _count(manager, "/reports/dashboard/") == 3  # warm: the figures of a minute ago
