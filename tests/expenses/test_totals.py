"""Totals per project, account, user and month against sums worked out by hand: each currency on its own
row, never added to another; approved and reimbursed expenses by default; only what the reader may see."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import ApiClient, client_for
from tests.expenses.factories import expense, project
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas):
    first = AccountFactory(owner=personas.owner, name="Acme")
    second = AccountFactory(owner=personas.owner, name="Brick")
    rollout = project(personas.owner, account=first, name="Rollout")
    approve = {"status": "approved", "decider": personas.manager}
    expense(personas.owner, amount="10.00", currency="EUR", project=rollout, spent_on=dt.date(2026, 1, 10), **approve)
    expense(personas.owner, amount="5.50", currency="EUR", project=rollout, spent_on=dt.date(2026, 1, 20), **approve)
    expense(personas.owner, amount="20.00", currency="USD", project=rollout, spent_on=dt.date(2026, 2, 3), **approve)
    expense(personas.teammate, amount="7.25", currency="EUR", account=second, spent_on=dt.date(2026, 2, 14),
            **approve)
    expense(personas.teammate, amount="100.00", currency="GBP", spent_on=dt.date(2026, 2, 28),
            status="reimbursed", decider=personas.manager)
    # Not counted by default: a draft, one awaiting a decision, a rejected one.
    expense(personas.owner, amount="999.00", spent_on=dt.date(2026, 1, 11))
    expense(personas.owner, amount="50.00", spent_on=dt.date(2026, 1, 12), status="submitted")
    expense(personas.owner, amount="70.00", spent_on=dt.date(2026, 1, 13), status="rejected", decider=personas.manager)
    return {"rollout": rollout, "first": first, "second": second}


def _rows(user, by, **filters):
    response = ApiClient(user).get("expenses/totals", by=by, **filters)
    assert response.status_code == 200, response.content
    return [(row["name"], row["currency"], row["total"], row["count"]) for row in response.json()["items"]]


def test_totals_per_project_account_user_and_month(personas, world):
    manager = personas.manager
    assert sorted(_rows(manager, "project")) == sorted([
        ("Rollout", "EUR", "15.50", 2), ("Rollout", "USD", "20.00", 1),
        ("(no project)", "EUR", "7.25", 1), ("(no project)", "GBP", "100.00", 1)])
    assert sorted(_rows(manager, "account")) == sorted([
        ("Acme", "EUR", "15.50", 2), ("Acme", "USD", "20.00", 1),
        ("Brick", "EUR", "7.25", 1), ("(no account)", "GBP", "100.00", 1)])
    owner, teammate = personas.owner.display_name, personas.teammate.display_name
    assert sorted(_rows(manager, "user")) == sorted([
        (owner, "EUR", "15.50", 2), (owner, "USD", "20.00", 1),
        (teammate, "EUR", "7.25", 1), (teammate, "GBP", "100.00", 1)])
    assert _rows(manager, "month") == [
        ("2026-02", "USD", "20.00", 1), ("2026-02", "GBP", "100.00", 1), ("2026-02", "EUR", "7.25", 1),
        ("2026-01", "EUR", "15.50", 2)]


def test_totals_count_only_what_the_reader_sees_and_follow_the_filters(personas, world):
    assert sorted(_rows(personas.owner, "user")) == sorted([
        (personas.owner.display_name, "EUR", "15.50", 2), (personas.owner.display_name, "USD", "20.00", 1)])
    assert _rows(personas.outsider, "month") == []
    assert _rows(personas.manager, "month", status="submitted") == [("2026-01", "EUR", "50.00", 1)]
    assert _rows(personas.manager, "month", month="2026-01") == [("2026-01", "EUR", "15.50", 2)]
    assert _rows(personas.manager, "user", project=world["rollout"].public_id) == [
        (personas.owner.display_name, "EUR", "15.50", 2), (personas.owner.display_name, "USD", "20.00", 1)]


def test_the_totals_page_and_bad_parameters(personas, world):
    page = client_for(personas.manager).get("/expenses/totals/", {"by": "project"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "15.50 EUR" in text and "20.00 USD" in text and "100.00 GBP" in text
    assert client_for(personas.manager).get("/expenses/totals/", {"by": "planet"}).status_code == 400
    bad = ApiClient(personas.manager).get("expenses/totals", by="planet")
    assert bad.status_code == 400 and "by" in bad.json()["errors"]
    assert ApiClient(personas.manager).get("expenses/totals", by="month", month="2026-13").status_code == 400


def test_the_export_holds_the_approved_expenses(personas, world):
    response = client_for(personas.manager).get("/expenses/export/", {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 1 + 5  # the header and the five approved or reimbursed expenses
    assert "Rollout" in text and "999.00" not in text and "50.00" not in text
    xlsx = client_for(personas.manager).get("/expenses/export/", {"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client_for(personas.manager).get("/expenses/export/", {"format": "pdf"}).status_code == 400
