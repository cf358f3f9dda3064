"""The expenses API (see docs/expenses.md): list, get, create, change, delete and restore an expense; its
receipt by multipart upload; the actions submit, approve, reject and reimburse; totals.

Handlers parse, call a selector or service, answer. A project, account or opportunity a body names is found
through the caller's visible_to: one they may not see is "No such …" on that field. Amounts go out as decimal
strings. An action that no longer fits the expense's status (approving twice) answers 409 with the reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.core.access import record_visible
from rapport.core.apitools import (
    BusinessRecordOut,
    InputSchema,
    ListParams,
    RefOut,
    UploadIn,
    UploadLimit,
    api_page,
    file_body,
    ref_out,
    refuse_nulls,
    uploaded_file,
    utc_time,
)
from rapport.core.files import human_size
from rapport.core.models import Action
from rapport.core.selectors import written
from rapport.directory.models import Account
from rapport.expenses import selectors, services
from rapport.expenses.filters import EXPENSE_FILTERS, EXPENSE_ORDERINGS, TOTALS_BY
from rapport.expenses.models import Expense

router = Router(tags=["Expenses"])

CENT = Decimal("0.01")
VERSION_HELP = "The version you read; a stale one answers 409"


def _seen(context: dict[str, Any], obj: Any) -> dict[str, str] | None:
    """A linked record, named only to a reader who may see it."""
    return ref_out(obj) if record_visible(context["request"].user, obj) else None


# --- Schemas ---------------------------------------------------------------------------------------


class ExpenseOut(BusinessRecordOut):
    spent_on: dt.date = Field(..., description="The day the money was spent")
    amount: str = Field(..., description="A decimal string with 2 decimal places")
    currency: str
    category: str
    description: str
    billable: bool
    project: RefOut | None
    account: RefOut | None
    opportunity: RefOut | None
    status: str = Field(..., description="draft, submitted, approved, rejected or reimbursed")
    submitted_at: dt.datetime | None
    approver: RefOut | None = Field(..., description="Who approved or rejected it")
    decided_at: dt.datetime | None
    rejection_reason: str
    reimbursed_at: dt.datetime | None

    @staticmethod
    def resolve_amount(obj: Expense) -> str:
        return str(obj.amount.quantize(CENT))

    @staticmethod
    def resolve_category(obj: Expense) -> str:
        return obj.category.name

    @staticmethod
    def resolve_project(obj: Expense, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.project)

    @staticmethod
    def resolve_account(obj: Expense, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)

    @staticmethod
    def resolve_opportunity(obj: Expense, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.opportunity)

    @staticmethod
    def resolve_approver(obj: Expense) -> dict[str, str] | None:
        return ref_out(obj.approver)

    @staticmethod
    def resolve_submitted_at(obj: Expense) -> dt.datetime | None:
        return utc_time(obj.submitted_at)

    @staticmethod
    def resolve_decided_at(obj: Expense) -> dt.datetime | None:
        return utc_time(obj.decided_at)

    @staticmethod
    def resolve_reimbursed_at(obj: Expense) -> dt.datetime | None:
        return utc_time(obj.reimbursed_at)


class ReceiptOut(Schema):
    id: str = Field(..., description="The document's id (GET /api/v1/documents/{id})")
    title: str
    file_name: str

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.public_id


class ExpenseDetailOut(ExpenseOut):
    receipts: list[ReceiptOut] = Field(..., description="The receipts: documents about the expense")

    @staticmethod
    def resolve_receipts(obj: Expense, context: dict[str, Any]) -> list[Any]:
        return selectors.receipts_of(user=context["request"].user, expense=obj)


class ExpensePage(Schema):
    items: list[ExpenseOut]
    next: str | None


class ExpenseListParams(ListParams):
    status: str | None = Field(None, description="draft, submitted, approved, rejected or reimbursed")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    project: str | None = Field(None, description="A project's id")
    account: str | None = Field(None, description="An account's id")
    opportunity: str | None = Field(None, description="An opportunity's id")
    category: str | None = Field(None, description="A category's name")
    billable: str | None = Field(None, description="true or false")
    month: str | None = Field(None, description="The month spent in (YYYY-MM)")
    from_: str | None = Field(None, alias="from", description="Spent on or after this date (YYYY-MM-DD)")
    to: str | None = Field(None, description="Spent on or before this date")


class TotalsParams(Schema):
    by: str = Field("month", description="project, account, user or month (default)")
    status: str | None = Field(None, description="One status; default: approved and reimbursed together")
    owner: str | None = None
    project: str | None = None
    account: str | None = None
    opportunity: str | None = None
    category: str | None = None
    billable: str | None = None
    month: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class TotalOut(Schema):
    key: str | None = Field(..., description="The group's id (a project's, account's or user's; the month "
                                             "YYYY-MM); null for expenses in no project or account")
    name: str
    currency: str
    total: str = Field(..., description="A decimal string; one row per currency, never summed across them")
    count: int

    @staticmethod
    def resolve_total(obj: Any) -> str:
        return str(obj.total.quantize(CENT))


class TotalsOut(Schema):
    by: str
    items: list[TotalOut]
    next: None = Field(None, description="Always null: totals come in one page")


class ExpenseIn(InputSchema):
    spent_on: dt.date | None = Field(None, description="The day the money was spent (YYYY-MM-DD); not in the future")
    amount: Decimal | None = Field(None, description="More than 0, at most 1,000,000, 2 decimal places")
    currency: str | None = Field(None, max_length=10, description="An ISO 4217 code; default: the company's")
    category: str | None = Field(None, max_length=80, description="A category's name (travel, meals…)")
    description: str | None = Field(None, max_length=2000)
    billable: bool | None = None
    project: str | None = Field(None, description="A project's id; its account is the expense's; '' clears it")
    account: str | None = Field(None, description="An account's id; '' clears it")
    opportunity: str | None = Field(None, description="An opportunity's id; its account is the expense's; '' "
                                                      "clears it")


class ExpenseCreate(ExpenseIn):
    spent_on: dt.date = Field(..., description="The day the money was spent (YYYY-MM-DD); not in the future")
    amount: Decimal = Field(..., description="More than 0, at most 1,000,000, 2 decimal places")
    category: str = Field(..., max_length=80, description="A category's name (travel, meals…)")


class ExpenseUpdate(ExpenseIn):
    version: int = Field(..., description=VERSION_HELP)


class ActionIn(InputSchema):
    version: int | None = Field(None, description="The version you read; a stale one answers 409")


class RejectIn(ActionIn):
    reason: str = Field(..., max_length=1000, description="Why: the submitter reads it to fix the expense")


# --- Helpers ---------------------------------------------------------------------------------------


def _find(model: Any, *, user: Any, public_id: str, field: str) -> Any:
    found = model.objects.visible_to(user).filter(public_id=public_id).first()
    if found is None:
        raise ValidationError({field: [_("No such %(type)s.") % {"type": field}]})
    return found


def _data(request: HttpRequest, body: ExpenseIn) -> dict[str, Any]:
    from rapport.projects.models import Project
    from rapport.sales.models import Opportunity

    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    refuse_nulls(data, clearable=("project", "account", "opportunity", "description"))
    models = {"project": Project, "account": Account, "opportunity": Opportunity}
    for name, model in models.items():
        if name in data:
            data[name] = _find(model, user=request.user, public_id=data[name], field=name) if data[name] else None
    if "description" in data and data["description"] is None:
        data["description"] = ""
    return data


def _written(request: HttpRequest, expense: Expense) -> Expense:
    return written(selectors.expense_get, Expense, user=request.user, record=expense)


# --- Routes ----------------------------------------------------------------------------------------


@router.get("/expenses", response=ExpensePage, summary="List expenses",
            description="The expenses you may see: your own; a manager's team's too; everyone's for an "
                        "administrator. Filters: " + ", ".join(sorted(EXPENSE_FILTERS)) + ". Orderings: "
                        + ", ".join(sorted(EXPENSE_ORDERINGS)) + "; default -spent_on (newest first).")
def list_expenses(request: HttpRequest, params: Query[ExpenseListParams]) -> dict:
    qs = selectors.expense_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=EXPENSE_ORDERINGS, default_ordering="-spent_on")


@router.get("/expenses/totals", response=TotalsOut, summary="Expense totals",
            description="Sums per project, account, user or month (by=), one row per currency. Approved and "
                        "reimbursed expenses unless status= says otherwise; the list's filters apply.")
def expense_totals(request: HttpRequest, params: Query[TotalsParams]) -> dict:
    query = request.GET.copy()
    query.pop("limit", None)  # every group fits one answer
    for name in ("cursor", "ordering"):
        if name in query:
            raise ValidationError({name: [_("Totals come in one page, in their own order; leave %s out.") % name]})
    by = query.pop("by", ["month"])[0] or "month"
    if by not in TOTALS_BY:
        raise ValidationError({"by": [_("Use one of: %s.") % ", ".join(TOTALS_BY)]})
    return {"by": by, "items": selectors.expense_totals(user=request.user, by=by, params=query), "next": None}


@router.post("/expenses", response={201: ExpenseDetailOut}, summary="Create an expense (a draft)",
             description="A draft of yours, private to you, your manager and administrators. Add its receipt with "
                         "POST /expenses/{id}/receipt, then submit it.")
def create_expense(request: HttpRequest, payload: ExpenseCreate) -> Status:
    expense = services.expense_create(actor=request.user, data=_data(request, payload))
    return Status(201, _written(request, expense))


@router.get("/expenses/{expense_id}", response=ExpenseDetailOut, summary="Get an expense")
def get_expense(request: HttpRequest, expense_id: str) -> Expense:
    return selectors.expense_get(user=request.user, public_id=expense_id)


@router.patch("/expenses/{expense_id}", response=ExpenseDetailOut, summary="Change an expense",
              description="Only its submitter, while it is a draft or rejected (409 otherwise).")
def update_expense(request: HttpRequest, expense_id: str, payload: ExpenseUpdate) -> Expense:
    expense = selectors.expense_get(user=request.user, public_id=expense_id, action=Action.UPDATE)
    expense = services.expense_update(actor=request.user, expense=expense, data=_data(request, payload),
                                      version=payload.version)
    return _written(request, expense)


@router.delete("/expenses/{expense_id}", response={204: None}, summary="Delete an expense (it can be restored)",
               description="Only a draft or a rejected expense, by its submitter.")
def delete_expense(request: HttpRequest, expense_id: str, version: int | None = None) -> Status:
    expense = selectors.expense_get(user=request.user, public_id=expense_id, action=Action.DELETE)
    services.expense_delete(actor=request.user, expense=expense, version=version)
    return Status(204, None)


@router.post("/expenses/{expense_id}/restore", response=ExpenseDetailOut, summary="Restore a deleted expense")
def restore_expense(request: HttpRequest, expense_id: str) -> Expense:
    expense = selectors.expense_get(user=request.user, public_id=expense_id, action=Action.DELETE, deleted=True)
    services.expense_restore(actor=request.user, expense=expense)
    return selectors.expense_get(user=request.user, public_id=expense_id)


RECEIPT_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


def _receipt_too_large(size: int) -> ValidationError:
    from rapport.documents.services import max_upload_bytes

    message = _("The upload is %(size)s; files may be at most %(limit)s (RAPPORT_UPLOAD_MAX_BYTES).")
    return ValidationError({"receipt": [message % {"size": human_size(size), "limit": human_size(max_upload_bytes())}]})


def _max_upload_bytes() -> int:
    from rapport.documents.services import max_upload_bytes

    return max_upload_bytes()


RECEIPT_LIMIT = UploadLimit(max_bytes=_max_upload_bytes, too_large=_receipt_too_large)
RECEIPT_BODY = file_body(RECEIPT_LIMIT)


def _receipt_upload(request: HttpRequest, payload: UploadIn) -> Any:
    """The receipt a request carries: the multipart `file` part, or the JSON body's content_base64."""
    upload = uploaded_file(request, payload, RECEIPT_LIMIT, default_name="receipt")
    if upload is None:
        raise ValidationError({"receipt": [_("Send the receipt as the `file` part (or content_base64).")]})
    return upload


@router.post("/expenses/{expense_id}/receipt", response={201: ReceiptOut}, summary="Upload a receipt",
             description="multipart/form-data with the file as the `file` part (or JSON with file_name and "
                         "content_base64). Stored as a document about the expense (folder receipts), while the "
                         "expense is a draft or rejected (409 otherwise). A file over the size limit, empty, or not "
                         "what its name says is refused with the reason (422, naming `receipt`).",
             openapi_extra=RECEIPT_FORM)
def upload_receipt(request: HttpRequest, expense_id: str,
                   payload: UploadIn = RECEIPT_BODY) -> Status:  # type: ignore[assignment]
    expense = selectors.expense_get(user=request.user, public_id=expense_id, action=Action.UPDATE)
    document = services.expense_receipt_add(actor=request.user, expense=expense,
                                            upload=_receipt_upload(request, payload))
    return Status(201, document)


def _action(request: HttpRequest, expense_id: str) -> Expense:
    return selectors.expense_get(user=request.user, public_id=expense_id)


@router.post("/expenses/{expense_id}/submit", response=ExpenseDetailOut, summary="Submit an expense for approval",
             description="By its submitter, from draft or rejected.")
def submit_expense(request: HttpRequest, expense_id: str, payload: ActionIn) -> Expense:
    expense = services.expense_submit(actor=request.user, expense=_action(request, expense_id),
                                      version=payload.version)
    return _written(request, expense)


@router.post("/expenses/{expense_id}/approve", response=ExpenseDetailOut, summary="Approve an expense",
             description="By the manager of the submitter's team, or an administrator; never one's own (403). "
                         "Only a submitted expense: approving twice answers 409.")
def approve_expense(request: HttpRequest, expense_id: str, payload: ActionIn) -> Expense:
    expense = services.expense_approve(actor=request.user, expense=_action(request, expense_id),
                                       version=payload.version)
    return _written(request, expense)


@router.post("/expenses/{expense_id}/reject", response=ExpenseDetailOut, summary="Reject an expense",
             description="As approve, with a reason (required) that the submitter reads.")
def reject_expense(request: HttpRequest, expense_id: str, payload: RejectIn) -> Expense:
    expense = services.expense_reject(actor=request.user, expense=_action(request, expense_id),
                                      reason=payload.reason, version=payload.version)
    return _written(request, expense)


@router.post("/expenses/{expense_id}/reimburse", response=ExpenseDetailOut, summary="Mark an expense reimbursed",
             description="An approved expense, by an administrator or the submitter's manager.")
def reimburse_expense(request: HttpRequest, expense_id: str, payload: ActionIn) -> Expense:
    expense = services.expense_reimburse(actor=request.user, expense=_action(request, expense_id),
                                         version=payload.version)
    return _written(request, expense)
