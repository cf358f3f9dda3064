"""API routes for accounts and contacts: parse, call a selector or service, answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from rapport.core.access import record_visible
from rapport.core.apitools import InputSchema, ListParams, api_page, ref_out
from rapport.core.models import Action, Visibility
from rapport.core.selectors import user_get
from rapport.directory import duplicates, merge, selectors, services
from rapport.directory.filters import ACCOUNT_ORDERINGS, CONTACT_ORDERINGS
from rapport.directory.models import Account, Address, Contact

router = Router(tags=["accounts and contacts"])


# --- Schemas ------------------------------------------------------------------


class AddressIn(InputSchema):
    kind: Address.Kind = Address.Kind.MAIN
    street: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=20)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    country: str = Field("", max_length=100)


class AddressOut(Schema):
    kind: str
    street: str
    postal_code: str
    city: str
    region: str
    country: str


class Ref(Schema):
    id: str
    name: str


class RecordOut(Schema):
    id: str
    version: int
    owner: Ref
    visibility: str
    remarks: str
    attributes: dict[str, str]
    addresses: list[AddressOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.public_id

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, str] | None:
        return ref_out(obj.owner)

    @staticmethod
    def resolve_attributes(obj: Any) -> dict[str, str]:
        return obj.attribute_pairs

    @staticmethod
    def resolve_addresses(obj: Any) -> list[Any]:
        return list(obj.addresses.all())


class AccountOut(RecordOut):
    name: str
    website: str
    industry: str
    email: str
    phone: str
    secondary_phone: str
    stage: str
    stage_changed_on: dt.date | None
    parent: Ref | None

    @staticmethod
    def resolve_parent(obj: Account, context: dict[str, Any]) -> dict[str, str] | None:
        return ref_out(obj.parent) if record_visible(context["request"].user, obj.parent) else None


class ContactOut(RecordOut):
    first_name: str
    last_name: str
    full_name: str
    title: str
    account: Ref | None
    email: str
    secondary_email: str
    phone: str
    mobile: str

    @staticmethod
    def resolve_account(obj: Contact, context: dict[str, Any]) -> dict[str, str] | None:
        return ref_out(obj.account) if record_visible(context["request"].user, obj.account) else None


class AccountPage(Schema):
    items: list[AccountOut]
    next: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    next: str | None


class AccountListParams(ListParams):
    q: str | None = Field(None, description="Start of the name; an email address (with @) searches emails, "
                                            "a domain (example.com) the website")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    stage: str | None = Field(None, description="growing, mature, declining or closed")
    attr: list[str] | None = Field(None, description="key:value from remarks; repeat to combine")


class ContactListParams(ListParams):
    q: str | None = Field(None, description="Prefix of the name or email")
    owner: str | None = Field(None, description="A user's id, or 'me'")
    account: str | None = Field(None, description="An account's id")
    attr: list[str] | None = Field(None, description="key:value from remarks; repeat to combine")


class RecordIn(InputSchema):
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None
    remarks: str | None = Field(None, max_length=10000, description="Free text; key=value pairs become attributes")
    addresses: list[AddressIn] | None = Field(None, max_length=10)


class AccountIn(RecordIn):
    name: str | None = Field(None, min_length=1, max_length=200)
    website: str | None = Field(None, max_length=300)
    industry: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    secondary_phone: str | None = Field(None, max_length=40)
    stage: str | None = Field(None, max_length=10, description="growing, mature, declining or closed; '' clears it")
    parent: str | None = Field(None, description="Public id of the parent account; '' clears it")


class AccountCreate(AccountIn):
    name: str = Field(..., min_length=1, max_length=200)
    confirm_duplicate: bool = False


class AccountUpdate(AccountIn):
    version: int = Field(..., description="The version you read; a stale one answers 409")


class ContactIn(RecordIn):
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, max_length=100)
    account: str | None = Field(None, description="Public id of the account; '' clears it")
    email: str | None = Field(None, max_length=254)
    secondary_email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    mobile: str | None = Field(None, max_length=40)


class ContactCreate(ContactIn):
    last_name: str = Field(..., min_length=1, max_length=100)
    confirm_duplicate: bool = False


class ContactUpdate(ContactIn):
    version: int = Field(..., description="The version you read; a stale one answers 409")


class VersionIn(InputSchema):
    version: int | None = None


# --- Duplicates and merge (schemas) -------------------------------------------------


class DuplicateContactOut(Schema):
    id: str
    name: str
    version: int
    owner: Ref
    account: Ref | None
    email: str
    secondary_email: str
    phone: str
    mobile: str
    created_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Contact) -> str:
        return obj.public_id

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return obj.full_name

    @staticmethod
    def resolve_owner(obj: Contact) -> dict[str, str] | None:
        return ref_out(obj.owner)

    @staticmethod
    def resolve_account(obj: Contact, context: dict[str, Any]) -> dict[str, str] | None:
        return ref_out(obj.account) if record_visible(context["request"].user, obj.account) else None


class DuplicateAccountOut(Schema):
    id: str
    name: str
    version: int
    owner: Ref
    email: str
    website: str
    phone: str
    created_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Account) -> str:
        return obj.public_id

    @staticmethod
    def resolve_owner(obj: Account) -> dict[str, str] | None:
        return ref_out(obj.owner)


class AlsoOut(Schema):
    reason: str
    key: str


class DuplicateContactGroupOut(Schema):
    reason: str = Field(..., description="email, or name (the same or one edit apart, at the same account)")
    reason_label: str
    key: str = Field(..., description="The shared email address or folded name")
    records: list[DuplicateContactOut] = Field(..., description="The oldest first; merge the others into it")
    more: bool = Field(..., description="More records share the key than are listed")
    also: list[AlsoOut] = Field(..., description="Other reasons that found these very records")

    @staticmethod
    def resolve_also(obj: Any) -> list[dict[str, str]]:
        return [{"reason": reason, "key": key} for reason, key in obj.also]


class DuplicateAccountGroupOut(Schema):
    reason: str = Field(..., description="email, website (the domain) or name (folded)")
    reason_label: str
    key: str
    records: list[DuplicateAccountOut]
    more: bool
    also: list[AlsoOut]

    @staticmethod
    def resolve_also(obj: Any) -> list[dict[str, str]]:
        return [{"reason": reason, "key": key} for reason, key in obj.also]


class DuplicateContactPage(Schema):
    items: list[DuplicateContactGroupOut]
    next: str | None


class DuplicateAccountPage(Schema):
    items: list[DuplicateAccountGroupOut]
    next: str | None


class DuplicateParams(Schema):
    reason: str | None = Field(None, description="Only groups found for this reason")
    cursor: str | None = None
    limit: int | None = Field(None, description="Groups per page, at most 100 (default 25)")


class MergeIn(InputSchema):
    other: str = Field(..., description="Public id of the record to merge in; it is deleted after the merge")
    version: int = Field(..., description="The version of this record you saw; a stale one answers 409")
    other_version: int = Field(..., description="The version of the other record you saw; stale: 409")
    fields: dict[str, str] = Field(default_factory=dict, description=(
        "Per field, whose value to keep: 'survivor' (this record) or 'other'; remarks and addresses "
        "also 'both'. Unnamed fields keep this record's value, or the other's where this one is empty."))


class OtherIn(InputSchema):
    other: str = Field(..., description="Public id of the other record")


def _duplicates(request: HttpRequest, record_type: str, params: DuplicateParams) -> dict:
    unknown = sorted(set(request.GET.keys()) - set(DuplicateParams.model_fields))
    if unknown:
        raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
    if params.limit is not None and params.limit < 1:
        raise ValidationError({"limit": [_("Ask for at least one item.")]})
    page = duplicates.duplicate_groups(user=request.user, record_type=record_type, cursor=params.cursor,
                                       reason=params.reason, limit=params.limit or duplicates.DEFAULT_GROUPS)
    return {"items": page.groups, "next": page.next_cursor}


def _partner(request: HttpRequest, model: type[Account] | type[Contact], public_id: str) -> Any:
    """The other record of a merge or a "not a duplicate": one the user may see, of the same type."""
    found = model.objects.visible_to(request.user).filter(public_id=public_id).first()
    if found is not None:
        return found
    other_model = Account if model is Contact else Contact
    if other_model.objects.visible_to(request.user).filter(public_id=public_id).exists():
        message = (_("That id names a contact; an account can only be merged with another account.")
                   if model is Account else
                   _("That id names an account; a contact can only be merged with another contact."))
        raise ValidationError({"other": [message]})
    raise HttpError(404, _("No %(kind)s with the id %(id)s that you may see.")
                    % {"kind": model.record_type, "id": public_id[:40]})


def _merge(request: HttpRequest, model: type[Account] | type[Contact], record_id: str, payload: MergeIn) -> Any:
    get = selectors.account_get if model is Account else selectors.contact_get
    record = get(user=request.user, public_id=record_id, action=Action.UPDATE)
    other = _partner(request, model, payload.other)
    result = merge.record_merge(actor=request.user, survivor=record, other=other, version=payload.version,
                                other_version=payload.other_version, fields=payload.fields)
    if model is Account:
        return selectors.account_written(user=request.user, account=result.survivor)
    return selectors.contact_written(user=request.user, contact=result.survivor)


def _not_duplicate(request: HttpRequest, model: type[Account] | type[Contact], record_id: str,
                   payload: OtherIn) -> Status:
    get = selectors.account_get if model is Account else selectors.contact_get
    record = get(user=request.user, public_id=record_id, action=Action.UPDATE)
    other = _partner(request, model, payload.other)
    duplicates.mark_not_duplicate(actor=request.user, record=record, other=other)
    return Status(204, None)


# --- Translating references -----------------------------------------------------


def _resolve_refs(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Turn public ids of owner, parent and account into records the user may see."""
    if "owner" in data:
        if not data["owner"]:
            raise ValidationError({"owner": [_("An owner is required.")]})
        owner = user_get(user=request.user, public_id=data["owner"], active_only=True)
        if owner is None:
            raise ValidationError({"owner": [_("No such active user.")]})
        data["owner"] = owner
    for name in ("parent", "account"):
        if name in data:
            if not data[name]:
                data[name] = None
                continue
            found = selectors.account_choices(user=request.user).filter(public_id=data[name]).first()
            if found is None:
                raise ValidationError({name: [_("No such account.")]})
            data[name] = found
    if data.get("stage") is None and "stage" in data:
        data["stage"] = ""
    return data


def _payload(request: HttpRequest, body: InputSchema, *, drop: tuple[str, ...] = ()) -> tuple[dict, list | None]:
    data = body.dict(exclude_unset=True)
    for name in drop:
        data.pop(name, None)
    addresses = data.pop("addresses", None)
    for name, value in list(data.items()):
        if value is None and name not in ("stage", "parent", "account"):
            raise ValidationError({name: [_("This field may not be null.")]})
    return _resolve_refs(request, data), addresses


# --- Accounts -------------------------------------------------------------------


@router.get("/accounts", response=AccountPage, summary="List accounts",
            description="Filters: q (name, email or website prefix), owner (user id or 'me'), stage, "
                        "attr=key:value (repeatable). Orderings: name, created_at, updated_at (prefix - to reverse).")
def list_accounts(request: HttpRequest, params: Query[AccountListParams]) -> dict:
    qs = selectors.account_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=ACCOUNT_ORDERINGS, default_ordering="name")


@router.post("/accounts", response={201: AccountOut}, summary="Create an account")
def create_account(request: HttpRequest, payload: AccountCreate) -> Status:
    data, addresses = _payload(request, payload, drop=("confirm_duplicate",))
    account = services.account_create(actor=request.user, data=data, addresses=addresses,
                                      confirm_duplicate=payload.confirm_duplicate)
    return Status(201, selectors.account_written(user=request.user, account=account))


# Before /accounts/{account_id}, which would take "duplicates" for an account's id.
@router.get("/accounts/duplicates", response=DuplicateAccountPage, summary="List likely duplicate accounts",
            description="Accounts you may see that share an email, a website domain or a (folded) name, in groups "
                        "with the reason; the oldest first. A page looks through a bounded number of records: "
                        "follow `next` until it is null (a page may then hold fewer groups, even none).")
def list_account_duplicates(request: HttpRequest, params: Query[DuplicateParams]) -> dict:
    return _duplicates(request, "account", params)


@router.get("/accounts/{account_id}", response=AccountOut, summary="Get an account")
def get_account(request: HttpRequest, account_id: str) -> Account:
    return selectors.account_get(user=request.user, public_id=account_id)


@router.patch("/accounts/{account_id}", response=AccountOut, summary="Change an account")
def update_account(request: HttpRequest, account_id: str, payload: AccountUpdate) -> Account:
    account = selectors.account_get(user=request.user, public_id=account_id, action=Action.UPDATE)
    data, addresses = _payload(request, payload, drop=("version",))
    account = services.account_update(actor=request.user, account=account, data=data, version=payload.version,
                                      addresses=addresses)
    return selectors.account_written(user=request.user, account=account)


@router.delete("/accounts/{account_id}", response={204: None}, summary="Delete an account (it can be restored)")
def delete_account(request: HttpRequest, account_id: str, version: int | None = None) -> Status:
    account = selectors.account_get(user=request.user, public_id=account_id, action=Action.DELETE)
    services.account_delete(actor=request.user, account=account, version=version)
    return Status(204, None)


@router.post("/accounts/{account_id}/restore", response=AccountOut, summary="Restore a deleted account")
def restore_account(request: HttpRequest, account_id: str) -> Account:
    account = selectors.account_get(user=request.user, public_id=account_id, action=Action.DELETE, deleted=True)
    services.account_restore(actor=request.user, account=account)
    return selectors.account_get(user=request.user, public_id=account_id)


# --- Contacts -------------------------------------------------------------------


@router.get("/contacts", response=ContactPage, summary="List contacts",
            description="Filters: q (name or email prefix), owner (user id or 'me'), account (account id), "
                        "attr=key:value (repeatable). Orderings: name, created_at, updated_at.")
def list_contacts(request: HttpRequest, params: Query[ContactListParams]) -> dict:
    qs = selectors.contact_api_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=CONTACT_ORDERINGS, default_ordering="name")


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactCreate) -> Status:
    data, addresses = _payload(request, payload, drop=("confirm_duplicate",))
    contact = services.contact_create(actor=request.user, data=data, addresses=addresses,
                                      confirm_duplicate=payload.confirm_duplicate)
    return Status(201, selectors.contact_written(user=request.user, contact=contact))


# Before /contacts/{contact_id}, which would take "duplicates" for a contact's id.
@router.get("/contacts/duplicates", response=DuplicateContactPage, summary="List likely duplicate contacts",
            description="Contacts you may see that share an email address (in either email field) or have the "
                        "same or nearly the same name at the same account, in groups with the reason; the oldest "
                        "first. A page looks through a bounded number of records: follow `next` until it is null.")
def list_contact_duplicates(request: HttpRequest, params: Query[DuplicateParams]) -> dict:
    return _duplicates(request, "contact", params)


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: str) -> Contact:
    return selectors.contact_get(user=request.user, public_id=contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
def update_contact(request: HttpRequest, contact_id: str, payload: ContactUpdate) -> Contact:
    contact = selectors.contact_get(user=request.user, public_id=contact_id, action=Action.UPDATE)
    data, addresses = _payload(request, payload, drop=("version",))
    contact = services.contact_update(actor=request.user, contact=contact, data=data, version=payload.version,
                                      addresses=addresses)
    return selectors.contact_written(user=request.user, contact=contact)


@router.delete("/contacts/{contact_id}", response={204: None}, summary="Delete a contact (it can be restored)")
def delete_contact(request: HttpRequest, contact_id: str, version: int | None = None) -> Status:
    contact = selectors.contact_get(user=request.user, public_id=contact_id, action=Action.DELETE)
    services.contact_delete(actor=request.user, contact=contact, version=version)
    return Status(204, None)


@router.post("/contacts/{contact_id}/restore", response=ContactOut, summary="Restore a deleted contact")
def restore_contact(request: HttpRequest, contact_id: str) -> Contact:
    contact = selectors.contact_get(user=request.user, public_id=contact_id, action=Action.DELETE, deleted=True)
    services.contact_restore(actor=request.user, contact=contact)
    return selectors.contact_get(user=request.user, public_id=contact_id)


# --- Merge and "not a duplicate" ------------------------------------------------------


@router.post("/accounts/{account_id}/merge", response=AccountOut, summary="Merge another account into this one",
             description="Moves the other account's contacts, deals, orders, support items, activities, notes, "
                         "sub-accounts and history to this one, applies the chosen field values, and deletes the "
                         "other. Needs the update right on this account and the delete right on the other.")
def merge_account(request: HttpRequest, account_id: str, payload: MergeIn) -> Account:
    return _merge(request, Account, account_id, payload)


@router.post("/contacts/{contact_id}/merge", response=ContactOut, summary="Merge another contact into this one",
             description="Moves the other contact's activities, logged emails, notes, deal roles, leads, support "
                         "items, list memberships, campaign recipients, follow-ups and history to this one, applies "
                         "the chosen field values, and deletes the other. Needs the update right on this contact "
                         "and the delete right on the other.")
def merge_contact(request: HttpRequest, contact_id: str, payload: MergeIn) -> Contact:
    return _merge(request, Contact, contact_id, payload)


@router.post("/accounts/{account_id}/not-duplicate", response={204: None},
             summary="Mark two accounts as not duplicates", description="The pair leaves the duplicates list.")
def not_duplicate_account(request: HttpRequest, account_id: str, payload: OtherIn) -> Status:
    return _not_duplicate(request, Account, account_id, payload)


@router.post("/contacts/{contact_id}/not-duplicate", response={204: None},
             summary="Mark two contacts as not duplicates", description="The pair leaves the duplicates list.")
def not_duplicate_contact(request: HttpRequest, contact_id: str, payload: OtherIn) -> Status:
    return _not_duplicate(request, Contact, contact_id, payload)
