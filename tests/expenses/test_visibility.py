"""Who sees an expense: its submitter, the manager of their team and administrators; never a teammate or
anyone else (404, as for a record that does not exist). The submitter cannot share it wider."""

from __future__ import annotations

import pytest

from rapport.expenses.models import Expense
from tests.conftest import ApiClient, client_for
from tests.expenses.factories import expense

pytestmark = pytest.mark.django_db


def test_a_teammate_who_is_not_the_manager_gets_404(personas):
    item = expense(personas.owner, status="submitted")
    for persona in (personas.teammate, personas.viewer, personas.marketer, personas.outsider):
        assert client_for(persona).get(f"/expenses/{item.public_id}/").status_code == 404
        assert ApiClient(persona).get(f"expenses/{item.public_id}").status_code == 404
    for persona in (personas.owner, personas.manager, personas.admin):
        assert client_for(persona).get(f"/expenses/{item.public_id}/").status_code == 200
        assert ApiClient(persona).get(f"expenses/{item.public_id}").status_code == 200


def test_lists_show_own_expenses_and_a_managers_team(personas):
    mine = expense(personas.owner)
    teammates = expense(personas.teammate)
    outsiders = expense(personas.outsider)

    def listed(user):
        return {item["id"] for item in ApiClient(user).get("expenses").json()["items"]}

    assert listed(personas.owner) == {mine.public_id}
    assert listed(personas.teammate) == {teammates.public_id}
    assert listed(personas.manager) == {mine.public_id, teammates.public_id}
    assert listed(personas.admin) == {mine.public_id, teammates.public_id, outsiders.public_id}
    page = client_for(personas.teammate).get("/expenses/").content.decode()
    assert teammates.public_id in page and mine.public_id not in page


def test_an_expense_is_private_and_cannot_be_shared(personas):
    response = ApiClient(personas.owner).post("expenses", {
        "spent_on": "2026-01-05", "amount": "10.00", "category": "Travel", "visibility": "everyone"})
    assert response.status_code == 422 and "visibility" in response.json()["errors"]
    assert not Expense.objects.exists()
    made = ApiClient(personas.owner).post("expenses", {"spent_on": "2026-01-05", "amount": "10.00",
                                                       "category": "Travel"})
    assert made.status_code == 201 and made.json()["visibility"] == "private"


def test_the_panel_of_an_account_shows_only_visible_expenses_and_their_totals(personas):
    from tests.factories import AccountFactory

    account = AccountFactory(owner=personas.owner)
    expense(personas.owner, account=account, amount="10.00", status="approved", decider=personas.manager)
    expense(personas.teammate, account=account, amount="99.00", status="approved", decider=personas.manager)
    owner_panel = client_for(personas.owner).get(f"/expenses/about/account:{account.public_id}/").content.decode()
    assert "10.00 EUR" in owner_panel and "99.00" not in owner_panel
    manager_panel = client_for(personas.manager).get(f"/expenses/about/account:{account.public_id}/")
    assert "109.00 EUR" in manager_panel.content.decode()


def test_a_receipt_is_downloaded_by_those_who_see_the_expense_only(personas):
    from rapport.documents.models import Document
    from rapport.expenses import services
    from tests.expenses.factories import receipt_file

    item = expense(personas.owner)
    services.expense_receipt_add(actor=personas.owner, expense=item, upload=receipt_file())
    document = Document.objects.get()
    url = f"/documents/{document.public_id}/download/"
    assert url in client_for(personas.owner).get(f"/expenses/{item.public_id}/").content.decode()
    for persona in (personas.owner, personas.manager):
        response = client_for(persona).get(url)
        assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    for persona in (personas.teammate, personas.outsider):
        assert client_for(persona).get(url).status_code == 404
