"""The templating API (see docs/api.md): templates, their preview for a contact, and serial letters.

Handlers parse, call a selector or service, answer. A merge field that is not on the allow-list is
refused (422) under `subject` or `body`, naming the field and its line.
"""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.core.apitools import BusinessRecordOut, InputSchema, ListParams, RefOut, api_page, ref_out
from rapport.core.models import Action, User, Visibility
from rapport.core.selectors import user_get, written
from rapport.templating import selectors, services
from rapport.templating.filters import TEMPLATE_ORDERINGS
from rapport.templating.models import Template, TemplateKind
from rapport.templating.views import letters_response

router = Router(tags=["templating"])

VERSION_HELP = "The version you read; a stale one answers 409"
MAX_API_CONTACTS = 1000




class TemplateOut(BusinessRecordOut):
    name: str
    kind: str = Field(..., description="email or letter")
    description: str
    subject: str
    body: str


class TemplatePage(Schema):
    items: list[TemplateOut]
    next: str | None


class TemplateListParams(ListParams):
    q: str | None = Field(None, description="Start of the name")
    kind: str | None = Field(None, description="email or letter")
    owner: str | None = Field(None, description="A user's id, or 'me'")


class TemplateFields(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=150)
    kind: TemplateKind | None = None
    description: str | None = Field(None, max_length=300)
    subject: str | None = Field(None, max_length=300, description="Required for email templates; merge fields "
                                                                  "allowed")
    body: str | None = Field(None, max_length=50000, description="The text, with merge fields such as "
                                                                 "{{ contact.first_name }}")
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None


class TemplateCreate(TemplateFields):
    name: str = Field(..., min_length=1, max_length=150)
    body: str = Field(..., max_length=50000, description="The text, with merge fields such as "
                                                         "{{ contact.first_name }}")


class TemplateUpdate(TemplateFields):
    version: int = Field(..., description=VERSION_HELP)


class PreviewIn(InputSchema):
    contact: str | None = Field(None, description="A contact's id; default: the first contact you see, by name")


class PreviewOut(Schema):
    contact: RefOut | None = Field(..., description="Whom the preview is for")
    subject: str
    body: str


class LettersIn(InputSchema):
    format: Literal["pdf", "docx"] = "pdf"
    contacts: list[str] | None = Field(None, max_length=MAX_API_CONTACTS,
                                       description="Contact ids (give these or distribution_list)")
    distribution_list: str | None = Field(None, description="A distribution list's id: its members get a letter")


def _owner(request: HttpRequest, public_id: str) -> User:
    owner = user_get(user=request.user, public_id=public_id, active_only=True) if public_id else None
    if owner is None:
        raise ValidationError({"owner": [_("No such active user.")]})
    return owner


def _data(request: HttpRequest, body: TemplateFields) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    data.pop("version", None)
    for name, value in list(data.items()):
        if value is None:
            raise ValidationError({name: [_("This field may not be null.")]})
    if "owner" in data:
        data["owner"] = _owner(request, data["owner"])
    return data


def _written(request: HttpRequest, template: Template) -> Template:
    return written(selectors.template_get, Template, user=request.user, record=template)


@router.get("/templates", response=TemplatePage, summary="List templates",
            description="Filters: q (start of the name), kind (email or letter), owner (user id or 'me'). "
                        "Orderings: name (default), created_at, updated_at (prefix - to reverse).")
def list_templates(request: HttpRequest, params: Query[TemplateListParams]) -> dict:
    qs = selectors.template_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=TEMPLATE_ORDERINGS, default_ordering="name")


@router.post("/templates", response={201: TemplateOut}, summary="Create a template",
             description="Merge fields must be on the allow-list (see docs/templates.md); anything else is "
                         "refused, naming the field and its line.")
def create_template(request: HttpRequest, payload: TemplateCreate) -> Status:
    template = services.template_create(actor=request.user, data=_data(request, payload))
    return Status(201, _written(request, template))


@router.get("/templates/{template_id}", response=TemplateOut, summary="Get a template")
def get_template(request: HttpRequest, template_id: str) -> Template:
    return selectors.template_get(user=request.user, public_id=template_id)


@router.patch("/templates/{template_id}", response=TemplateOut, summary="Change a template")
def update_template(request: HttpRequest, template_id: str, payload: TemplateUpdate) -> Template:
    template = selectors.template_get(user=request.user, public_id=template_id, action=Action.UPDATE)
    template = services.template_update(actor=request.user, template=template, data=_data(request, payload),
                                        version=payload.version)
    return _written(request, template)


@router.delete("/templates/{template_id}", response={204: None},
               summary="Delete a template (it can be restored)")
def delete_template(request: HttpRequest, template_id: str, version: int | None = None) -> Status:
    template = selectors.template_get(user=request.user, public_id=template_id, action=Action.DELETE)
    services.template_delete(actor=request.user, template=template, version=version)
    return Status(204, None)


@router.post("/templates/{template_id}/restore", response=TemplateOut, summary="Restore a deleted template")
def restore_template(request: HttpRequest, template_id: str) -> Template:
    template = selectors.template_get(user=request.user, public_id=template_id, action=Action.DELETE, deleted=True)
    services.template_restore(actor=request.user, template=template)
    return selectors.template_get(user=request.user, public_id=template_id)


@router.post("/templates/{template_id}/preview", response=PreviewOut, summary="Preview a template for a contact",
             description="The subject and text as the contact would get them from you. Nothing is sent or "
                         "stored.")
def preview_template(request: HttpRequest, template_id: str, payload: PreviewIn) -> dict[str, Any]:
    template = selectors.template_get(user=request.user, public_id=template_id)
    if payload.contact:
        contact = selectors.merge_contact_get(user=request.user, public_id=payload.contact)
    else:
        contact = selectors.first_visible_contact(user=request.user)
    rendered = selectors.template_preview(user=request.user, template=template, contact=contact)
    return {"contact": ref_out(contact), "subject": rendered.subject, "body": rendered.body}


@router.post("/templates/{template_id}/letters", response={200: None},
             summary="Serial letters from a letter template (PDF or DOCX download)",
             description="One letter per recipient, each on its own page: the contacts given, or the members of "
                         "a distribution list, that you may see. At most 5,000 letters per document.",
             openapi_extra={"responses": {"200": {"description": "The document", "content": {
                 "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                     "schema": {"type": "string", "format": "binary"}}}}}})
def template_letters(request: HttpRequest, template_id: str, payload: LettersIn) -> HttpResponse:
    template = selectors.template_get(user=request.user, public_id=template_id)
    if (payload.contacts is None) == (payload.distribution_list is None):
        raise ValidationError({"contacts": [_("Give either contacts or distribution_list.")]})
    if payload.distribution_list is not None:
        found = selectors.distribution_list_get(user=request.user, public_id=payload.distribution_list)
        contacts = selectors.distribution_list_contacts(user=request.user, distribution_list=found)
    else:
        contacts = selectors.ad_hoc_contacts(user=request.user, public_ids=payload.contacts or [])
    letters = services.serial_letters(user=request.user, template=template, contacts=contacts, fmt=payload.format)
    return letters_response(letters)

