"""The expense pages as a user clicks through them: a new expense from a project's page, changing a rejected
expense and submitting it again, deleting a draft with an undo, the list's status filter."""

from __future__ import annotations

import pytest

from rapport.expenses.models import Expense
from tests.conftest import client_for
from tests.expenses.factories import category, expense, project

pytestmark = pytest.mark.django_db


def test_a_new_expense_from_a_project_page_is_on_the_project_and_its_account(personas):
    rollout = project(personas.owner)
    travel = category("Travel")
    client = client_for(personas.owner)
    form = client.get(f"/expenses/new/?project={rollout.public_id}").content.decode()
    assert f'<option value="{rollout.public_id}" selected>' in form
    response = client.post(f"/expenses/new/?project={rollout.public_id}", {
        "spent_on": "2026-02-02", "amount": "12.00", "currency": "eur", "category": travel.pk,
        "project": rollout.public_id, "account": "", "opportunity": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Expense.objects.get()
    assert (made.project, made.account, made.currency, made.status) == (rollout, rollout.account, "EUR", "draft")
    panel = client.get(f"/expenses/about/project:{rollout.public_id}/").content.decode()
    assert made.public_id in panel


def test_a_rejected_expense_is_changed_and_submitted_again_in_the_browser(personas):
    item = expense(personas.owner, status="rejected", decider=personas.manager)
    client = client_for(personas.owner)
    page = client.get(f"/expenses/{item.public_id}/").content.decode()
    assert "No receipt" in page and "Submit again" in page
    travel = category("Travel")
    changed = client.post(f"/expenses/{item.public_id}/edit/", {
        "spent_on": item.spent_on.isoformat(), "amount": "40.00", "currency": "EUR", "category": travel.pk,
        "description": "Taxi, with the customer's name", "version": item.version})
    assert changed.status_code == 302
    stored = Expense.objects.get(pk=item.pk)
    assert (stored.amount, stored.status) == (40, "rejected")
    submitted = client.post(f"/expenses/{item.public_id}/submit/", {"version": stored.version})
    assert submitted.status_code == 302
    assert Expense.objects.get(pk=item.pk).status == "submitted"
    # Submitted, it can no longer be changed: the edit page is refused with the reason.
    refused = client.post(f"/expenses/{item.public_id}/edit/", {
        "spent_on": item.spent_on.isoformat(), "amount": "1.00", "currency": "EUR", "category": travel.pk,
        "version": stored.version + 1})
    assert refused.status_code == 409 and "Only a draft or a rejected expense can be changed" in \
        refused.content.decode()
    assert Expense.objects.get(pk=item.pk).amount == 40


def test_the_manager_may_read_but_not_edit_a_team_expense(personas):
    item = expense(personas.owner)
    assert client_for(personas.manager).get(f"/expenses/{item.public_id}/edit/").status_code == 403
    page = client_for(personas.manager).get(f"/expenses/{item.public_id}/").content.decode()
    assert f"/expenses/{item.public_id}/edit/" not in page


def test_deleting_a_draft_offers_an_undo(personas):
    item = expense(personas.owner)
    client = client_for(personas.owner)
    response = client.post(f"/expenses/{item.public_id}/delete/", {"version": item.version}, follow=True)
    assert f"/expenses/{item.public_id}/restore/" in response.content.decode()
    assert client.get(f"/expenses/{item.public_id}/").status_code == 404
    client.post(f"/expenses/{item.public_id}/restore/")
    assert client.get(f"/expenses/{item.public_id}/").status_code == 200


def test_the_list_filters_by_status(personas):
    draft = expense(personas.owner)
    sent = expense(personas.owner, status="submitted")
    page = client_for(personas.owner).get("/expenses/", {"status": "submitted"}).content.decode()
    assert sent.public_id in page and draft.public_id not in page
    assert client_for(personas.owner).get("/expenses/", {"status": "lost"}).status_code == 400


def test_an_account_gone_out_of_sight_is_neither_named_nor_cleared_by_the_form(personas):
    from rapport.directory.models import Account
    from tests.factories import AccountFactory

    account = AccountFactory(owner=personas.outsider, name="Secret Holdings", visibility="everyone")
    item = expense(personas.owner, account=account)
    Account.objects.filter(pk=account.pk).update(visibility="private")
    client = client_for(personas.owner)
    for path in (f"/expenses/{item.public_id}/", f"/expenses/{item.public_id}/edit/"):
        assert "Secret Holdings" not in client.get(path).content.decode()
    travel = category("Travel")
    saved = client.post(f"/expenses/{item.public_id}/edit/", {
        "spent_on": item.spent_on.isoformat(), "amount": "5.00", "currency": "EUR", "category": travel.pk,
        "account": "", "project": "", "opportunity": "", "version": item.version})
    assert saved.status_code == 302
    stored = Expense.objects.get(pk=item.pk)
    assert (stored.amount, stored.account_id) == (5, account.pk)
