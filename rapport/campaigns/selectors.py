"""Reads of distribution lists, campaigns and their recipients, always through visible_to(user).

Who is on a list is computed for the person looking: a static list's members are the contacts added
to it that the viewer may see; a dynamic list's are the contacts its saved filter finds for the viewer,
now. A campaign evaluates its list once, as the campaign's owner, when it starts (services.campaign_start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from rapport.campaigns.filters import filter_campaigns, filter_lists, filter_recipients
from rapport.campaigns.models import (
    Campaign,
    CampaignRecipient,
    DistributionList,
    DistributionListMember,
    ListKind,
    RecipientStatus,
)
from rapport.core.access import access_record, can, record_visible
from rapport.core.history import history_for
from rapport.core.models import Action, User
from rapport.core.pagination import capped_count
from rapport.directory.models import Account, Contact
from rapport.directory.selectors import CONTACT_ROW, contact_list
from rapport.templating.models import Template, TemplateKind

# A record's "Distribution lists" panel checks this many dynamic lists (by name) against the record:
# each costs a few small indexed queries. The panel says when there are more.
PANEL_DYNAMIC_LISTS = 20
# People shown per list on an account's panel, and static memberships read for it.
PANEL_PEOPLE = 50
PANEL_MEMBERSHIPS = 500
# Lists offered in a picker ("Add to list", a campaign's list).
CHOICES = 200


# --- Members -----------------------------------------------------------------------------------------


def _criteria_contacts(*, user: Any, distribution_list: DistributionList) -> QuerySet[Contact]:
    """The contacts a dynamic list's filter finds, as `user` sees them; a ValidationError when the
    filter no longer works for them (an account it names was deleted, or is hidden from them)."""
    return contact_list(user=user, params=dict(distribution_list.criteria or {}))


def list_contacts(*, user: Any, distribution_list: DistributionList) -> QuerySet[Contact]:
    """The contacts on a list as `user` sees them (alive and visible to them).

    A static list: the contacts added to it. A dynamic list: the contacts its saved filter finds,
    evaluated now, for this user (so two people may see different members; a campaign evaluates it
    as its owner when it starts). A dynamic list whose filter no longer works for the user (it names
    an account they cannot see) has no members for them; `criteria_problem` says why.
    The queryset is unordered; callers order it (by name_key, id for pages).
    """
    if distribution_list.kind == ListKind.DYNAMIC:
        try:
            return _criteria_contacts(user=user, distribution_list=distribution_list)
        except ValidationError:
            return Contact.objects.none()
    return (Contact.objects.visible_to(user).select_related("owner", "account")
            .filter(list_memberships__distribution_list_id=distribution_list.pk))


def list_contacts_strict(*, user: Any, distribution_list: DistributionList) -> QuerySet[Contact]:
    """list_contacts, but a dynamic list whose filter no longer works is a ValidationError on
    `distribution_list` saying why (for starting a campaign)."""
    if distribution_list.kind != ListKind.DYNAMIC:
        return list_contacts(user=user, distribution_list=distribution_list)
    try:
        return _criteria_contacts(user=user, distribution_list=distribution_list)
    except ValidationError as exc:
        raise ValidationError({"distribution_list": [
            _("The list's filter no longer works for %(user)s: %(why)s")
            % {"user": user, "why": criteria_text(exc)}]}) from None


def criteria_text(exc: ValidationError) -> str:
    """A filter's refusal as one line, naming the filter ("account: No such account.")."""
    if hasattr(exc, "error_dict"):
        return " ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def criteria_problem(*, user: Any, distribution_list: DistributionList) -> str | None:
    """Why a dynamic list's filter finds nobody for this user (it names an account they cannot see), or None."""
    if distribution_list.kind != ListKind.DYNAMIC:
        return None
    try:
        _criteria_contacts(user=user, distribution_list=distribution_list)
    except ValidationError as exc:
        return criteria_text(exc)
    return None


def member_rows(*, user: Any, distribution_list: DistributionList) -> QuerySet[Contact]:
    """list_contacts with only the columns the members table shows."""
    return list_contacts(user=user, distribution_list=distribution_list).only(*CONTACT_ROW)


def member_count(*, user: Any, distribution_list: DistributionList) -> tuple[int, bool]:
    """How many members the user sees, exact up to 1,000: (count, more than that)."""
    return capped_count(list_contacts(user=user, distribution_list=distribution_list))


def criteria_account(*, user: Any, distribution_list: DistributionList) -> Account | None:
    """The account a dynamic list's filter names, if the user may see it (to show it by name)."""
    public_id = (distribution_list.criteria or {}).get("account")
    if not public_id or not isinstance(public_id, str):
        return None
    return Account.objects.visible_to(user).filter(public_id=public_id).only("id", "public_id", "name").first()


def criteria_owner(*, distribution_list: DistributionList) -> User | None:
    """The user a dynamic list's filter names as the contacts' owner (colleagues are visible to all)."""
    public_id = (distribution_list.criteria or {}).get("owner")
    if not public_id or not isinstance(public_id, str):
        return None
    return User.objects.filter(public_id=public_id).first()


# --- Lists -------------------------------------------------------------------------------------------


def distribution_list_list(*, user: Any, params: Any) -> QuerySet[DistributionList]:
    """The visible lists the filters pick (q: the start of the name, category, kind, owner)."""
    qs = DistributionList.objects.visible_to(user).select_related("owner")
    return filter_lists(qs, params, user=user)


def distribution_list_get(*, user: Any, public_id: str, action: str = Action.READ,
                          deleted: bool = False) -> DistributionList:
    """One list: 404 if the user may not see it, 403 if they may not do `action` to it."""
    qs = DistributionList.objects.select_related("owner", "created_by")
    return access_record(user, DistributionList, public_id, action, queryset=qs, deleted=deleted)


def list_categories(*, user: Any) -> list[str]:
    """The categories of the lists the user sees, for the filters (read from the category index)."""
    rows = (DistributionList.objects.visible_to(user).exclude(category="").order_by("category")
            .values_list("category", flat=True).distinct()[:200])
    return list(rows)


def list_detail(*, user: Any, distribution_list: DistributionList) -> dict[str, Any]:
    """What a list's page shows besides its members: the account its filter names, why the filter
    finds nobody for the viewer (if so), its history."""
    return {
        "distribution_list": distribution_list,
        "criteria_account": criteria_account(user=user, distribution_list=distribution_list),
        "criteria_owner": criteria_owner(distribution_list=distribution_list),
        "criteria_problem": criteria_problem(user=user, distribution_list=distribution_list),
        "history": history_for(distribution_list, user=user),
    }


def list_choices(*, user: Any) -> QuerySet[DistributionList]:
    """Lists a campaign may go to: those the user sees, by name."""
    return (DistributionList.objects.visible_to(user).only("id", "public_id", "name", "kind", "category")
            .order_by("name_key", "id"))


def lists_to_add_to(*, user: Any) -> list[DistributionList]:
    """Static lists the user may add people to (they may change the list), by name."""
    rows = (DistributionList.objects.visible_to(user).filter(kind=ListKind.STATIC)
            .only("id", "public_id", "name", "category", "owner_id").order_by("name_key", "id")[:CHOICES])
    return [row for row in rows if can(user, DistributionList.record_type, Action.UPDATE, row)]


# --- The "Distribution lists" panel of account and contact pages -------------------------------------


@dataclass
class PanelRow:
    """A list a record is on, and (on an account's page) which of its people are."""

    distribution_list: DistributionList
    people: list[Contact] = field(default_factory=list)
    names_account: bool = False  # a dynamic list whose filter names this account


@dataclass
class Panel:
    rows: list[PanelRow]
    unchecked_dynamic: bool  # more dynamic lists than the panel checks
    categories: list[str]


def _visible_lists(user: Any, category: str) -> QuerySet[DistributionList]:
    qs = DistributionList.objects.visible_to(user)
    return qs.filter(category=category) if category else qs


def _dynamic_lists(user: Any, category: str) -> tuple[list[DistributionList], bool]:
    rows = list(_visible_lists(user, category).filter(kind=ListKind.DYNAMIC)
                .order_by("name_key", "id")[:PANEL_DYNAMIC_LISTS + 1])
    return rows[:PANEL_DYNAMIC_LISTS], len(rows) > PANEL_DYNAMIC_LISTS


def record_lists(*, user: Any, record: Any, category: str = "") -> Panel:
    """The lists an account's people, or a contact, are on, as the user sees them, by list name.

    Static lists: the memberships of the record's visible contacts (one query). Dynamic lists: the
    first PANEL_DYNAMIC_LISTS the user sees, each evaluated for this record alone (the account's
    contacts, or the contact); a list whose filter names another account is skipped without a query,
    one whose filter names this account shows even when none of its people match.
    """
    lists = _visible_lists(user, category)
    contacts = Contact.objects.visible_to(user)
    if record.record_type == "account":
        contacts = contacts.filter(account_id=record.pk)
    else:
        contacts = contacts.filter(pk=record.pk)
    memberships = (DistributionListMember.objects.filter(contact__in=contacts.values("id"),
                                                         distribution_list__in=lists.values("id"))
                   .select_related("distribution_list", "contact")
                   .order_by("distribution_list__name_key", "distribution_list_id", "contact__name_key")
                   [:PANEL_MEMBERSHIPS])
    by_list: dict[int, PanelRow] = {}
    for membership in memberships:
        row = by_list.setdefault(membership.distribution_list_id, PanelRow(membership.distribution_list))
        if len(row.people) < PANEL_PEOPLE:
            row.people.append(membership.contact)
    account_id = record.public_id if record.record_type == "account" else None
    if record.record_type == "contact" and record.account_id:
        account_id = Account.objects.filter(pk=record.account_id).values_list("public_id", flat=True).first()
    dynamic, more = _dynamic_lists(user, category)
    for distribution_list in dynamic:
        named = (distribution_list.criteria or {}).get("account")
        if named and named != account_id:
            continue  # the filter names another account: nobody here can match
        try:
            matches = _criteria_contacts(user=user, distribution_list=distribution_list)
        except ValidationError:
            continue  # its filter does not work for this user (criteria_problem says why on its page)
        if record.record_type == "account":
            people = list(matches.filter(account_id=record.pk).order_by("name_key", "id")[:PANEL_PEOPLE])
        else:
            people = [record] if matches.filter(pk=record.pk).exists() else []
        if people or named:
            by_list[distribution_list.pk] = PanelRow(distribution_list, people, names_account=bool(named))
    rows = sorted(by_list.values(), key=lambda row: (row.distribution_list.name_key, row.distribution_list.pk))
    return Panel(rows=rows, unchecked_dynamic=more, categories=list_categories(user=user))


# --- Campaigns ---------------------------------------------------------------------------------------


def campaign_list(*, user: Any, params: Any) -> QuerySet[Campaign]:
    """The visible campaigns the filters pick (q: the start of the name, status, list, owner)."""
    qs = Campaign.objects.visible_to(user).select_related("owner", "distribution_list", "template")
    return filter_campaigns(qs, params, user=user)


def campaign_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Campaign:
    qs = Campaign.objects.select_related("owner", "created_by", "distribution_list", "template")
    return access_record(user, Campaign, public_id, action, queryset=qs, deleted=deleted)


def template_choices(*, user: Any) -> QuerySet[Template]:
    """Email templates a campaign may send: those the user sees, by name."""
    return (Template.objects.visible_to(user).filter(kind=TemplateKind.EMAIL)
            .only("id", "public_id", "name", "owner_id", "visibility", "deleted_at").order_by("name_key", "id"))


def recipient_counts(*, campaign: Campaign) -> dict[str, int]:
    """How many recipients are in each status (every status, zero included): one grouped query."""
    counts = dict.fromkeys(RecipientStatus.values, 0)
    rows = (CampaignRecipient.objects.filter(campaign=campaign).order_by().values_list("status")
            .annotate(n=Count("id")))
    for status, n in rows:
        counts[status] = n
    return counts


def recipient_list(*, user: Any, campaign: Campaign, params: Any) -> QuerySet[CampaignRecipient]:
    """A campaign's recipients (the campaign was found through visible_to), filtered by status and
    the start of the address: all of them, with names and addresses as they were when it started, for
    whoever may change the campaign (who starts it answers for whom it reaches); for anyone else only
    those whose contact they may see themselves."""
    qs = CampaignRecipient.objects.filter(campaign=campaign)
    if not can(user, Campaign.record_type, Action.UPDATE, campaign):
        qs = qs.filter(contact__in=Contact.objects.visible_to(user).values("pk"))
    return filter_recipients(qs, params)


def campaign_detail(*, user: Any, campaign: Campaign) -> dict[str, Any]:
    """What a campaign's page shows besides its recipients: the counts per status, whether the viewer
    may open its list and template, its history."""
    return {
        "campaign": campaign,
        "counts": recipient_counts(campaign=campaign),
        "list_visible": record_visible(user, campaign.distribution_list),
        "template_visible": record_visible(user, campaign.template),
        "history": history_for(campaign, user=user),
    }


def preview_candidates(*, user: Any, campaign: Campaign, limit: int = 20) -> list[Contact]:
    """The first people on the campaign's list, as the user sees them, to preview the message for."""
    members = list_contacts(user=user, distribution_list=campaign.distribution_list)
    return list(members.only(*CONTACT_ROW).order_by("name_key", "id")[:limit])
