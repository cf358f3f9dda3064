"""The approval chain: a seller submits, the manager of their team approves or rejects (with a reason), the
seller fixes and submits again, the manager reimburses; nobody approves their own expense, nothing is
approved twice, and each step shows in the expense's history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.core.errors import Conflict
from rapport.core.history import history_for
from rapport.expenses import services
from rapport.expenses.models import Expense
from tests.conftest import ApiClient, client_for
from tests.expenses.factories import expense

pytestmark = pytest.mark.django_db


def _fresh(item: Expense) -> Expense:
    return Expense.objects.select_related("owner__team", "approver").get(pk=item.pk)


def test_submitted_approved_reimbursed_by_the_manager(personas):
    item = expense(personas.owner, status="submitted")
    assert item.status == "submitted" and item.submitted_at is not None
    services.expense_approve(actor=personas.manager, expense=_fresh(item))
    approved = _fresh(item)
    assert (approved.status, approved.approver) == ("approved", personas.manager)
    assert approved.decided_at is not None
    services.expense_reimburse(actor=personas.manager, expense=approved)
    done = _fresh(item)
    assert done.status == "reimbursed" and done.reimbursed_at is not None
    statuses = [entry.changes.get("status") for entry in history_for(done, user=personas.owner)]
    assert [s for s in statuses if s] == [["approved", "reimbursed"], ["submitted", "approved"],
                                          ["draft", "submitted"], [None, "draft"]]


def test_a_rejected_expense_is_fixed_and_submitted_again(personas):
    item = expense(personas.owner, status="submitted")
    services.expense_reject(actor=personas.manager, expense=_fresh(item), reason="Which customer was this for?")
    rejected = _fresh(item)
    assert rejected.status == "rejected" and rejected.rejection_reason == "Which customer was this for?"
    services.expense_update(actor=personas.owner, expense=rejected, data={"description": "Taxi to Acme"},
                            version=rejected.version)
    services.expense_submit(actor=personas.owner, expense=_fresh(item))
    again = _fresh(item)
    assert (again.status, again.description, again.rejection_reason, again.approver) == (
        "submitted", "Taxi to Acme", "", None)


def test_nobody_approves_their_own_expense(personas):
    own = expense(personas.admin, status="submitted")
    with pytest.raises(PermissionDenied, match="You cannot approve your own expense"):
        services.expense_approve(actor=personas.admin, expense=_fresh(own))
    assert _fresh(own).status == "submitted"
    response = ApiClient(personas.admin).post(f"expenses/{own.public_id}/approve", {})
    assert response.status_code == 403
    assert response.json()["detail"] == "You cannot approve your own expense."
    assert _fresh(own).status == "submitted"


def test_approving_twice_is_refused_with_the_reason(personas):
    item = expense(personas.owner, status="submitted")
    api = ApiClient(personas.manager)
    first = api.post(f"expenses/{item.public_id}/approve", {})
    assert first.status_code == 200 and first.json()["status"] == "approved"
    version = _fresh(item).version
    second = api.post(f"expenses/{item.public_id}/approve", {})
    assert second.status_code == 409
    assert second.json()["detail"] == "This expense is already approved."
    assert _fresh(item).version == version
    with pytest.raises(Conflict):
        services.expense_approve(actor=personas.manager, expense=_fresh(item))


def test_only_the_manager_of_the_submitters_team_or_an_admin_decides(personas):
    item = expense(personas.owner, status="submitted")
    # The teammate does not even see it; the outsider neither.
    for persona in (personas.teammate, personas.outsider, personas.viewer):
        assert ApiClient(persona).post(f"expenses/{item.public_id}/approve", {}).status_code == 404
    # A manager of another team who could see it (an admin made them read it) is still refused.
    stray = expense(personas.outsider, status="submitted")
    with pytest.raises(PermissionDenied, match="Only the manager"):
        services.expense_approve(actor=personas.manager, expense=_fresh(stray))
    services.expense_approve(actor=personas.admin, expense=_fresh(stray))
    assert _fresh(stray).status == "approved"


def test_rejecting_needs_a_reason(personas):
    item = expense(personas.owner, status="submitted")
    with pytest.raises(ValidationError) as caught:
        services.expense_reject(actor=personas.manager, expense=_fresh(item), reason="  ")
    assert "reason" in caught.value.message_dict
    response = ApiClient(personas.manager).post(f"expenses/{item.public_id}/reject", {"reason": ""})
    assert response.status_code == 422 and "reason" in response.json()["errors"]
    assert _fresh(item).status == "submitted"


def test_only_approved_expenses_are_reimbursed_and_only_drafts_or_rejected_ones_change(personas):
    item = expense(personas.owner, status="submitted")
    with pytest.raises(Conflict, match="already submitted"):
        services.expense_reimburse(actor=personas.manager, expense=_fresh(item))
    with pytest.raises(Conflict, match="Only a draft or a rejected expense"):
        services.expense_update(actor=personas.owner, expense=_fresh(item), data={"description": "x"},
                                version=item.version)
    with pytest.raises(PermissionDenied):  # the submitter does not reimburse themselves
        services.expense_reimburse(actor=personas.owner, expense=_fresh(expense(personas.owner, status="approved",
                                                                               decider=personas.manager)))


def test_the_manager_decides_in_the_browser(personas):
    item = expense(personas.owner, status="submitted")
    page = client_for(personas.manager).get("/expenses/approvals/")
    assert page.status_code == 200 and item.public_id in page.content.decode()
    refused = client_for(personas.manager).post(f"/expenses/{item.public_id}/reject/", {"reason": ""})
    assert refused.status_code == 400
    assert "Say why the expense is rejected" in refused.content.decode()
    approved = client_for(personas.manager).post(f"/expenses/{item.public_id}/approve/",
                                                 {"next": "/expenses/approvals/"})
    assert approved.status_code == 302 and approved["Location"] == "/expenses/approvals/"
    twice = client_for(personas.manager).post(f"/expenses/{item.public_id}/approve/")
    assert twice.status_code == 409 and "This expense is already approved." in twice.content.decode()
    own = client_for(personas.owner).post(f"/expenses/{item.public_id}/approve/")
    assert own.status_code == 403
