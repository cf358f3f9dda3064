"""Pinned query counts of the distribution list and campaign pages and endpoints: the same for 3 rows of
each kind as for 30 (no query per list, member, campaign or recipient).

If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.campaigns import services
from rapport.campaigns.models import Campaign, CampaignRecipient, DistributionList, DistributionListMember
from tests.campaigns import people
from tests.conftest import client_for
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, DistributionListFactory, TemplateFactory

pytestmark = pytest.mark.django_db

# Session + user (2), rights (1), the nav badges (pending email, support requests: 1, counted together), then the page.
PAGES: dict[str, tuple[str, int]] = {
    # + the page of lists with owners (1), the categories (1), the owner choices (1)
    "list_list": ("/distribution-lists/", 7),
    # + the list (1), the members page (1), the account its filter names: none (0), history (1)
    "list_detail": ("/distribution-lists/{static}/", 7),
    # + the list (1), the members page: the id of the account the filter names (1) and the contacts (1),
    # the account by name (1), checking the filter again for why it might find nobody (1), history (1)
    "list_detail_dynamic": ("/distribution-lists/{dynamic}/", 10),
    # + the campaigns page with owner, list and template (1), the owner choices (1)
    "campaign_list": ("/campaigns/", 6),
    # + the campaign with its list and template (1), the recipients page (1), counts per status (1),
    # history (1), the first people on the list to preview for (1)
    "campaign_detail": ("/campaigns/{campaign}/", 9),
}
# The panel of a record's page (a fragment: no nav badges): session + user (2), rights (1), the record (1),
# then the panel: memberships with lists and contacts (1), the dynamic lists (1), for each one that may
# match (here one, filtering on the account) the id of the account it names (1) and its people (1), the
# categories (1). A contact's panel also reads the contact's account id (1) and the lists to add to (1).
PANELS: dict[str, tuple[str, int]] = {
    "panel_account": ("/distribution-lists/about/{account_ref}/", 9),
    "panel_contact": ("/distribution-lists/about/{contact_ref}/", 11),
}
# Token (1), rights (1), then the rows.
API: dict[str, tuple[str, int]] = {
    "lists": ("distribution-lists", 3),  # the page of lists with owners
    "members": ("distribution-lists/{static}/members", 4),  # the list, the members page with accounts
    "campaigns": ("campaigns", 3),  # the page of campaigns with owners, lists and templates
    "campaign": ("campaigns/{campaign}", 4),  # the campaign, its counts per status
    "recipients": ("campaigns/{campaign}/recipients", 4),  # the campaign, the recipients with contacts
}


def count(call, *, status: int = 200) -> int:
    call()  # warm: content types, the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        result = call()
    assert result.status_code == status, result.content[:500]
    return len(queries)


@pytest.fixture
def world(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Nordwind")
    contact = ContactFactory(owner=owner, account=account, email="anna@nordwind.example")
    static = DistributionListFactory(owner=owner, name="Static", members=[contact])
    dynamic = DistributionListFactory(owner=owner, name="Dynamic", kind="dynamic",
                                      criteria={"account": account.public_id})
    campaign = CampaignFactory(owner=owner, distribution_list=static,
                               template=TemplateFactory(owner=owner, subject="Hi"))
    return {"account": account, "contact": contact, "static": static, "dynamic": dynamic, "campaign": campaign}


def populate(personas, world, n: int) -> None:
    """n more lists, members, campaigns and recipients, some hidden from the viewer (personas.owner)."""
    owner = personas.owner
    crowd = people(owner, n, prefix=f"crowd{DistributionListMember.objects.count()}x", account=world["account"])
    DistributionListMember.objects.bulk_create(
        [DistributionListMember(distribution_list=world["static"], contact=c) for c in crowd])
    for i in range(n):
        DistributionListFactory(owner=owner, category=f"Category {i % 3}", members=[crowd[i], world["contact"]])
        DistributionListFactory(owner=personas.outsider, visibility="private", members=[world["contact"]])
        CampaignFactory(owner=owner if i % 2 else personas.teammate)
    crowd_list = DistributionListFactory(owner=owner, members=crowd)
    started = CampaignFactory(owner=owner, distribution_list=crowd_list, template=world["campaign"].template)
    services.campaign_start(actor=owner, campaign=started)
    CampaignRecipient.objects.filter(campaign=started).update(campaign=world["campaign"], status="sent")
    Campaign.objects.filter(pk=started.pk).delete()


def _urls(world) -> dict[str, str]:
    return {"static": world["static"].public_id, "dynamic": world["dynamic"].public_id,
            "campaign": world["campaign"].public_id, "account_ref": world["account"].ref,
            "contact_ref": world["contact"].ref}


def test_page_query_counts_are_pinned_and_flat(personas, world):
    client = client_for(personas.owner)
    urls = {name: template.format(**_urls(world)) for name, (template, _n) in {**PAGES, **PANELS}.items()}
    populate(personas, world, 3)
    small = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    populate(personas, world, 27)
    assert DistributionList.objects.count() > 60
    large = {name: count(lambda url=url: client.get(url)) for name, url in urls.items()}
    assert large == small
    assert small == {name: expected for name, (_t, expected) in {**PAGES, **PANELS}.items()}


def test_api_query_counts_are_pinned_and_flat(personas, world, api_for):
    client = api_for(personas.owner)
    paths = {name: template.format(**_urls(world)) for name, (template, _n) in API.items()}
    populate(personas, world, 3)
    small = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    populate(personas, world, 27)
    large = {name: count(lambda path=path: client.get(path)) for name, path in paths.items()}
    assert large == small
    assert small == {name: expected for name, (_t, expected) in API.items()}
