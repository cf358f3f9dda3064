"""A report counts only what its reader may see: a private record of someone else's is never counted, and a
saved report shared with a team shows each teammate their own figures, not the figures of whoever saved it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rapport.core.models import Visibility
from rapport.reports import services
from rapport.reports.kinds import KINDS, run_report
from tests.conftest import client_for
from tests.factories import OpportunityFactory, default_stage

pytestmark = pytest.mark.django_db


def _total(user, kind="pipeline-by-stage", **params):
    _filters, report = run_report(KINDS[kind], params, user=user)
    return {total["currency"]: (total["deals"], total["amount"]) for total in report.totals}


def test_a_private_deal_of_someone_else_is_not_counted(personas):
    OpportunityFactory(owner=personas.owner, amount=Decimal("100.00"))
    OpportunityFactory(owner=personas.outsider, amount=Decimal("5000.00"), visibility=Visibility.PRIVATE)
    OpportunityFactory(owner=personas.teammate, amount=Decimal("40.00"), visibility=Visibility.TEAM)
    assert _total(personas.owner) == {"EUR": (2, Decimal("140.00"))}  # own + the teammate's team-shared one
    assert _total(personas.outsider) == {"EUR": (2, Decimal("5100.00"))}  # own private one + owner's public one
    assert _total(personas.admin) == {"EUR": (3, Decimal("5140.00"))}
    # Asking for the outsider's deals by name changes nothing: still only what the owner may see.
    assert _total(personas.owner, owner=personas.outsider.public_id) == {}


def test_a_team_shared_saved_report_shows_each_viewer_their_own_data(personas):
    # Owner and teammate each keep a private deal; the saved report counts "deals I may see".
    OpportunityFactory(owner=personas.owner, amount=Decimal("100.00"), visibility=Visibility.PRIVATE)
    OpportunityFactory(owner=personas.teammate, amount=Decimal("7.00"), visibility=Visibility.PRIVATE)
    saved = services.saved_report_create(actor=personas.owner, data={
        "name": "Open deals", "kind": "pipeline-by-stage", "filters": {}, "visibility": Visibility.TEAM})

    owner_page = client_for(personas.owner).get(f"/reports/saved/{saved.public_id}/")
    teammate_page = client_for(personas.teammate).get(f"/reports/saved/{saved.public_id}/")
    assert owner_page.status_code == teammate_page.status_code == 200
    assert "100.00" in owner_page.content.decode() and "7.00" not in owner_page.content.decode()
    assert "7.00" in teammate_page.content.decode() and "100.00" not in teammate_page.content.decode()

    # The API answers the same: the data of a saved report is the caller's.
    from tests.conftest import ApiClient

    owner_data = ApiClient(personas.owner).get(f"reports/{saved.public_id}/data").json()
    teammate_data = ApiClient(personas.teammate).get(f"reports/{saved.public_id}/data").json()
    assert owner_data["totals"] == [{"currency": "EUR", "deals": 1, "amount": "100.00", "weighted": "10.00"}]
    assert teammate_data["totals"] == [{"currency": "EUR", "deals": 1, "amount": "7.00", "weighted": "0.70"}]
    # Outside the team the saved report itself is hidden: 404, page and API alike.
    assert client_for(personas.outsider).get(f"/reports/saved/{saved.public_id}/").status_code == 404
    assert ApiClient(personas.outsider).get(f"reports/{saved.public_id}/data").status_code == 404


def test_the_list_of_saved_reports_holds_own_and_shared_ones_only(personas, api_for):
    def save(user, name, visibility):
        return services.saved_report_create(actor=user, data={"name": name, "kind": "support",
                                                              "visibility": visibility})

    save(personas.owner, "Mine", Visibility.PRIVATE)
    save(personas.teammate, "Team's", Visibility.TEAM)
    save(personas.teammate, "Teammate's own", Visibility.PRIVATE)
    save(personas.outsider, "Everyone's", Visibility.EVERYONE)
    save(personas.outsider, "Outsider's team", Visibility.TEAM)
    names = {item["name"] for item in api_for(personas.owner).get("reports").json()["items"]}
    assert names == {"Mine", "Team's", "Everyone's"}
    page = client_for(personas.owner).get("/reports/").content.decode()
    assert "Team&#x27;s" in page and "Teammate&#x27;s own" not in page and "Outsider&#x27;s team" not in page


def test_the_stage_and_deal_names_of_a_hidden_deal_never_show(personas):
    OpportunityFactory(owner=personas.outsider, stage=default_stage("Negotiation"), amount=Decimal("123.45"),
                       visibility=Visibility.PRIVATE)
    page = client_for(personas.owner).get("/reports/pipeline-by-stage/").content.decode()
    assert "123.45" not in page and "123,45" not in page
