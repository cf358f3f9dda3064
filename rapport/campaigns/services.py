"""Writes of distribution lists and campaigns: lists and their members, a campaign's life (draft,
start, dispatch through the outbox at its rate, cancel), unsubscribing, and what inbound mail tells
about a campaign message (a reply, a bounce).

Starting a campaign fixes its recipients (one per distinct address, as the campaign's owner sees the
list then). The dispatch job (every minute, and at once after a start) hands at most the campaign's
rate per minute of them to the outbox: each chunk is one transaction that locks the campaign's row,
claims the recipients with a conditional UPDATE (waiting → queued) and queues their messages, so two
workers never queue one recipient twice and a crash half-way queues nothing. Delivery itself is the
outbox's (rapport.mail.services.deliver_due).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    DistributionList,
    DistributionListMember,
    ListKind,
    RecipientStatus,
    Suppression,
    SuppressionReason,
)
from rapport.campaigns.selectors import criteria_text, list_contacts_strict
from rapport.core.access import require
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.history import display_value, history_record
from rapport.core.models import Action, HistoryEntry
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.directory.filters import CONTACT_FILTERS
from rapport.directory.models import Contact
from rapport.directory.selectors import contact_list
from rapport.mail.models import OutboxMessage, OutboxStatus
from rapport.mail.services import outbox_message, queue_emails
from rapport.templating.models import Template, TemplateKind

logger = logging.getLogger(__name__)

LIST = DistributionList.record_type
CAMPAIGN = Campaign.record_type
MAX_MEMBERS_AT_ONCE = 200
MAX_RATE = 10_000
# Recipients queued per transaction: a large rate is handed over in several short transactions.
DISPATCH_CHUNK = 200
WINDOW = dt.timedelta(seconds=60)
# The scheduler's minute ticks reach the worker a little early or late: a tick up to this much short of a
# minute after the last slice still gets a full slice, so throughput keeps to the rate instead of halving.
TICK_TOLERANCE = dt.timedelta(seconds=2)
# A cancelled campaign's messages already in the outbox are followed this long (the outbox retries ~22 h).
FOLLOW_CANCELLED = dt.timedelta(days=2)
# A bounce that names only an address is matched to campaign messages sent this recently.
BOUNCE_WINDOW = dt.timedelta(days=30)
CAMPAIGN_KIND = "campaign"
# The address column of a recipient who has none (it is unique per campaign): never sent to.
NO_ADDRESS = "(no address) "
UNSUBSCRIBE_FIELD = re.compile(r"\{\{[ \t]*unsubscribe_url[ \t]*\}\}")

EDITABLE_LIST_FIELDS = ("name", "description", "category", "kind", "criteria", "visibility", "owner")
EDITABLE_CAMPAIGN_FIELDS = ("name", "distribution_list", "template", "rate_per_minute", "from_email",
                            "visibility", "owner")


# --- Distribution lists -----------------------------------------------------------------------------


def clean_criteria(*, actor: Any, criteria: Any) -> dict[str, Any]:
    """A dynamic list's filter: the contact list's filter parameters (q, owner, account, attr), checked
    as the contact list checks them; "owner": "me" is stored as the saver's id, so that the list means
    the same to everyone. A bad key or value is a ValidationError on `criteria` naming it."""
    if not isinstance(criteria, dict):
        raise ValidationError({"criteria": [_("Give the filter as the contact list's parameters, such as "
                                              "{\"account\": \"<account id>\", \"attr\": [\"region:north\"]}.")]})
    allowed = sorted(CONTACT_FILTERS)
    cleaned: dict[str, Any] = {}
    for key, value in criteria.items():
        if key not in CONTACT_FILTERS:
            raise ValidationError({"criteria": [_("Unknown filter “%(key)s”; use one of: %(keys)s.")
                                                % {"key": key, "keys": ", ".join(allowed)}]})
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in values):
            raise ValidationError({"criteria": [_("%(key)s: give text.") % {"key": key}]})
        values = [item.strip() for item in values if item.strip()]
        if not values:
            continue
        if key == "attr":
            cleaned[key] = values
        elif len(values) > 1:
            raise ValidationError({"criteria": [_("%(key)s: give one value.") % {"key": key}]})
        else:
            cleaned[key] = values[0]
    if cleaned.get("owner") == "me":
        cleaned["owner"] = actor.public_id
    if not cleaned:
        raise ValidationError({"criteria": [_("Choose at least one filter: a dynamic list without one would "
                                              "hold every contact.")]})
    try:
        contact_list(user=actor, params=cleaned)
    except ValidationError as exc:
        raise ValidationError({"criteria": [criteria_text(exc)]}) from None
    return cleaned


def _list_data(*, actor: Any, data: dict[str, Any], current: DistributionList | None) -> dict[str, Any]:
    data = dict(data)
    unknown = sorted(set(data) - set(EDITABLE_LIST_FIELDS))
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in unknown})
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
    if "category" in data:
        data["category"] = " ".join((data["category"] or "").split())
    kind = data.get("kind", current.kind if current is not None else ListKind.STATIC)
    if current is not None and "kind" in data and data["kind"] != current.kind:
        raise ValidationError({"kind": [_("A list stays static or dynamic; make a new list of the other kind.")]})
    if kind == ListKind.DYNAMIC:
        if current is None or "criteria" in data:
            data["criteria"] = clean_criteria(actor=actor, criteria=data.get("criteria") or {})
    elif data.get("criteria"):
        raise ValidationError({"criteria": [_("Only a dynamic list has a filter; add people to a static list.")]})
    else:
        data.pop("criteria", None)
    return data


@transaction.atomic
def distribution_list_create(*, actor: Any, data: dict[str, Any]) -> DistributionList:
    require(actor, LIST, Action.CREATE)
    return record_create(DistributionList, actor=actor, data=_list_data(actor=actor, data=data, current=None))


@transaction.atomic
def distribution_list_update(*, actor: Any, distribution_list: DistributionList, data: dict[str, Any],
                             version: int | None) -> DistributionList:
    require(actor, LIST, Action.UPDATE, owner_id=distribution_list.owner_id)
    data = _list_data(actor=actor, data=data, current=distribution_list)
    return record_update(distribution_list, actor=actor, data=data, version=version)


@transaction.atomic
def distribution_list_delete(*, actor: Any, distribution_list: DistributionList,
                             version: int | None = None) -> DistributionList:
    """Soft delete; a list that a campaign is sending to stays until the campaign ends."""
    require(actor, LIST, Action.DELETE, owner_id=distribution_list.owner_id)
    sending = distribution_list.campaigns.filter(status=CampaignStatus.SENDING, deleted_at__isnull=True)
    if sending.exists():
        raise Conflict(_("A campaign is sending to this list (%s); delete the list when it is done.")
                       % sending.first())
    return record_delete(distribution_list, actor=actor, version=version)


@transaction.atomic
def distribution_list_restore(*, actor: Any, distribution_list: DistributionList) -> DistributionList:
    return record_restore(distribution_list, actor=actor)


def _static(distribution_list: DistributionList) -> None:
    if distribution_list.kind != ListKind.STATIC:
        raise ValidationError({"contacts": [_("%s is a dynamic list: its filter decides who is on it.")
                                            % distribution_list.name]})


@transaction.atomic
def list_members_add(*, actor: Any, distribution_list: DistributionList, contacts: Sequence[Contact]) -> int:
    """Put contacts (found through the actor's visible_to) on a static list; those on it already stay
    as they are. The number added; the list's history names them."""
    require(actor, LIST, Action.UPDATE, owner_id=distribution_list.owner_id)
    _static(distribution_list)
    if not contacts:
        raise ValidationError({"contacts": [_("Choose at least one contact.")]})
    if len(contacts) > MAX_MEMBERS_AT_ONCE:
        raise ValidationError({"contacts": [_("Add at most %d contacts at once.") % MAX_MEMBERS_AT_ONCE]})
    unique = {contact.pk: contact for contact in contacts}
    present = set(DistributionListMember.objects.filter(distribution_list=distribution_list, contact_id__in=unique)
                  .values_list("contact_id", flat=True))
    new = [contact for pk, contact in unique.items() if pk not in present]
    DistributionListMember.objects.bulk_create(
        [DistributionListMember(distribution_list=distribution_list, contact=contact, added_by=actor)
         for contact in new], ignore_conflicts=True)
    if new:
        history_record(record=distribution_list, actor=actor, kind=HistoryEntry.Kind.UPDATED,
                       changes={"members": [None, [display_value(contact) for contact in new]]})
    return len(new)


@transaction.atomic
def list_member_remove(*, actor: Any, distribution_list: DistributionList, contact: Contact) -> bool:
    """Take a contact off a static list; False when they were not on it."""
    require(actor, LIST, Action.UPDATE, owner_id=distribution_list.owner_id)
    _static(distribution_list)
    removed, _rows = DistributionListMember.objects.filter(distribution_list=distribution_list,
                                                          contact=contact).delete()
    if removed:
        history_record(record=distribution_list, actor=actor, kind=HistoryEntry.Kind.UPDATED,
                       changes={"members": [[display_value(contact)], None]})
    return bool(removed)


# --- Campaigns --------------------------------------------------------------------------------------


def clean_from(value: str) -> str:
    """A sender as a header may carry it: an address, or a name and an address; never a line break."""
    value = (value or "").strip()
    if not value:
        return ""
    if any(ch in value for ch in "\r\n\x00"):
        raise ValidationError({"from_email": [_("The sender must be on one line.")]})
    _name, address = parseaddr(value)
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"from_email": [_("Enter an email address, or a name and an address such as "
                                                "Sales Team <sales@example.com>.")]}) from None
    return value


def _campaign_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    unknown = sorted(set(data) - set(EDITABLE_CAMPAIGN_FIELDS))
    if unknown:
        raise ValidationError({name: [_("This field cannot be set.")] for name in unknown})
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
    if "from_email" in data:
        data["from_email"] = clean_from(data["from_email"])
    if "rate_per_minute" in data:
        rate = data["rate_per_minute"]
        if not isinstance(rate, int) or not 1 <= rate <= MAX_RATE:
            raise ValidationError({"rate_per_minute": [_("Send between 1 and %s messages per minute.")
                                                       % f"{MAX_RATE:,}"]})
    if (template := data.get("template")) is not None:
        _check_template(template, field="template")
    if (distribution_list := data.get("distribution_list")) is not None and distribution_list.deleted_at:
        raise ValidationError({"distribution_list": [_("This list was deleted.")]})
    return data


def _check_template(template: Template, *, field: str) -> None:
    if template.deleted_at is not None:
        raise ValidationError({field: [_("The template %s was deleted.") % template.name]})
    if template.kind != TemplateKind.EMAIL:
        raise ValidationError({field: [_("%s is a letter template; a campaign sends an email template.")
                                       % template.name]})


def _draft(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(_("%(name)s is %(status)s: only a draft can be changed.")
                       % {"name": campaign.name, "status": campaign.get_status_display().lower()})


@transaction.atomic
def campaign_create(*, actor: Any, data: dict[str, Any]) -> Campaign:
    """A draft campaign: a list (found through the actor's visible_to), an email template, a rate."""
    require(actor, CAMPAIGN, Action.CREATE)
    data = _campaign_data(data)
    for name in ("distribution_list", "template"):
        if data.get(name) is None:
            raise ValidationError({name: [_("This field is required.")]})
    return record_create(Campaign, actor=actor, data=data)


@transaction.atomic
def campaign_update(*, actor: Any, campaign: Campaign, data: dict[str, Any], version: int | None) -> Campaign:
    require(actor, CAMPAIGN, Action.UPDATE, owner_id=campaign.owner_id)
    _draft(campaign)
    data = _campaign_data(data)
    for name in ("distribution_list", "template"):
        if name in data and data[name] is None:
            raise ValidationError({name: [_("This field is required.")]})
    return record_update(campaign, actor=actor, data=data, version=version)


@transaction.atomic
def campaign_delete(*, actor: Any, campaign: Campaign, version: int | None = None) -> Campaign:
    """Soft delete: a draft, or a campaign that is done; one that is sending is cancelled first."""
    require(actor, CAMPAIGN, Action.DELETE, owner_id=campaign.owner_id)
    if campaign.status == CampaignStatus.SENDING:
        raise Conflict(_("%s is sending: cancel it before deleting it.") % campaign.name)
    return record_delete(campaign, actor=actor, version=version)


@transaction.atomic
def campaign_restore(*, actor: Any, campaign: Campaign) -> Campaign:
    return record_restore(campaign, actor=actor)


def _locked(campaign: Campaign, version: int | None) -> Campaign:
    locked = (Campaign.objects.select_for_update(of=("self",))
              .select_related("distribution_list", "template", "owner").get(pk=campaign.pk))
    if locked.deleted_at is not None:
        raise Conflict(_("%s was deleted meanwhile.") % locked.name)
    if version is not None and version != locked.version:
        raise StaleVersion(current_version=locked.version)
    return locked


def _address(contact: Mapping[str, Any]) -> str:
    return (contact["email"] or contact["secondary_email"] or "").strip().lower()[:254]


def _suppressed(addresses: Iterable[str]) -> dict[str, str]:
    """Which of the addresses are suppressed, and why (reads the unique index in chunks)."""
    found: dict[str, str] = {}
    chunk: list[str] = []
    for address in addresses:
        chunk.append(address)
        if len(chunk) == 500:
            found.update(Suppression.objects.filter(email_key__in=chunk).values_list("email_key", "reason"))
            chunk = []
    if chunk:
        found.update(Suppression.objects.filter(email_key__in=chunk).values_list("email_key", "reason"))
    return found


def _skip_reason(why: str) -> str:
    reasons = {
        "none": _("No email address."),
        "invalid": _("Not a valid email address."),
        SuppressionReason.UNSUBSCRIBED: _("Unsubscribed from an earlier campaign."),
        SuppressionReason.BOUNCED: _("Mail to this address bounced before."),
        SuppressionReason.MANUAL: _("On the suppression list."),
    }
    return reasons.get(why, _("On the suppression list."))


SNAPSHOT_BATCH = 2000


def _snapshot(campaign: Campaign) -> int:
    """The campaign's recipients: each person on the list as its owner sees it now, once per address
    (the first by name keeps an address two people share); a person without a usable address, or with
    a suppressed one, is skipped with the reason. Written in batches (memory stays flat for a large
    list). The number of recipients waiting to be sent."""
    contacts = (list_contacts_strict(user=campaign.owner, distribution_list=campaign.distribution_list)
                .order_by("name_key", "id")
                .values("id", "public_id", "first_name", "last_name", "email", "secondary_email"))
    seen: set[str] = set()
    batch: list[CampaignRecipient] = []
    written = waiting = 0

    def flush() -> None:
        nonlocal written, waiting
        suppressed = _suppressed(row.email for row in batch if row.status == RecipientStatus.WAITING)
        for row in batch:
            if row.email in suppressed:
                row.status, row.skip_reason = RecipientStatus.SKIPPED, _skip_reason(suppressed[row.email])
        CampaignRecipient.objects.bulk_create(batch, batch_size=500)
        written += len(batch)
        waiting += sum(1 for row in batch if row.status == RecipientStatus.WAITING)
        batch.clear()

    for contact in contacts.iterator(chunk_size=SNAPSHOT_BATCH):
        name = f"{contact['first_name']} {contact['last_name']}".strip()[:201]
        address = _address(contact)
        recipient = CampaignRecipient(campaign=campaign, contact_id=contact["id"], email=address, name=name)
        if not address:
            recipient.email = f"{NO_ADDRESS}{contact['public_id']}"
            recipient.status, recipient.skip_reason = RecipientStatus.SKIPPED, _skip_reason("none")
        else:
            if address in seen:
                continue
            try:
                validate_email(address)
            except ValidationError:
                recipient.status, recipient.skip_reason = RecipientStatus.SKIPPED, _skip_reason("invalid")
        seen.add(recipient.email)
        batch.append(recipient)
        if len(batch) >= SNAPSHOT_BATCH:
            flush()
    if batch:
        flush()
    if not written:
        raise ValidationError({"distribution_list": [
            _("Nobody is on %(list)s as %(owner)s, the campaign's owner, sees it.")
            % {"list": campaign.distribution_list.name, "owner": campaign.owner}]})
    return waiting


def _enqueue_dispatch() -> None:
    from rapport.campaigns.tasks import dispatch_campaigns

    try:
        dispatch_campaigns.enqueue()
    except Exception:  # the scheduler's next run dispatches anyway
        logger.exception("Could not queue the campaign dispatch job")


@transaction.atomic
def campaign_start(*, actor: Any, campaign: Campaign, version: int | None = None,
                   now: dt.datetime | None = None) -> Campaign:
    """Fix the recipients and start sending: the first minute's messages go to the outbox at once."""
    require(actor, CAMPAIGN, Action.UPDATE, owner_id=campaign.owner_id)
    locked = _locked(campaign, version)
    if locked.status != CampaignStatus.DRAFT:
        raise Conflict(_("%(name)s was started already (it is %(status)s).")
                       % {"name": locked.name, "status": locked.get_status_display().lower()})
    if locked.distribution_list.deleted_at is not None:
        raise ValidationError({"distribution_list": [_("The list %s was deleted.") % locked.distribution_list]})
    _check_template(locked.template, field="template")
    if not locked.template.subject.strip():
        raise ValidationError({"template": [_("The template %s has no subject.") % locked.template.name]})
    _snapshot(locked)
    started = record_update(locked, actor=actor, version=locked.version, data={
        "status": CampaignStatus.SENDING, "started_at": now or timezone.now()})
    transaction.on_commit(_enqueue_dispatch)
    return started


@transaction.atomic
def campaign_cancel(*, actor: Any, campaign: Campaign, version: int | None = None,
                    now: dt.datetime | None = None) -> Campaign:
    """Stop a sending campaign: those still waiting are skipped, and messages no worker has picked up yet
    are taken back from the outbox."""
    require(actor, CAMPAIGN, Action.UPDATE, owner_id=campaign.owner_id)
    locked = _locked(campaign, version)
    if locked.status != CampaignStatus.SENDING:
        raise Conflict(_("%(name)s is %(status)s: only a campaign that is sending can be cancelled.")
                       % {"name": locked.name, "status": locked.get_status_display().lower()})
    moment = now or timezone.now()
    _withdraw(CampaignRecipient.objects.filter(campaign=locked),
              _("The campaign was cancelled before this was sent."), moment)
    return record_update(locked, actor=actor, version=locked.version, data={
        "status": CampaignStatus.CANCELLED, "finished_at": moment})


# --- Dispatch ---------------------------------------------------------------------------------------


def unsubscribe_url(token: str) -> str:
    return settings.RAPPORT_BASE_URL + reverse("campaign_unsubscribe", args=[token])


def message_for(campaign: Campaign, recipient: CampaignRecipient | None, *, contact: Contact | None,
                token: str) -> tuple[str, str, dict[str, str]]:
    """A recipient's message (subject, body, headers), merged as the campaign's owner writes it, with
    the unsubscribe link (a footer when the template does not place {{ unsubscribe_url }} itself)."""
    from rapport.templating.merge import merge_values, render_template

    url = unsubscribe_url(token)
    extra = {"unsubscribe_url": url}
    if contact is None and recipient is not None:  # the contact was removed since the start
        extra.update({"contact.email": recipient.email, "contact.full_name": recipient.name})
    values = merge_values(contact=contact, user=campaign.owner, extra=extra)
    rendered = render_template(campaign.template, values)
    body = rendered.body
    if not UNSUBSCRIBE_FIELD.search(campaign.template.body):
        body = body.rstrip("\n") + "\n\n-- \n" + _("To stop receiving these emails, unsubscribe here: %s") % url + "\n"
    headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return rendered.subject, body, headers


def _outbox_status(status: str) -> Exists:
    # EXISTS on the message's primary key rather than a join: the UPDATE stays one pass over the campaign's
    # recipients whatever the planner believes of a table that just grew by thousands of rows.
    return Exists(OutboxMessage.objects.filter(pk=OuterRef("outbox_message_id"), status=status))


def _mark_delivered(now: dt.datetime) -> None:
    """Set-based: recipients whose message the outbox has sent are sent; those whose message failed
    for good are skipped with the reason. Only campaigns that are sending (or were cancelled lately)."""
    active = Campaign.objects.filter(Q(status=CampaignStatus.SENDING)
                                     | Q(status=CampaignStatus.CANCELLED, finished_at__gte=now - FOLLOW_CANCELLED))
    active_ids = list(active.values_list("id", flat=True))
    if not active_ids:
        return
    CampaignRecipient.objects.filter(_outbox_status(OutboxStatus.SENT), campaign_id__in=active_ids,
                                     status__in=(RecipientStatus.QUEUED, RecipientStatus.SKIPPED),
                                     outbox_message__isnull=False).update(
        status=RecipientStatus.SENT, skip_reason="", status_changed_at=now)
    CampaignRecipient.objects.filter(_outbox_status(OutboxStatus.FAILED), campaign_id__in=active_ids,
                                     status=RecipientStatus.QUEUED).update(
        status=RecipientStatus.SKIPPED, skip_reason=_("Delivery failed after every retry; see the outbox."),
        status_changed_at=now)
    # A dispatch commits a claim with its message, so a queued recipient without one lost it afterwards
    # (an administrator deleted it): without this the campaign would wait for it for ever.
    CampaignRecipient.objects.filter(campaign_id__in=active_ids, status=RecipientStatus.QUEUED,
                                     outbox_message__isnull=True).update(
        status=RecipientStatus.SKIPPED, skip_reason=_("The message was removed from the outbox."),
        status_changed_at=now)


def _dispatch_chunk(campaign_id: int, now: dt.datetime) -> tuple[int, bool]:
    """One transaction: lock the campaign, claim up to what its rate still allows this minute, queue
    their messages. (queued, whether more may follow right away)."""
    from rapport.templating.selectors import with_merge_data

    with transaction.atomic():
        campaign = (Campaign.objects.select_for_update(of=("self",), skip_locked=True)
                    .select_related("template", "owner").filter(pk=campaign_id, status=CampaignStatus.SENDING)
                    .first())
        if campaign is None:  # another worker is dispatching it, or it stopped
            return 0, False
        recipients = CampaignRecipient.objects.filter(campaign_id=campaign_id)
        # Suppressed since the start (an administrator's entry; _suppress handles the rest itself).
        recipients.filter(Exists(Suppression.objects.filter(email_key=OuterRef("email"))),
                          status=RecipientStatus.WAITING).update(
            status=RecipientStatus.SKIPPED, skip_reason=_skip_reason(SuppressionReason.MANUAL), status_changed_at=now)
        allowance = campaign.rate_per_minute - recipients.filter(
            queued_at__gt=now - WINDOW + TICK_TOLERANCE).count()
        if allowance <= 0:
            return 0, False
        take = min(allowance, DISPATCH_CHUNK)
        ids = list(recipients.filter(status=RecipientStatus.WAITING).order_by("id").values_list("id", flat=True)
                   [:take])
        if not ids:
            return 0, False
        # The claim: only rows still waiting become ours (a racing worker's claims are not).
        recipients.filter(pk__in=ids, status=RecipientStatus.WAITING).update(
            status=RecipientStatus.QUEUED, queued_at=now, status_changed_at=now)
        claimed = list(recipients.filter(pk__in=ids, status=RecipientStatus.QUEUED, outbox_message__isnull=True)
                       .order_by("id"))
        contacts = {contact.pk: contact for contact in with_merge_data(Contact.objects.filter(
            pk__in=[row.contact_id for row in claimed if row.contact_id]))}
        messages = []
        for row in claimed:
            subject, body, headers = message_for(campaign, row, contact=contacts.get(row.contact_id or 0),
                                                 token=row.token)
            messages.append(outbox_message(to=[row.email], subject=subject, body=body, kind=CAMPAIGN_KIND,
                                           headers=headers, from_email=campaign.from_email or None))
        for row, message in zip(claimed, queue_emails(messages), strict=True):
            row.outbox_message = message
        CampaignRecipient.objects.bulk_update(claimed, ["outbox_message"], batch_size=500)
        return len(claimed), len(ids) == take and take < allowance


def _finish_if_done(campaign_id: int, now: dt.datetime) -> bool:
    """A sending campaign with nobody waiting or queued is sent."""
    busy = CampaignRecipient.objects.filter(campaign_id=campaign_id,
                                            status__in=(RecipientStatus.WAITING, RecipientStatus.QUEUED))
    if busy.exists():
        return False
    with transaction.atomic():
        done = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, finished_at=now, version=F("version") + 1, updated_at=timezone.now())
        if done:
            campaign = Campaign.objects.get(pk=campaign_id)
            history_record(record=campaign, actor=None, kind=HistoryEntry.Kind.UPDATED,
                           changes={"status": [CampaignStatus.SENDING.value, CampaignStatus.SENT.value],
                                    "finished_at": [None, display_value(now)]})
    return bool(done)


def campaign_dispatch(*, now: dt.datetime | None = None) -> int:
    """The dispatch job: follow what the outbox delivered, hand each sending campaign's next messages to
    the outbox (at most its rate per minute), and mark the campaigns that are done. The number queued.
    Idempotent and safe in several workers at once."""
    now = now or timezone.now()
    _mark_delivered(now)
    queued = 0
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.SENDING).order_by("id") \
            .values_list("id", flat=True):
        more = True
        while more:
            count, more = _dispatch_chunk(campaign_id, now)
            queued += count
        _finish_if_done(campaign_id, now)
    return queued


# --- Unsubscribing, replies and bounces ----------------------------------------------------------------


def _suppress(address: str, reason: str, campaign_id: int | None) -> None:
    """Put an address on the suppression list, and take it out of every campaign still sending: its
    waiting recipients are skipped, and campaign messages to it that no worker has picked up yet are
    withdrawn from the outbox (a message being sent right now is beyond recall)."""
    if not address or address.startswith(NO_ADDRESS):
        return
    key = address.strip().lower()[:254]
    Suppression.objects.bulk_create([Suppression(email_key=key, reason=reason, campaign_id=campaign_id)],
                                    ignore_conflicts=True)
    _withdraw(CampaignRecipient.objects.filter(email=key, campaign__status=CampaignStatus.SENDING),
              _skip_reason(reason), timezone.now())


def _withdraw(recipients: QuerySet[CampaignRecipient], reason: str, now: dt.datetime) -> None:
    """Skip these recipients where it is not too late: those waiting, and those whose message no worker
    has picked up yet (it is taken back from the outbox; one being sent right now is beyond recall)."""
    queued = list(recipients.filter(status=RecipientStatus.QUEUED, outbox_message__status=OutboxStatus.QUEUED)
                  .values_list("pk", "outbox_message_id"))
    still_there: set[int] = set()
    if queued:
        OutboxMessage.objects.filter(pk__in=[message for _pk, message in queued], status=OutboxStatus.QUEUED).delete()
        still_there = set(OutboxMessage.objects.filter(pk__in=[message for _pk, message in queued])
                          .values_list("pk", flat=True))
    taken_back = [pk for pk, message in queued if message not in still_there]
    recipients.filter(Q(status=RecipientStatus.WAITING) | Q(pk__in=taken_back)).update(
        status=RecipientStatus.SKIPPED, skip_reason=reason, status_changed_at=now)


@transaction.atomic
def recipient_unsubscribe(*, token: str) -> bool:
    """Unsubscribe the recipient a link names, for good (the address is suppressed); False for an unknown
    token. Unsubscribing twice is fine."""
    recipient = CampaignRecipient.objects.filter(token=token).first() if token else None
    if recipient is None:
        return False
    CampaignRecipient.objects.filter(pk=recipient.pk).exclude(status=RecipientStatus.UNSUBSCRIBED).update(
        status=RecipientStatus.UNSUBSCRIBED, status_changed_at=timezone.now())
    _suppress(recipient.email, SuppressionReason.UNSUBSCRIBED, recipient.campaign_id)
    return True


def recipient_for_token(token: str) -> CampaignRecipient | None:
    """The recipient an unsubscribe link names (only to tell whether the link is real)."""
    if not token or len(token) > 64:
        return None
    return CampaignRecipient.objects.filter(token=token).only("id", "status").first()


def _id_forms(message_ids: Iterable[str]) -> list[str]:
    """Stored Message-IDs ("<…@domain>") a given id may be: as written, in lower case, with the
    server's own domain in the case it is configured in."""
    from rapport.mail.services import _message_domain

    domain = _message_domain()
    forms: set[str] = set()
    for raw in list(message_ids)[-50:]:  # a long References header: its newest ids
        value = (raw or "").strip().strip("<>").strip()
        if not value or len(value) > 250:
            continue
        forms.update({f"<{value}>", f"<{value.lower()}>"})
        local, at, _rest = value.rpartition("@")
        if at:
            forms.add(f"<{local}@{domain}>")
    return sorted(forms)


def _recipients_of(message_ids: Sequence[str]) -> list[CampaignRecipient]:
    forms = _id_forms(message_ids)
    if not forms:
        return []
    outbox = OutboxMessage.objects.filter(message_id__in=forms, kind=CAMPAIGN_KIND).values("id")
    return list(CampaignRecipient.objects.filter(outbox_message_id__in=outbox))


def campaign_feedback(*, in_reply_to: Sequence[str], bounced_message_ids: Sequence[str],
                      bounced_addresses: Sequence[str]) -> bool:
    """What an inbound message tells about a campaign (called for every message received, before it is
    logged). A bounce naming a campaign message (or, failing that, an address a campaign mailed in the
    last 30 days) marks the recipient bounced, suppresses the address and answers True: the bounce is
    not logged. A reply to a campaign message marks the recipient replied and answers False: the reply
    is logged as usual. Anything else: False, and nothing written. Indexed lookups only."""
    if bounced_message_ids or bounced_addresses:
        bounced = _recipients_of(bounced_message_ids)
        # By address only when the report names none of Rapport's own messages: a bounce of a support
        # request is not a campaign's, whoever else mailed that address.
        if not bounced and bounced_addresses and not _names_outbox_message(bounced_message_ids):
            bounced = _recently_mailed(bounced_addresses)
        if bounced:
            with transaction.atomic():
                CampaignRecipient.objects.filter(pk__in=[row.pk for row in bounced]).exclude(
                    status=RecipientStatus.UNSUBSCRIBED).update(status=RecipientStatus.BOUNCED,
                                                                status_changed_at=timezone.now())
                for row in bounced:
                    _suppress(row.email, SuppressionReason.BOUNCED, row.campaign_id)
            return True
    if in_reply_to:
        replied = _recipients_of(in_reply_to)
        if replied:
            CampaignRecipient.objects.filter(
                pk__in=[row.pk for row in replied],
                status__in=(RecipientStatus.QUEUED, RecipientStatus.SENT)).update(
                status=RecipientStatus.REPLIED, status_changed_at=timezone.now())
    return False


def _recently_mailed(addresses: Sequence[str]) -> list[CampaignRecipient]:
    """Recipients with one of the addresses, handed to the outbox by a campaign started in the last
    30 days: the few recent campaigns, then the (campaign, email) index of each."""
    keys = sorted({address.strip().strip("<>").lower() for address in addresses if address and "@" in address})
    if not keys:
        return []
    since = timezone.now() - BOUNCE_WINDOW
    rows = (CampaignRecipient.objects.filter(campaign__started_at__gte=since, email__in=keys[:50],
                                             outbox_message__status=OutboxStatus.SENT)
            .order_by("email", "-outbox_message__sent_at", "-id"))
    # The campaign that mailed the address last is the one whose message bounced, not every campaign.
    latest: dict[str, CampaignRecipient] = {}
    for row in rows:
        latest.setdefault(row.email, row)
    return list(latest.values())


def _names_outbox_message(message_ids: Sequence[str]) -> bool:
    forms = _id_forms(message_ids)
    return bool(forms) and OutboxMessage.objects.filter(message_id__in=forms).exists()
