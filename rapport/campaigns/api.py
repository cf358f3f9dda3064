"""The distribution list and campaign API (see docs/api.md and docs/campaigns.md).

Handlers parse, call a selector or service, answer. Records a body names by public id (a contact, a
list, a template, an owner) are found through the caller's visible_to: one they may not see is
"No such ..." on that field, exactly as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.campaigns import selectors, services
from rapport.campaigns.filters import CAMPAIGN_ORDERINGS, LIST_ORDERINGS, RECIPIENT_ORDERINGS
from rapport.campaigns.models import (
    Campaign,
    CampaignRecipient,
    DistributionList,
    ListKind,
)
from rapport.core.access import record_visible
from rapport.core.apitools import (
    BusinessRecordOut,
    InputSchema,
    ListParams,
    RefOut,
    api_page,
    ref_out,
    refuse_unknown_params,
    utc_time,
)
from rapport.core.models import Action, Visibility
from rapport.core.selectors import user_get, written
from rapport.directory.models import Contact
from rapport.directory.selectors import contact_choices
from rapport.sales.selectors import api_contact

router = Router(tags=["distribution lists and campaigns"])

VERSION_HELP = "The version you read; a stale one answers 409"



def _seen(context: dict[str, Any], obj: Any) -> dict[str, str] | None:
    """A linked record, named only to a reader who may see it."""
    return ref_out(obj) if record_visible(context["request"].user, obj) else None



# --- Schemas out -----------------------------------------------------------------------------------


class DistributionListOut(BusinessRecordOut):
    name: str
    description: str
    category: str = Field(..., description="What the list is for; account pages filter lists by it")
    kind: str = Field(..., description="static (the contacts added) or dynamic (the contacts a filter finds)")
    criteria: dict[str, Any] = Field(..., description="A dynamic list's filter: the contact list's parameters "
                                                      "q, owner, account, attr")


class DistributionListPage(Schema):
    items: list[DistributionListOut]
    next: str | None


class MemberOut(Schema):
    id: str
    name: str
    email: str
    account: RefOut | None

    @staticmethod
    def resolve_id(obj: Contact) -> str:
        return obj.public_id

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return obj.full_name

    @staticmethod
    def resolve_account(obj: Contact, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.account)


class MemberPage(Schema):
    items: list[MemberOut]
    next: str | None


class MembersAdded(Schema):
    added: int = Field(..., description="How many were not on the list before")


class CampaignOut(BusinessRecordOut):
    name: str
    status: str = Field(..., description="draft, sending, sent or cancelled")
    distribution_list: RefOut | None = Field(..., description="null when you may not see the list")
    template: RefOut | None = Field(..., description="null when you may not see the template")
    rate_per_minute: int
    from_email: str = Field(..., description="'' for the server's sender address")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    recipients: dict[str, int] | None = Field(..., description="How many recipients are in each status "
                                                               "(on one campaign; null in lists)")

    @staticmethod
    def resolve_distribution_list(obj: Campaign, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.distribution_list)

    @staticmethod
    def resolve_template(obj: Campaign, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.template)

    @staticmethod
    def resolve_recipients(obj: Campaign) -> dict[str, int] | None:
        return getattr(obj, "counts", None)

    @staticmethod
    def resolve_started_at(obj: Campaign) -> dt.datetime | None:
        return utc_time(obj.started_at)

    @staticmethod
    def resolve_finished_at(obj: Campaign) -> dt.datetime | None:
        return utc_time(obj.finished_at)


class CampaignPage(Schema):
    items: list[CampaignOut]
    next: str | None


class RecipientOut(Schema):
    email: str = Field(..., description="'' for a person who had no address")
    name: str
    status: str = Field(..., description="waiting, queued, sent, bounced, replied, unsubscribed or skipped")
    skip_reason: str
    contact: RefOut | None = Field(..., description="null when you may not see the contact (or it was removed)")
    queued_at: dt.datetime | None = Field(..., description="When it was handed to the outbox")
    status_changed_at: dt.datetime

    @staticmethod
    def resolve_email(obj: CampaignRecipient) -> str:
        return "" if obj.email.startswith(services.NO_ADDRESS) else obj.email

    @staticmethod
    def resolve_contact(obj: CampaignRecipient, context: dict[str, Any]) -> dict[str, str] | None:
        return _seen(context, obj.contact)

    @staticmethod
    def resolve_queued_at(obj: CampaignRecipient) -> dt.datetime | None:
        return utc_time(obj.queued_at)

    @staticmethod
    def resolve_status_changed_at(obj: CampaignRecipient) -> dt.datetime | None:
        return utc_time(obj.status_changed_at)


class RecipientPage(Schema):
    items: list[RecipientOut]
    next: str | None


class PreviewOut(Schema):
    to: str
    from_email: str
    subject: str
    body: str
    headers: dict[str, str]


# --- Query parameters --------------------------------------------------------------------------------


class ListListParams(ListParams):
    q: str | None = Field(None, description="Start of the name")
    category: str | None = Field(None, description="A category, exactly")
    kind: str | None = Field(None, description="static or dynamic")
    owner: str | None = Field(None, description="A user's id, or 'me'")


class CampaignListParams(ListParams):
    q: str | None = Field(None, description="Start of the name")
    status: str | None = Field(None, description="draft, sending, sent or cancelled")
    list: str | None = Field(None, description="A distribution list's id")
    owner: str | None = Field(None, description="A user's id, or 'me'")


class RecipientListParams(ListParams):
    status: str | None = Field(None, description="waiting, queued, sent, bounced, replied, unsubscribed or skipped")
    q: str | None = Field(None, description="Start of the address")


# --- Schemas in --------------------------------------------------------------------------------------


class DistributionListFields(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = Field(None, max_length=300)
    category: str | None = Field(None, max_length=80)
    criteria: dict[str, Any] | None = Field(None, description="A dynamic list's filter: the contact list's "
                                                              "parameters q, owner ('me' or a user's id), "
                                                              "account (an id), attr (a list of key:value)")
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None


class DistributionListCreate(DistributionListFields):
    name: str = Field(..., min_length=1, max_length=150)
    kind: ListKind = ListKind.STATIC


class DistributionListUpdate(DistributionListFields):
    version: int = Field(..., description=VERSION_HELP)


class MembersIn(InputSchema):
    contacts: list[str] = Field(..., min_length=1, max_length=services.MAX_MEMBERS_AT_ONCE,
                                description="Public ids of contacts you may see")


class CampaignFields(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=150)
    distribution_list: str | None = Field(None, description="A distribution list's id")
    template: str | None = Field(None, description="An email template's id")
    rate_per_minute: int | None = Field(None, ge=1, le=services.MAX_RATE)
    from_email: str | None = Field(None, max_length=320, description="An address, or 'Name <address>'; "
                                                                      "'' for the server's sender address")
    owner: str | None = Field(None, description="Public id of the owning user; default: you")
    visibility: Visibility | None = None


class CampaignCreate(CampaignFields):
    name: str = Field(..., min_length=1, max_length=150)
    distribution_list: str = Field(..., description="A distribution list's id")
    template: str = Field(..., description="An email template's id")


class CampaignUpdate(CampaignFields):
    version: int = Field(..., description=VERSION_HELP)


class VersionIn(InputSchema):
    version: int | None = Field(None, description=VERSION_HELP)


class PreviewIn(InputSchema):
    contact: str = Field(..., description="The id of a contact you may see")


# --- Reading bodies ------------------------------------------------------------------------------------


def _owner(request: HttpRequest, data: dict[str, Any]) -> None:
    if "owner" in data:
        owner = user_get(user=request.user, public_id=data["owner"] or "", active_only=True)
        if owner is None:
            raise ValidationError({"owner": [_("No such active user.")]})
        data["owner"] = owner


def _fields(request: HttpRequest, body: InputSchema, *, drop: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    for name in drop:
        data.pop(name, None)
    for name, value in list(data.items()):
        if value is None:
            raise ValidationError({name: [_("This field may not be null.")]})
    _owner(request, data)
    return data


def _campaign_refs(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    if "distribution_list" in data:
        found = selectors.list_choices(user=request.user).filter(public_id=data["distribution_list"]).first()
        if found is None:
            raise ValidationError({"distribution_list": [_("No such distribution list.")]})
        data["distribution_list"] = found
    if "template" in data:
        template = selectors.template_choices(user=request.user).filter(public_id=data["template"]).first()
        if template is None:
            raise ValidationError({"template": [_("No such email template.")]})
        data["template"] = template
    return data


def _campaign(request: HttpRequest, campaign_id: str) -> Campaign:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id)
    campaign.counts = selectors.recipient_counts(campaign=campaign)  # type: ignore[attr-defined]
    return campaign


def _campaign_written(request: HttpRequest, campaign: Campaign) -> Campaign:
    record = written(selectors.campaign_get, Campaign, user=request.user, record=campaign)
    record.counts = selectors.recipient_counts(campaign=record)
    return record


# --- Distribution lists --------------------------------------------------------------------------------


@router.get("/distribution-lists", response=DistributionListPage, summary="List distribution lists",
            description="Filters: q (start of the name), category, kind (static, dynamic), owner (user id or 'me'). "
                        "Orderings: name, created_at, updated_at; default name.")
def list_distribution_lists(request: HttpRequest, params: Query[ListListParams]) -> dict:
    qs = selectors.distribution_list_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=LIST_ORDERINGS, default_ordering="name")


@router.post("/distribution-lists", response={201: DistributionListOut}, summary="Create a distribution list",
             description="A dynamic list needs criteria: the contact list's filter parameters, checked now "
                         "(an unknown parameter or a bad value answers 422 naming it).")
def create_distribution_list(request: HttpRequest, payload: DistributionListCreate) -> Status:
    data = _fields(request, payload, drop=())
    distribution_list = services.distribution_list_create(actor=request.user, data=data)
    return Status(201, written(selectors.distribution_list_get, DistributionList, user=request.user,
                               record=distribution_list))


@router.get("/distribution-lists/{list_id}", response=DistributionListOut, summary="Get a distribution list")
def get_distribution_list(request: HttpRequest, list_id: str) -> DistributionList:
    return selectors.distribution_list_get(user=request.user, public_id=list_id)


@router.patch("/distribution-lists/{list_id}", response=DistributionListOut, summary="Change a distribution list",
              description="A list stays static or dynamic.")
def update_distribution_list(request: HttpRequest, list_id: str, payload: DistributionListUpdate) -> DistributionList:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id, action=Action.UPDATE)
    data = _fields(request, payload)
    distribution_list = services.distribution_list_update(actor=request.user, distribution_list=distribution_list,
                                                          data=data, version=payload.version)
    return written(selectors.distribution_list_get, DistributionList, user=request.user, record=distribution_list)


@router.delete("/distribution-lists/{list_id}", response={204: None},
               summary="Delete a distribution list (it can be restored)",
               description="409 while a campaign is sending to it.")
def delete_distribution_list(request: HttpRequest, list_id: str, version: int | None = None) -> Status:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id, action=Action.DELETE)
    services.distribution_list_delete(actor=request.user, distribution_list=distribution_list, version=version)
    return Status(204, None)


@router.post("/distribution-lists/{list_id}/restore", response=DistributionListOut,
             summary="Restore a deleted distribution list")
def restore_distribution_list(request: HttpRequest, list_id: str) -> DistributionList:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id, action=Action.DELETE,
                                                        deleted=True)
    services.distribution_list_restore(actor=request.user, distribution_list=distribution_list)
    return selectors.distribution_list_get(user=request.user, public_id=list_id)


@router.get("/distribution-lists/{list_id}/members", response=MemberPage, summary="List the people on a list",
            description="As you see them: a static list's contacts you may see; a dynamic list's, the contacts its "
                        "filter finds for you now. Ordering: name.")
def list_members(request: HttpRequest, list_id: str, params: Query[ListParams]) -> dict:
    refuse_unknown_params(request)
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id)
    qs = selectors.member_rows(user=request.user, distribution_list=distribution_list)
    return api_page(qs, params=params, allowed_orderings={"name": "name_key"}, default_ordering="name")


@router.post("/distribution-lists/{list_id}/members", response=MembersAdded, summary="Add people to a static list",
             description="Contacts already on the list stay as they are. 422 for a dynamic list, or a contact "
                         "you may not see (named).")
def add_members(request: HttpRequest, list_id: str, payload: MembersIn) -> dict:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id, action=Action.UPDATE)
    wanted = list(dict.fromkeys(payload.contacts))
    found = {contact.public_id: contact for contact in contact_choices(user=request.user).filter(public_id__in=wanted)}
    missing = [public_id for public_id in wanted if public_id not in found]
    if missing:
        raise ValidationError({"contacts": [_("No such contact: %s.") % ", ".join(missing[:10])]})
    added = services.list_members_add(actor=request.user, distribution_list=distribution_list,
                                      contacts=[found[public_id] for public_id in wanted])
    return {"added": added}


@router.delete("/distribution-lists/{list_id}/members/{contact_id}", response={204: None},
               summary="Take a person off a static list", description="404 when they are not on it.")
def remove_member(request: HttpRequest, list_id: str, contact_id: str) -> Status:
    distribution_list = selectors.distribution_list_get(user=request.user, public_id=list_id, action=Action.UPDATE)
    contact = contact_choices(user=request.user).filter(public_id=contact_id).first()
    if contact is None:
        raise Http404
    if not services.list_member_remove(actor=request.user, distribution_list=distribution_list, contact=contact):
        raise Http404
    return Status(204, None)


# --- Campaigns ---------------------------------------------------------------------------------------


@router.get("/campaigns", response=CampaignPage, summary="List campaigns",
            description="Filters: q (start of the name), status, list (a distribution list's id), owner (user id or "
                        "'me'). Orderings: name, created_at, updated_at; default -created_at.")
def list_campaigns(request: HttpRequest, params: Query[CampaignListParams]) -> dict:
    qs = selectors.campaign_list(user=request.user, params=request.GET)
    return api_page(qs, params=params, allowed_orderings=CAMPAIGN_ORDERINGS, default_ordering="-created_at")


@router.post("/campaigns", response={201: CampaignOut}, summary="Create a campaign (a draft)")
def create_campaign(request: HttpRequest, payload: CampaignCreate) -> Status:
    data = _campaign_refs(request, _fields(request, payload, drop=()))
    campaign = services.campaign_create(actor=request.user, data=data)
    return Status(201, _campaign_written(request, campaign))


@router.get("/campaigns/{campaign_id}", response=CampaignOut, summary="Get a campaign",
            description="With how many recipients are in each status.")
def get_campaign(request: HttpRequest, campaign_id: str) -> Campaign:
    return _campaign(request, campaign_id)


@router.patch("/campaigns/{campaign_id}", response=CampaignOut, summary="Change a draft campaign",
              description="409 once it has started.")
def update_campaign(request: HttpRequest, campaign_id: str, payload: CampaignUpdate) -> Campaign:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id, action=Action.UPDATE)
    data = _campaign_refs(request, _fields(request, payload))
    campaign = services.campaign_update(actor=request.user, campaign=campaign, data=data, version=payload.version)
    return _campaign_written(request, campaign)


@router.delete("/campaigns/{campaign_id}", response={204: None}, summary="Delete a campaign (it can be restored)",
               description="409 while it is sending: cancel it first.")
def delete_campaign(request: HttpRequest, campaign_id: str, version: int | None = None) -> Status:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id, action=Action.DELETE)
    services.campaign_delete(actor=request.user, campaign=campaign, version=version)
    return Status(204, None)


@router.post("/campaigns/{campaign_id}/restore", response=CampaignOut, summary="Restore a deleted campaign")
def restore_campaign(request: HttpRequest, campaign_id: str) -> Campaign:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id, action=Action.DELETE, deleted=True)
    services.campaign_restore(actor=request.user, campaign=campaign)
    return _campaign(request, campaign_id)


@router.post("/campaigns/{campaign_id}/start", response=CampaignOut, summary="Start sending a campaign",
             description="Fixes the recipients (the people on the list as the campaign's owner sees it now, once per "
                         "address; suppressed addresses and people without one are skipped) and starts sending at "
                         "the campaign's rate. 409 when it is not a draft; 422 when nobody is on the list.")
def start_campaign(request: HttpRequest, campaign_id: str, payload: VersionIn) -> Campaign:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id, action=Action.UPDATE)
    campaign = services.campaign_start(actor=request.user, campaign=campaign, version=payload.version)
    return _campaign_written(request, campaign)


@router.post("/campaigns/{campaign_id}/cancel", response=CampaignOut, summary="Cancel a sending campaign",
             description="Recipients still waiting are skipped; messages already in the outbox go out. 409 when it "
                         "is not sending.")
def cancel_campaign(request: HttpRequest, campaign_id: str, payload: VersionIn) -> Campaign:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id, action=Action.UPDATE)
    campaign = services.campaign_cancel(actor=request.user, campaign=campaign, version=payload.version)
    return _campaign_written(request, campaign)


@router.get("/campaigns/{campaign_id}/recipients", response=RecipientPage, summary="List a campaign's recipients",
            description="Filters: status, q (start of the address). Orderings: added (the order they are sent in), "
                        "email; default added.")
def list_recipients(request: HttpRequest, campaign_id: str, params: Query[RecipientListParams]) -> dict:
    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id)
    qs = selectors.recipient_list(user=request.user, campaign=campaign, params=request.GET).select_related("contact")
    return api_page(qs, params=params, allowed_orderings=RECIPIENT_ORDERINGS, default_ordering="added")


@router.post("/campaigns/{campaign_id}/preview", response=PreviewOut, summary="Preview a campaign's message",
             description="The message as a contact would get it, merged as the campaign's owner writes it (the "
                         "unsubscribe link is an example). Changes nothing.")
def preview_campaign(request: HttpRequest, campaign_id: str, payload: PreviewIn) -> dict:
    from rapport.templating.selectors import with_merge_data

    campaign = selectors.campaign_get(user=request.user, public_id=campaign_id)
    contact = api_contact(user=request.user, public_id=payload.contact)
    contact = with_merge_data(Contact.objects.filter(pk=contact.pk)).get()
    subject, body, headers = services.message_for(campaign, None, contact=contact, token="preview")
    return {"to": contact.email or contact.secondary_email, "from_email": campaign.from_email, "subject": subject,
            "body": body, "headers": headers}

