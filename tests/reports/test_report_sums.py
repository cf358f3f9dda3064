"""Every report's figures against sums worked out by hand over the world of tests/reports/world.py, read
through the API as the owner (who must not see the outsider's private records) and as the administrator
(who sees them)."""

from __future__ import annotations

import pytest

from tests.reports.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    return build_world(personas)


def data(api_for, user, report, **params):
    response = api_for(user).get(f"reports/kinds/{report}", **params)
    assert response.status_code == 200, response.content
    return response.json()


def cells(rows, *keys):
    return [tuple(row[key] for key in keys) for row in rows]


def test_pipeline_by_stage_per_currency(world, personas, api_for):
    body = data(api_for, personas.owner, "pipeline-by-stage")
    # Prospecting EUR: 1000.00 + 500.50; weighted (1000 x 10% + 500.50 x 20%) = 100.00 + 100.10
    assert cells(body["rows"], "stage", "currency", "deals", "amount", "weighted") == [
        ("Prospecting", "EUR", 2, "1500.50", "200.10"),
        ("Proposal", "EUR", 1, "2000.00", "1200.00"),
        ("Proposal", "USD", 1, "300.00", "150.00"),
    ]
    # Totals per currency, never across them; the outsider's private deal and the deleted one are not counted.
    assert cells(body["totals"], "currency", "deals", "amount", "weighted") == [
        ("EUR", 3, "3500.50", "1400.10"), ("USD", 1, "300.00", "150.00")]
    admin = data(api_for, personas.admin, "pipeline-by-stage")
    assert ("Negotiation", "EUR", 1, "700.00", "560.00") in cells(admin["rows"], "stage", "currency", "deals",
                                                                   "amount", "weighted")
    assert cells(admin["totals"], "currency", "deals", "amount") == [("EUR", 4, "4200.50"), ("USD", 1, "300.00")]


def test_pipeline_by_owner_and_by_month(world, personas, api_for):
    body = data(api_for, personas.owner, "pipeline-by-owner")
    owner_name, teammate_name = personas.owner.display_name, personas.teammate.display_name
    assert cells(body["rows"], "owner", "currency", "deals", "amount") == sorted([
        (owner_name, "EUR", 2, "1500.50"), (teammate_name, "EUR", 1, "2000.00"), (teammate_name, "USD", 1, "300.00")],
        key=lambda row: (row[0].casefold(), row[1]))
    assert {row["owner_id"] for row in body["rows"]} == {personas.owner.public_id, personas.teammate.public_id}

    months = data(api_for, personas.owner, "pipeline-by-month")
    assert cells(months["rows"], "month", "currency", "deals", "amount") == [
        ("2026-03", "EUR", 2, "1500.50"), ("2026-04", "EUR", 1, "2000.00"), ("2026-04", "USD", 1, "300.00")]
    # A close-date range and a currency narrow it.
    narrowed = data(api_for, personas.owner, "pipeline-by-month", **{"from": "2026-04-01", "to": "2026-04-30",
                                                                     "currency": "usd"})
    assert cells(narrowed["rows"], "month", "currency", "amount") == [("2026-04", "USD", "300.00")]
    assert narrowed["filters"] == {"from": "2026-04-01", "to": "2026-04-30", "currency": "USD"}


def test_pipeline_owner_and_team_filters(world, personas, api_for):
    mine = data(api_for, personas.teammate, "pipeline-by-stage", owner="me")
    assert cells(mine["totals"], "currency", "deals", "amount") == [("EUR", 1, "2000.00"), ("USD", 1, "300.00")]
    team_b = data(api_for, personas.admin, "pipeline-by-stage", team=personas.outsider.team.public_id)
    assert cells(team_b["rows"], "stage", "amount") == [("Negotiation", "700.00")]
    # The manager's own people (team=mine): team A, whose deals are all shared.
    managed = data(api_for, personas.manager, "pipeline-by-stage", team="mine")
    assert cells(managed["totals"], "currency", "deals") == [("EUR", 3), ("USD", 1)]


def test_won_and_lost_per_month(world, personas, api_for):
    body = data(api_for, personas.owner, "won-lost", **{"from": "2026-01-01", "to": "2026-02-28"})
    assert cells(body["rows"], "month", "currency", "won", "won_amount", "lost", "lost_amount") == [
        ("2026-01", "EUR", 1, "400.00", 1, "150.25"),
        ("2026-02", "EUR", 1, "600.00", 0, "0.00"),
        ("2026-02", "USD", 1, "250.00", 0, "0.00"),
    ]
    assert cells(body["totals"], "currency", "won", "won_amount", "lost", "lost_amount") == [
        ("EUR", 2, "1000.00", 1, "150.25"), ("USD", 1, "250.00", 0, "0.00")]
    admin = data(api_for, personas.admin, "won-lost", **{"from": "2026-02", "to": "2026-02"})
    assert ("2026-02", "EUR", 1, "600.00", 1, "80.00") in cells(admin["rows"], "month", "currency", "won",
                                                              "won_amount", "lost", "lost_amount")


def test_activities_per_user_and_kind(world, personas, api_for):
    body = data(api_for, personas.owner, "activities", **{"from": "2026-01-01", "to": "2026-01-31"})
    owner_name, teammate_name = personas.owner.display_name, personas.teammate.display_name
    expected = [(owner_name, "Call", 2, 1), (owner_name, "Meeting", 1, 0), (teammate_name, "Call", 1, 0)]
    assert cells(body["rows"], "user", "kind", "activities", "completed") == sorted(
        expected, key=lambda row: row[0].casefold())
    assert body["totals"] == [{"activities": 4, "completed": 1}]
    calls = data(api_for, personas.owner, "activities", period="any", kind="call")
    assert calls["totals"] == [{"activities": 4, "completed": 1}]  # February's call too
    assert data(api_for, personas.admin, "activities", **{"from": "2026-01-01", "to": "2026-01-31"})["totals"] == [
        {"activities": 5, "completed": 1}]


def test_follow_ups_per_rule_and_per_user(world, personas, api_for):
    by_rule = data(api_for, personas.owner, "follow-ups-by-rule")
    assert cells(by_rule["rows"], "rule", "overdue", "open", "closed", "total") == [
        ("New accounts", 1, 1, 1, 3), ("Quiet accounts", 1, 0, 0, 1)]
    by_user = data(api_for, personas.owner, "follow-ups-by-user")
    expected = [(personas.owner.display_name, 1, 1, 0), (personas.teammate.display_name, 1, 0, 1)]
    assert cells(by_user["rows"], "user", "overdue", "open", "closed") == sorted(expected,
                                                                               key=lambda r: r[0].casefold())
    assert by_user["totals"] == [{"overdue": 2, "open": 1, "closed": 1, "total": 4}]
    overdue = data(api_for, personas.admin, "follow-ups-by-user", status="overdue")
    assert overdue["totals"] == [{"overdue": 3, "open": 0, "closed": 0, "total": 3}]
    quiet = data(api_for, personas.owner, "follow-ups-by-rule", rule=world.rules["Quiet accounts"].public_id)
    assert cells(quiet["rows"], "rule", "total") == [("Quiet accounts", 1)]


def test_support_by_status_priority_and_age(world, personas, api_for):
    body = data(api_for, personas.owner, "support")
    keys = ("status_key", "priority_key", "age_0_7", "age_8_30", "age_31_90", "age_over_90", "items")
    assert cells(body["rows"], *keys) == [
        ("new", "urgent", 1, 0, 0, 0, 1),
        ("assigned", "low", 0, 1, 0, 0, 1),
        ("in_progress", "high", 0, 1, 1, 0, 2),
        ("waiting", "low", 0, 0, 0, 1, 1),
        ("resolved", "normal", 0, 0, 0, 1, 1),
        ("closed", "normal", 1, 0, 0, 0, 1),
    ]
    assert body["totals"] == [{"age_0_7": 2, "age_8_30": 2, "age_31_90": 1, "age_over_90": 2, "items": 7}]
    open_items = data(api_for, personas.owner, "support", status="open")
    assert open_items["totals"][0]["items"] == 5
    urgent = data(api_for, personas.admin, "support", priority="urgent")
    assert urgent["totals"][0]["items"] == 2  # the outsider's private one too


def test_campaign_results(world, personas, api_for):
    body = data(api_for, personas.owner, "campaigns")
    assert [row["campaign"] for row in body["rows"]] == ["Spring mailing"]
    row = body["rows"][0]
    assert {key: row[key] for key in ("sent", "replied", "bounced", "unsubscribed", "skipped", "queued", "waiting",
                                      "recipients")} == {
        "sent": 3, "replied": 1, "bounced": 1, "unsubscribed": 1, "skipped": 1, "queued": 1, "waiting": 1,
        "recipients": 9}
    admin = data(api_for, personas.admin, "campaigns")
    assert {row["campaign"]: row["recipients"] for row in admin["rows"]} == {"Spring mailing": 9, "Secret mailing": 2}
    started = data(api_for, personas.admin, "campaigns", **{"from": "2026-01-01", "to": "2026-01-31"})
    assert [row["campaign"] for row in started["rows"]] == ["Spring mailing"]  # the draft never started


def test_accounts_by_relationship_stage(world, personas, api_for):
    body = data(api_for, personas.owner, "accounts-by-stage")
    assert cells(body["rows"], "stage_key", "accounts") == [
        ("growing", 2), ("mature", 1), ("declining", 1), ("closed", 1), ("none", 1)]
    assert body["totals"] == [{"accounts": 6}]
    admin = data(api_for, personas.admin, "accounts-by-stage")
    assert cells(admin["rows"], "stage_key", "accounts")[0] == ("growing", 3)
    teammate_only = data(api_for, personas.owner, "accounts-by-stage", owner=personas.teammate.public_id)
    assert teammate_only["totals"] == [{"accounts": 2}]
