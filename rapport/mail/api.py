"""The mail API (see docs/api.md): logged email — the list (status=pending for the pending list), one
message, and the actions on it: file, discard, restore, create-contact; its raw source and attachments.

Handlers parse, call a selector or service, answer. A message the caller may not see answers 404, as one
that does not exist; acting on one they may see but not change, 403. Records a body names ("contact:<id>")
are found through the caller's visible_to: one they may not see is "No such ..." on `records`, exactly as
one that does not exist. Each action answers the message as GET does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from rapport.core.apitools import InputSchema, ListParams, api_page, utc_time
from rapport.core.models import Action
from rapport.mail import selectors, services
from rapport.mail.models import EmailAttachment, EmailMessage
from rapport.mail.views import attachment_download, raw_download

router = Router(tags=["mail"])

VERSION_HELP = "The message's version you read; a stale one answers 409 (leave it out to act on the current one)"
MAX_RECORDS = 20



# --- Schemas out -----------------------------------------------------------------------------------


class Ref(Schema):
    id: str
    name: str


class RecordRef(Schema):
    type: str = Field(..., description="contact, account, opportunity or support_item")
    id: str
    name: str


class AttachmentOut(Schema):
    id: str
    filename: str
    size: int
    declared_type: str = Field(..., description="The type the message gave it")
    detected_type: str = Field(..., description="The type its content shows; it is served as a download either way")
    url: str

    @staticmethod
    def resolve_id(obj: EmailAttachment) -> str:
        return obj.public_id

    @staticmethod
    def resolve_url(obj: EmailAttachment) -> str:
        return reverse("api:email_attachment", args=[obj.email.public_id, obj.public_id])


class EmailSummaryOut(Schema):
    id: str
    message_id: str = Field(..., description="Its Message-ID, without angle brackets ('' if it had none)")
    thread: str = Field(..., description="The Message-ID of the conversation's first message: equal for one thread")
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    sent_at: dt.datetime | None = Field(..., description="The Date the sender gave it (UTC)")
    received_at: dt.datetime
    status: str = Field(..., description="pending, filed or discarded")
    pending_reason: str = Field(..., description="no_match, several, or '' when not pending")
    source: str = Field(..., description="smtp (logging address), imap, support or api")
    direction: str = Field(..., description="in (received) or out (sent)")
    filed_to: list[RecordRef] = Field(..., description="The records it is filed to that you may see")
    attachments: list[AttachmentOut]
    owner: Ref
    visibility: str
    version: int
    raw_url: str = Field(..., description="Its raw source (.eml)")

    @staticmethod
    def resolve_id(obj: EmailMessage) -> str:
        return obj.public_id

    @staticmethod
    def resolve_thread(obj: EmailMessage) -> str:
        return obj.thread_key

    @staticmethod
    def resolve_sent_at(obj: EmailMessage) -> dt.datetime | None:
        return utc_time(obj.sent_at)

    @staticmethod
    def resolve_received_at(obj: EmailMessage) -> dt.datetime | None:
        return utc_time(obj.received_at)

    @staticmethod
    def resolve_filed_to(obj: Any) -> list[dict[str, str]]:
        return [{"type": record.record_type, "id": record.public_id, "name": str(record)} for record in obj.filed]

    @staticmethod
    def resolve_attachments(obj: EmailMessage) -> list[EmailAttachment]:
        found = list(obj.attachments.all())
        for attachment in found:
            attachment.email = obj  # the URL names the message: no query per attachment
        return found

    @staticmethod
    def resolve_owner(obj: EmailMessage) -> dict[str, str]:
        return {"id": obj.owner.public_id, "name": obj.owner.display_name}

    @staticmethod
    def resolve_raw_url(obj: EmailMessage) -> str:
        return reverse("api:email_raw", args=[obj.public_id])


class EmailOut(EmailSummaryOut):
    in_reply_to: str
    text_body: str = Field(..., description="The plain text")
    html_body: str = Field(..., description="The HTML, sanitised (no scripts, no event handlers); '' if none")
    parse_warnings: list[str] = Field(..., description="Problems met reading it (an unknown charset, a bad part)")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_parse_warnings(obj: EmailMessage) -> list[str]:
        return [str(warning) for warning in obj.parse_warnings or []]

    @staticmethod
    def resolve_created_at(obj: EmailMessage) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: EmailMessage) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class EmailPage(Schema):
    items: list[EmailSummaryOut]
    next: str | None


# --- Query parameters and bodies -------------------------------------------------------------------


class EmailListParams(ListParams):
    view: str | None = Field(None, description="pending: your own pending messages; all (the default): every "
                                               "message you may see")
    status: str | None = Field(None, description="pending, filed or discarded; without it, pending and filed")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    since: str | None = Field(None, description="Received at or after: a date (YYYY-MM-DD) or a time with offset")
    until: str | None = Field(None, description="Received before: a time with offset, or a date (that whole day)")
    from_: str | None = Field(None, alias="from", description="Words of the sender's name or address")
    account: str | None = Field(None, description="An account's id: messages filed to it")
    q: str | None = Field(None, description="Words of the subject")


class VersionIn(InputSchema):
    version: int | None = Field(None, description=VERSION_HELP)


class FileIn(VersionIn):
    records: list[str] = Field(..., min_length=1, max_length=MAX_RECORDS,
                               description="Records as type:id, such as contact:kldoiwrthy54cj5u (contact, account, "
                                           "opportunity, support_item); a contact's account is added")

    @field_validator("records", mode="after")
    @classmethod
    def _no_nul_in_refs(cls, value: list[str]) -> list[str]:
        if any("\x00" in item for item in value):
            raise ValueError("A NUL character is not allowed.")
        return value


class CreateContactIn(VersionIn):
    first_name: str | None = Field(None, max_length=100, description="Default: from the sender's name")
    last_name: str | None = Field(None, min_length=1, max_length=100, description="Default: from the sender's name")
    email: str | None = Field(None, max_length=254, description="Default: the sender's address")
    account: str | None = Field(None, description="An account's id")
    confirm_duplicate: bool = Field(False, description="Create it even though a contact has this address (409 "
                                                       "otherwise, naming them)")


# --- Answers ---------------------------------------------------------------------------------------


def _shown(request: HttpRequest, emails: list[EmailMessage]) -> list[EmailMessage]:
    """Messages with the records they are filed to that the caller may see (one query per record type)."""
    filed = selectors.filed_to(user=request.user, emails=emails)
    for email in emails:
        email.filed = filed[email.pk]  # type: ignore[attr-defined]
    return emails


def _email(request: HttpRequest, email_id: str) -> EmailMessage:
    return _shown(request, [selectors.email_api_get(user=request.user, public_id=email_id)])[0]


def _for_update(request: HttpRequest, email_id: str) -> EmailMessage:
    return selectors.email_get(user=request.user, public_id=email_id, action=Action.UPDATE)


# --- Routes ----------------------------------------------------------------------------------------


@router.get("/emails", response=EmailPage, summary="List logged email",
            description="Filters: view (pending: your own pending messages), status (pending, filed, discarded; "
                        "without it pending and filed), owner (user id or 'me'), since and until (date or time "
                        "with offset), from (sender name or address), account (id: filed to it), q (subject). "
                        "Ordering: received_at; default -received_at (newest first).")
def list_emails(request: HttpRequest, params: Query[EmailListParams]) -> dict:
    qs = selectors.email_api_list(user=request.user, params=request.GET)
    page = api_page(qs, params=params, allowed_orderings=selectors.EMAIL_ORDERINGS, default_ordering="-received_at")
    return {"items": _shown(request, page["items"]), "next": page["next"]}


@router.get("/emails/{email_id}", response=EmailOut, summary="Get a logged message")
def get_email(request: HttpRequest, email_id: str) -> EmailMessage:
    return _email(request, email_id)


@router.post("/emails/{email_id}/file", response=EmailOut, summary="File a message to records",
             description="Files it to the records named (and each contact's account): it shows on their pages. "
                         "Filing again replaces the records; a discarded message filed is filed. Its owner, and "
                         "whoever may change the owner's records, may.")
def file_email(request: HttpRequest, email_id: str, payload: FileIn) -> EmailMessage:
    email = _for_update(request, email_id)
    records = selectors.filing_records(user=request.user, refs=payload.records)
    services.email_file(actor=request.user, email=email, records=records, version=payload.version)
    return _email(request, email_id)


@router.post("/emails/{email_id}/discard", response=EmailOut, summary="Discard a pending message",
             description="It leaves the pending list (status discarded) and can be restored. 409 when it is not "
                         "pending.")
def discard_email(request: HttpRequest, email_id: str, payload: VersionIn) -> EmailMessage:
    services.email_discard(actor=request.user, email=_for_update(request, email_id), version=payload.version)
    return _email(request, email_id)


@router.post("/emails/{email_id}/restore", response=EmailOut, summary="Restore a discarded message to pending",
             description="409 when it is not discarded.")
def restore_email(request: HttpRequest, email_id: str, payload: VersionIn) -> EmailMessage:
    services.email_restore(actor=request.user, email=_for_update(request, email_id), version=payload.version)
    return _email(request, email_id)


@router.post("/emails/{email_id}/create-contact", response=EmailOut,
             summary="Create a contact from the sender and file the message to them",
             description="Names and address default to the sender's. A visible contact with the same address "
                         "answers 409 naming them (file to them instead, or send confirm_duplicate=true).")
def create_contact_from_email(request: HttpRequest, email_id: str, payload: CreateContactIn) -> EmailMessage:
    from rapport.sales.selectors import api_account

    email = _for_update(request, email_id)
    data: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude={"version", "confirm_duplicate"})
    if "account" in data:
        data["account"] = api_account(user=request.user, public_id=data["account"]) if data["account"] else None
    services.email_create_contact(actor=request.user, email=email, data=data,
                                  confirm_duplicate=payload.confirm_duplicate, version=payload.version)
    return _email(request, email_id)


@router.get("/emails/{email_id}/raw", response={200: None}, url_name="email_raw",
            summary="Download a message's raw source (.eml)")
def email_raw(request: HttpRequest, email_id: str) -> FileResponse:
    return raw_download(selectors.email_get(user=request.user, public_id=email_id))


@router.get("/emails/{email_id}/attachments/{attachment_id}", response={200: None}, url_name="email_attachment",
            summary="Download an attachment",
            description="Always as a download (Content-Disposition: attachment); its type only when the type it "
                        "was given is the type it is and a safe one, else application/octet-stream.")
def email_attachment(request: HttpRequest, email_id: str, attachment_id: str) -> FileResponse:
    return attachment_download(selectors.attachment_get(user=request.user, email_id=email_id,
                                                        attachment_id=attachment_id))
