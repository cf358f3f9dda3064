"""Permission-matrix subjects and snapshot tables of distribution lists, campaigns, recipients and suppressions.

RECORD_SUBJECTS: builders of a business record owned by `owner`, one per visibility (as in world.py);
OTHER_SUBJECTS: builders of anything else a URL names; SNAPSHOT: table name -> rows, for the check
that a denied write changes nothing.

The lists and campaigns are `owner`'s. People on lists are the cast's own contact subject shared with
everyone (a contact of our own would show in the contact lists, which the matrix checks for exactly the
cast's contacts): as it is built after these subjects, the OTHER_SUBJECTS builder "filled lists" puts it
on the lists that need someone. "distribution list" is an empty static list (people are added to it);
"filled distribution list" has that contact on it (to take off); a "campaign" is a draft to that filled
list; a "sending campaign" has one waiting recipient; the "campaign recipient" of the public unsubscribe
link has unsubscribed already, so that an anonymous visitor's request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

_SHARED: dict[int, dict[str, Any]] = {}


def _shared(personas: Personas) -> dict[str, Any]:
    """The template and the list the campaigns use, made once per cast."""
    from rapport.templating.models import Template
    from tests.factories import DistributionListFactory, TemplateFactory

    cached = _SHARED.get(id(personas))
    if cached is None or not Template.objects.filter(pk=cached["template"].pk, owner=personas.owner).exists():
        # (A cast of an earlier module, rolled back, may have left its entry under a reused id.)
        owner = personas.owner
        _SHARED[id(personas)] = {
            "template": TemplateFactory(owner=owner, name="Matrix campaign template", subject="Hello",
                                        body="Hello {{ contact.first_name }}"),
            "campaign list": DistributionListFactory(owner=owner, name="Matrix campaign list"),
        }
    return _SHARED[id(personas)]


def _list(personas: Personas, visibility: str, *, deleted: bool = False, filled: bool = False) -> Any:
    from django.utils import timezone

    from rapport.campaigns.models import DistributionList
    from tests.factories import DistributionListFactory

    distribution_list = DistributionListFactory(
        owner=personas.owner, visibility=visibility, category="Matrix",
        name=f"Subject list {'filled ' if filled else ''}{visibility}{' gone' if deleted else ''}",
        deleted_at=timezone.now() if deleted else None)
    return DistributionList.objects.get(pk=distribution_list.pk)


def _campaign(personas: Personas, visibility: str, *, deleted: bool = False, sending: bool = False) -> Any:
    from django.utils import timezone

    from rapport.campaigns.models import Campaign, CampaignRecipient
    from tests.factories import CampaignFactory

    shared = _shared(personas)
    campaign = CampaignFactory(
        owner=personas.owner, visibility=visibility, template=shared["template"],
        distribution_list=shared["campaign list"],
        name=f"Subject campaign {'sending ' if sending else ''}{visibility}{' gone' if deleted else ''}",
        status="sending" if sending else "draft", started_at=timezone.now() if sending else None,
        deleted_at=timezone.now() if deleted else None)
    if sending:
        CampaignRecipient.objects.create(campaign=campaign, email=f"matrix-{visibility}@example.com",
                                         name="Matrix Recipient")
    return Campaign.objects.get(pk=campaign.pk)


def _fill_lists(personas: Personas) -> list[Any]:
    """Put the contact subject shared with everyone on the filled lists and the campaigns' list."""
    from rapport.campaigns.models import DistributionList, DistributionListMember
    from rapport.directory.models import Contact

    contact = Contact.objects.get(owner=personas.owner, last_name="Subject everyone")
    lists = [_shared(personas)["campaign list"],
             *DistributionList.objects.filter(owner=personas.owner, name__startswith="Subject list filled ")]
    DistributionListMember.objects.bulk_create(
        [DistributionListMember(distribution_list=distribution_list, contact=contact) for distribution_list in lists])
    return lists


def _unsubscribed(personas: Personas) -> Any:
    from rapport.campaigns import services
    from rapport.campaigns.models import CampaignRecipient

    campaign = _campaign(personas, "everyone", sending=True)
    recipient = CampaignRecipient.objects.get(campaign=campaign)
    services.recipient_unsubscribe(token=recipient.token)
    return CampaignRecipient.objects.get(pk=recipient.pk)


def _open_list(personas: Personas) -> Any:
    from tests.factories import DistributionListFactory

    return DistributionListFactory(owner=personas.owner, name="Matrix open list", visibility="everyone")


def _rows(model_label: str) -> Callable[[], Any]:
    def rows() -> Any:
        from django.apps import apps

        return apps.get_model(model_label).objects.order_by("pk").values()

    return rows


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "distribution list": _list,
    "deleted distribution list": lambda p, v: _list(p, v, deleted=True),
    "filled distribution list": lambda p, v: _list(p, v, filled=True),
    "deleted filled distribution list": lambda p, v: _list(p, v, filled=True, deleted=True),
    "campaign": _campaign,
    "deleted campaign": lambda p, v: _campaign(p, v, deleted=True),
    "sending campaign": lambda p, v: _campaign(p, v, sending=True),
    "deleted sending campaign": lambda p, v: _campaign(p, v, sending=True, deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {
    "filled lists": _fill_lists,
    "open distribution list": _open_list,
    "campaign template": lambda p: _shared(p)["template"],
    "campaign recipient": _unsubscribed,
}
SNAPSHOT: dict[str, Callable[[], Any]] = {
    "distribution_lists": _rows("campaigns.DistributionList"),
    "distribution_list_members": _rows("campaigns.DistributionListMember"),
    "campaigns": _rows("campaigns.Campaign"),
    "campaign_recipients": _rows("campaigns.CampaignRecipient"),
    "suppressions": _rows("campaigns.Suppression"),
}
