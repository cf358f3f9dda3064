"""Bad input at every boundary: a clear message naming the field, and nothing stored changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.documents.models import Document
from rapport.expenses.models import Expense
from tests.conftest import ApiClient, client_for
from tests.expenses.factories import category, expense, receipt_file

pytestmark = pytest.mark.django_db

GOOD = {"spent_on": "2026-01-05", "amount": "42.50", "currency": "EUR", "category": "Travel"}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"amount": "-5"}, "amount", "The amount must be more than zero."),
    ({"amount": "0"}, "amount", "The amount must be more than zero."),
    ({"amount": "12.345"}, "amount", "Give the amount with at most 2 decimal places."),
    ({"amount": "99999999"}, "amount", "The amount may be at most 1,000,000.00."),
    ({"amount": "NaN"}, "amount", "Input should be a finite number"),
    ({"currency": "XYZ"}, "currency", "XYZ is not a currency code; use an ISO 4217 code such as EUR or USD."),
    ({"category": "Yachts"}, "category", "Choose a category: Travel, Meals, Lodging, Materials, Other."),
    ({"spent_on": "2099-01-01"}, "spent_on", "The date cannot be in the future."),
])
def test_the_api_refuses_bad_fields_by_name(personas, change, field, message):
    response = ApiClient(personas.owner).post("expenses", {**GOOD, **change})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][field] == [message]
    assert not Expense.objects.exists()


def test_a_change_with_a_bad_amount_changes_nothing(personas):
    item = expense(personas.owner)
    response = ApiClient(personas.owner).patch(f"expenses/{item.public_id}",
                                               {"version": item.version, "amount": "-1", "description": "new"})
    assert response.status_code == 422 and "amount" in response.json()["errors"]
    stored = Expense.objects.get(pk=item.pk)
    assert (stored.amount, stored.description, stored.version) == (item.amount, item.description, item.version)


def test_a_stale_version_is_a_conflict(personas):
    item = expense(personas.owner)
    api = ApiClient(personas.owner)
    assert api.patch(f"expenses/{item.public_id}", {"version": item.version, "description": "one"}).status_code == 200
    stale = api.patch(f"expenses/{item.public_id}", {"version": item.version, "description": "two"})
    assert stale.status_code == 409 and "version" in stale.json()["errors"]
    assert Expense.objects.get(pk=item.pk).description == "one"


def test_the_form_names_the_field_and_keeps_nothing(personas):
    category()
    travel = category("Travel")
    response = client_for(personas.owner).post("/expenses/new/", {
        "spent_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(), "amount": "10", "currency": "ZZZ",
        "category": travel.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The date cannot be in the future." in page or "ZZZ is not a currency code" in page
    assert not Expense.objects.exists()


def test_an_oversized_receipt_is_refused_with_the_limit_and_no_expense_is_made(personas, settings):
    settings.RAPPORT_UPLOAD_MAX_BYTES = 1000
    travel = category("Travel")
    response = client_for(personas.owner).post("/expenses/new/", {
        "spent_on": "2026-01-05", "amount": "10.00", "currency": "EUR", "category": travel.pk,
        "receipt": receipt_file(size=5000)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "files may be at most 1000 bytes" in page
    assert not Expense.objects.exists()
    assert not Document.objects.exists()
    item = expense(personas.owner)
    upload = ApiClient(personas.owner)
    answer = upload.client.post(f"/api/v1/expenses/{item.public_id}/receipt", {"file": receipt_file(size=5000)},
                                headers=upload.headers)
    assert answer.status_code == 422 and "receipt" in answer.json()["errors"]
    assert "files may be at most 1000 bytes" in answer.json()["errors"]["receipt"][0]
    assert not Document.objects.exists()


def test_a_receipt_is_stored_as_a_document_about_the_expense(personas):
    travel = category("Travel")
    response = client_for(personas.owner).post("/expenses/new/", {
        "spent_on": "2026-01-05", "amount": "10.00", "currency": "EUR", "category": travel.pk,
        "receipt": receipt_file()})
    assert response.status_code == 302
    item = Expense.objects.get()
    document = Document.objects.get()
    assert (document.about_type, document.about_id, document.folder.key if document.folder else None) == (
        "expense", item.pk, "receipts")
    assert "receipt.txt" in client_for(personas.owner).get(f"/expenses/{item.public_id}/").content.decode()
    assert ApiClient(personas.owner).get(f"expenses/{item.public_id}").json()["receipts"][0]["id"] == \
        document.public_id
