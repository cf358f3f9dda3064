"""The expenses API as an integration uses it: create, read, change, delete and restore; links to a project,
an account or an opportunity (the account follows the project or the opportunity); the actions."""

from __future__ import annotations

import pytest

from rapport.expenses.models import Expense
from tests.conftest import ApiClient
from tests.expenses.factories import category, expense, project, receipt_file
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def test_create_read_change_submit_delete_and_restore(personas):
    category("Meals")
    api = ApiClient(personas.owner)
    made = api.post("expenses", {"spent_on": "2026-03-04", "amount": 18.5, "currency": "usd",
                                 "category": "meals", "description": "Lunch", "billable": True})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["amount"], body["currency"], body["category"], body["status"], body["billable"]) == (
        "18.50", "USD", "Meals", "draft", True)
    expense_id = body["id"]
    changed = api.patch(f"expenses/{expense_id}", {"version": body["version"], "amount": "19.00"})
    assert changed.status_code == 200 and changed.json()["amount"] == "19.00"
    upload = api.client.post(f"/api/v1/expenses/{expense_id}/receipt", {"file": receipt_file()}, headers=api.headers)
    assert upload.status_code == 201 and upload.json()["file_name"] == "receipt.txt"
    submitted = api.post(f"expenses/{expense_id}/submit", {})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert api.patch(f"expenses/{expense_id}", {"version": submitted.json()["version"],
                                                "amount": "1.00"}).status_code == 409
    assert api.delete(f"expenses/{expense_id}").status_code == 409
    draft = expense(personas.owner)
    assert api.delete(f"expenses/{draft.public_id}").status_code == 204
    assert api.get(f"expenses/{draft.public_id}").status_code == 404
    assert api.post(f"expenses/{draft.public_id}/restore", {}).status_code == 200
    assert api.get(f"expenses/{draft.public_id}").status_code == 200


def test_the_account_follows_the_project_or_the_opportunity(personas):
    account = AccountFactory(owner=personas.owner)
    rollout = project(personas.owner, account=account)
    deal = OpportunityFactory(owner=personas.owner, account=account)
    api = ApiClient(personas.owner)
    base = {"spent_on": "2026-03-04", "amount": "10.00", "category": "Travel"}
    on_project = api.post("expenses", {**base, "project": rollout.public_id}).json()
    assert on_project["account"]["id"] == account.public_id and on_project["project"]["id"] == rollout.public_id
    on_deal = api.post("expenses", {**base, "opportunity": deal.public_id}).json()
    assert on_deal["account"]["id"] == account.public_id
    other = AccountFactory(owner=personas.owner)
    wrong = api.post("expenses", {**base, "project": rollout.public_id, "account": other.public_id})
    assert wrong.status_code == 422 and "account" in wrong.json()["errors"]
    hidden = AccountFactory(owner=personas.outsider, visibility="private")
    unseen = api.post("expenses", {**base, "account": hidden.public_id})
    assert unseen.status_code == 422 and unseen.json()["errors"]["account"] == ["No such account."]
    assert Expense.objects.count() == 2


def test_the_list_filters_and_pages(personas):
    for i in range(5):
        expense(personas.owner, amount=f"{i + 1}.00", days_ago=i + 1)
    expense(personas.owner, status="submitted")
    api = ApiClient(personas.owner)
    first = api.get("expenses", limit=3, status="draft").json()
    assert len(first["items"]) == 3 and first["next"]
    second = api.get("expenses", limit=3, status="draft", cursor=first["next"]).json()
    assert len(second["items"]) == 2 and second["next"] is None
    assert len(api.get("expenses", status="submitted").json()["items"]) == 1
    assert api.get("expenses", status="lost").status_code == 400
    assert api.get("expenses", colour="red").status_code == 400
    assert api.get("expenses", month="2026-99").status_code == 400
