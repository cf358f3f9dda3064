"""The permission matrix entries of the expenses app: pages and API. See routes.py for the form.

An expense is private to its submitter whatever visibility is asked for: besides `owner`, only the manager of
team A and the administrator see it; everyone else gets 404 (as for an expense that does not exist). Only the
submitter (and the administrator) change, delete, submit it or add a receipt: the manager, who sees it, gets
403. Approving, rejecting and reimbursing are for the manager of the submitter's team and the administrator;
the submitter gets 403 ("You cannot approve your own expense"). Lists, totals and the export show each
reader what they see, so everyone opens them; creating takes the right to create records.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import CREATE, EVERYONE, OK, PERSONAS, SEE_OWNERS_RECORD, everyone, table
from tests.permissions.world import World

EXPENSE = "expense"
SUBMITTED = "submitted expense"
APPROVED = "approved expense"

SEES = {"owner", "manager", "admin"}
# Reading an expense of owner's: the owner, the manager of their team and the administrator.
EXPENSE_READERS = {persona: OK if persona in SEES else 404 for persona in PERSONAS}
# Changing it (edit, delete, submit, receipt): the owner and the administrator; the manager sees it: 403.
EXPENSE_WRITER = {**EXPENSE_READERS, "manager": 403}
# Deciding on it (approve, reject, reimburse): the manager and the administrator; never the owner (403).
EXPENSE_DECIDER = {**EXPENSE_READERS, "owner": 403}


def _form(world: World, actor: str, record: Any | None = None) -> dict[str, Any]:
    from rapport.expenses.models import ExpenseCategory

    travel, _created = ExpenseCategory.objects.get_or_create(name="Travel")
    data = {"spent_on": "2026-01-06", "amount": "12.30", "currency": "EUR", "category": str(travel.pk),
            "description": "Changed by the matrix" if record else "Made by the matrix", "account": "",
            "project": "", "opportunity": ""}
    if record is not None:
        data["version"] = str(record.version)
    return data


def _api_create(world: World, actor: str) -> dict[str, Any]:
    return {"spent_on": "2026-01-06", "amount": "12.30", "currency": "EUR", "category": "Travel",
            "description": "Made by the matrix"}


def _receipt(world: World, actor: str) -> dict[str, Any]:
    return {"file_name": "receipt.txt", "content_base64": base64.b64encode(b"Receipt from the matrix.\n").decode()}


ROUTES: list[Route] = [
    # Pages
    page("expense_list", Call("GET", table(EVERYONE, 200))),
    page("expense_approvals", Call("GET", table(EVERYONE, 200))),
    page("expense_totals", Call("GET", table(EVERYONE, 200))),
    page("expense_export", Call("GET", table(EVERYONE, 200))),
    page("expense_create", Call("GET", table(CREATE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=_form)),
    page("record_expenses", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject="account", arg="ref"),
    page("expense_detail", Call("GET", table(EXPENSE_READERS, 200)), subject=EXPENSE),
    page("expense_edit", Call("GET", table(EXPENSE_WRITER, 200)),
         Call("POST", table(EXPENSE_WRITER, 302), writes=True, version=True,
              body=lambda w, a: _form(w, a, w.subject(EXPENSE))), subject=EXPENSE),
    page("expense_delete", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_WRITER, 302), writes=True, version=True, body=version_of(EXPENSE)),
         subject=EXPENSE),
    page("expense_restore", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_WRITER, 302), writes=True), subject=f"deleted {EXPENSE}"),
    page("expense_submit", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_WRITER, 302), writes=True, version=True, body=version_of(EXPENSE)),
         subject=EXPENSE),
    page("expense_approve", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_DECIDER, 302), writes=True, version=True, body=version_of(SUBMITTED)),
         subject=SUBMITTED),
    page("expense_reject", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_DECIDER, 302), writes=True, version=True,
              body=lambda w, a: {"version": w.subject(SUBMITTED).version, "reason": "Matrix says no"}),
         subject=SUBMITTED),
    page("expense_reimburse", Call("GET", everyone(405)),
         Call("POST", table(EXPENSE_DECIDER, 302), writes=True, version=True, body=version_of(APPROVED)),
         subject=APPROVED),

    # API
    api("GET /api/v1/expenses", table(EVERYONE, 200)),
    api("GET /api/v1/expenses/totals", table(EVERYONE, 200)),
    api("POST /api/v1/expenses", table(CREATE, 201), writes=True, body=_api_create),
    api("GET /api/v1/expenses/{expense_id}", table(EXPENSE_READERS, 200), subject=EXPENSE),
    api("PATCH /api/v1/expenses/{expense_id}", table(EXPENSE_WRITER, 200), subject=EXPENSE, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(EXPENSE).version, "description": "By the matrix"}),
    api("DELETE /api/v1/expenses/{expense_id}", table(EXPENSE_WRITER, 204), subject=EXPENSE, writes=True,
        version=True),
    api("POST /api/v1/expenses/{expense_id}/restore", table(EXPENSE_WRITER, 200), subject=f"deleted {EXPENSE}",
        writes=True),
    api("POST /api/v1/expenses/{expense_id}/receipt", table(EXPENSE_WRITER, 201), subject=EXPENSE, writes=True,
        body=_receipt),
    api("POST /api/v1/expenses/{expense_id}/submit", table(EXPENSE_WRITER, 200), subject=EXPENSE, writes=True,
        version=True, body=version_of(EXPENSE)),
    api("POST /api/v1/expenses/{expense_id}/approve", table(EXPENSE_DECIDER, 200), subject=SUBMITTED, writes=True,
        version=True, body=version_of(SUBMITTED)),
    api("POST /api/v1/expenses/{expense_id}/reject", table(EXPENSE_DECIDER, 200), subject=SUBMITTED, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(SUBMITTED).version, "reason": "Matrix says no"}),
    api("POST /api/v1/expenses/{expense_id}/reimburse", table(EXPENSE_DECIDER, 200), subject=APPROVED,
        writes=True, version=True, body=version_of(APPROVED)),
]
