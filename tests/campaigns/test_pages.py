"""The pages: distribution lists (list, form, detail with members, add and remove), the record panel of
account and contact pages, campaigns (list, form, detail with recipients and preview, start, cancel)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rapport.campaigns import services
from rapport.campaigns.models import Campaign, CampaignStatus, DistributionList, DistributionListMember
from tests.campaigns import people, static_list
from tests.conftest import client_for
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    DistributionListFactory,
    TemplateFactory,
)

pytestmark = pytest.mark.django_db


def test_the_list_of_lists_filters_by_name_category_and_kind(personas):
    owner = personas.owner
    DistributionListFactory(owner=owner, name="Autumn fair", category="Events")
    DistributionListFactory(owner=owner, name="Newsletter DE", category="Newsletter")
    DistributionListFactory(owner=owner, name="North", category="Newsletter", kind="dynamic", criteria={"q": "a"})
    client = client_for(owner)
    page = client.get(reverse("distribution_list_list")).content.decode()
    assert all(name in page for name in ("Autumn fair", "Newsletter DE", "North"))
    assert '<option value="Events">Events</option>' in page
    filtered = client.get(reverse("distribution_list_list"), {"category": "Newsletter", "kind": "dynamic"})
    assert "North" in filtered.content.decode() and "Autumn fair" not in filtered.content.decode()
    assert "Newsletter DE" not in client.get(reverse("distribution_list_list"), {"q": "aut"}).content.decode()
    bad = client.get(reverse("distribution_list_list"), {"kind": "weird", "color": "red"})
    assert bad.status_code == 400 and "color" in bad.content.decode()
    count = client.get(reverse("distribution_list_list"), {"part": "count"})
    assert "3 found" in count.content.decode()


def test_creating_a_dynamic_list_from_the_form_names_a_bad_filter(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Nordwind")
    client = client_for(owner)
    form = {"name": "Nordwind people", "category": "Customer relationship", "kind": "dynamic", "description": "",
            "owner": owner.public_id, "visibility": "everyone", "filter_q": "", "filter_account": "",
            "filter_owner": "", "filter_attrs": ""}
    empty = client.post(reverse("distribution_list_create"), form)
    assert empty.status_code == 400 and "at least one filter" in empty.content.decode()
    bad = client.post(reverse("distribution_list_create"), {**form, "filter_attrs": "no colon here"})
    assert bad.status_code == 400 and "attr" in bad.content.decode()
    assert not DistributionList.objects.exists()
    made = client.post(reverse("distribution_list_create"), {**form, "filter_account": account.public_id,
                                                             "filter_attrs": "region:north\n"})
    assert made.status_code == 302
    saved = DistributionList.objects.get()
    assert saved.criteria == {"account": account.public_id, "attr": ["region:north"]}
    detail = client.get(made["Location"]).content.decode()
    assert "Nordwind" in detail and "region:north" in detail
    edit = client.get(reverse("distribution_list_edit", args=[saved.public_id])).content.decode()
    assert f'value="{account.public_id}" selected' in edit and "region:north" in edit


def test_the_list_page_pages_its_members_and_adds_and_removes_people(personas):
    owner = personas.owner
    crowd = people(owner, 55)
    distribution_list = static_list(owner, crowd)
    newcomer = ContactFactory(owner=owner, first_name="Nina", last_name="Neu")
    client = client_for(owner)
    url = reverse("distribution_list_detail", args=[distribution_list.public_id])
    page = client.get(url).content.decode()
    assert page.count('name="contact" value="') == 50 and 'rel="next"' in page
    assert "55 found" in client.get(url, {"part": "count"}).content.decode()
    added = client.post(reverse("distribution_list_member_add", args=[distribution_list.public_id]),
                        {"contact": newcomer.public_id})
    assert added.status_code == 302
    assert DistributionListMember.objects.filter(contact=newcomer).exists()
    refused = client.post(reverse("distribution_list_member_add", args=[distribution_list.public_id]),
                          {"contact": "zzzzzzzzzzzzzzzz"})
    assert refused.status_code == 400 and "valid choice" in refused.content.decode()
    removed = client.post(reverse("distribution_list_member_remove", args=[distribution_list.public_id]),
                          {"contact": newcomer.public_id})
    assert removed.status_code == 302 and not DistributionListMember.objects.filter(contact=newcomer).exists()
    # Someone who may not change the list sees it without the forms.
    other = client_for(personas.teammate).get(url).content.decode()
    assert "Add to the list" not in other and "Remove" not in other


def test_the_account_panel_filters_by_category_and_names_people(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Nordwind")
    anna = ContactFactory(owner=owner, account=account, first_name="Anna", last_name="Berg")
    DistributionListFactory(owner=owner, name="Newsletter", category="Newsletter", members=[anna])
    DistributionListFactory(owner=owner, name="Fair invitations", category="Events", members=[anna])
    client = client_for(owner)
    url = reverse("record_distribution_lists", args=[account.ref])
    page = client.get(url).content.decode()
    assert "Newsletter" in page and "Fair invitations" in page and "Anna Berg" in page
    only = client.get(url, {"category": "Events"}, headers={"HX-Request": "true"}).content.decode()
    assert "Fair invitations" in only and ">Newsletter</a>" not in only
    assert "Distribution lists" in client.get(reverse("account_detail", args=[account.public_id])).content.decode()


def test_add_to_list_from_a_contacts_page(personas):
    owner = personas.owner
    contact = ContactFactory(owner=owner, first_name="Carl", last_name="Dahl")
    mine = DistributionListFactory(owner=owner, name="Mine")
    theirs = DistributionListFactory(owner=personas.teammate, name="Theirs")
    client = client_for(owner)
    url = reverse("record_distribution_lists", args=[contact.ref])
    panel = client.get(url).content.decode()
    assert "Add to list" in panel and mine.public_id in panel and theirs.public_id not in panel
    answer = client.post(url, {"distribution_list": mine.public_id})
    assert answer.status_code == 302 and answer["Location"] == reverse("contact_detail", args=[contact.public_id])
    assert DistributionListMember.objects.filter(distribution_list=mine, contact=contact).exists()
    assert client.post(url, {"distribution_list": theirs.public_id}).status_code == 403
    assert client.post(url, {"distribution_list": "zzzzzzzzzzzzzzzz"}).status_code == 404
    account = AccountFactory(owner=owner)
    assert client.post(reverse("record_distribution_lists", args=[account.ref]),
                       {"distribution_list": mine.public_id}).status_code == 404
    assert DistributionListMember.objects.count() == 1


def test_a_campaign_from_form_to_sending(personas):
    owner = personas.owner
    distribution_list = static_list(owner, people(owner, 3), name="Spring news")
    template = TemplateFactory(owner=owner, name="Spring", subject="Spring at {{ account.name }}",
                               body="Hi {{ contact.first_name }}")
    client = client_for(owner)
    form = {"name": "Spring campaign", "distribution_list": distribution_list.public_id,
            "template": template.public_id, "rate_per_minute": "60", "from_email": "", "owner": owner.public_id,
            "visibility": "everyone"}
    new_page = client.get(reverse("campaign_create"), {"list": distribution_list.public_id}).content.decode()
    assert f'value="{distribution_list.public_id}" selected' in new_page
    bad = client.post(reverse("campaign_create"), {**form, "rate_per_minute": "0", "from_email": "nope"})
    assert bad.status_code == 400 and not Campaign.objects.exists()
    assert client.post(reverse("campaign_create"), form).status_code == 302
    campaign = Campaign.objects.get()
    detail_url = reverse("campaign_detail", args=[campaign.public_id])
    detail = client.get(detail_url).content.decode()
    assert "Start sending" in detail and "Spring news" in detail and "Preview" in detail
    first = distribution_list.members.order_by("contact__name_key").first().contact
    preview = client.get(reverse("campaign_preview", args=[campaign.public_id]), {"contact": first.public_id})
    text = preview.content.decode()
    assert preview.status_code == 200 and f"Hi {first.first_name}" in text and "/unsubscribe/preview/" in text
    assert client.get(reverse("campaign_preview", args=[campaign.public_id]), {"contact": "x"}).status_code == 400
    started = client.post(reverse("campaign_start", args=[campaign.public_id]), {"version": campaign.version})
    assert started.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    page = client.get(detail_url).content.decode()
    assert "Cancel the campaign" in page and "Waiting" in page and first.email in page
    assert "Start sending" not in page and ">Edit<" not in page
    waiting = client.get(detail_url, {"status": "waiting"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert waiting.status_code == 200 and waiting.content.decode().count("recipient-waiting") == 3
    assert client.get(detail_url, {"status": "nonsense"}).status_code == 400
    again = client.post(reverse("campaign_start", args=[campaign.public_id]), {"version": campaign.version})
    assert again.status_code == 302  # back to the page, with the reason
    edit = client.get(reverse("campaign_edit", args=[campaign.public_id]))
    assert edit.status_code == 302
    assert client.post(reverse("campaign_cancel", args=[campaign.public_id]),
                       {"version": campaign.version}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_the_campaign_list_hides_a_list_the_reader_may_not_see(personas):
    hidden = DistributionListFactory(owner=personas.owner, name="Secret list", visibility="private")
    CampaignFactory(owner=personas.owner, name="Open campaign", distribution_list=hidden)
    page = client_for(personas.outsider).get(reverse("campaign_list")).content.decode()
    assert "Open campaign" in page and "Secret list" not in page and hidden.public_id not in page


def test_deleting_and_restoring(personas):
    owner = personas.owner
    campaign = CampaignFactory(owner=owner)
    client = client_for(owner)
    assert client.post(reverse("campaign_delete", args=[campaign.public_id]),
                       {"version": campaign.version}).status_code == 302
    assert client.get(reverse("campaign_detail", args=[campaign.public_id])).status_code == 404
    assert client.post(reverse("campaign_restore", args=[campaign.public_id])).status_code == 302
    sending = CampaignFactory(owner=owner, status=CampaignStatus.SENDING)
    answer = client.post(reverse("distribution_list_delete", args=[sending.distribution_list.public_id]),
                         {"version": sending.distribution_list.version})
    assert answer.status_code == 302 and answer["Location"].endswith(f"{sending.distribution_list.public_id}/")
    services.campaign_cancel(actor=owner, campaign=sending)
    answer = client.post(reverse("distribution_list_delete", args=[sending.distribution_list.public_id]),
                         {"version": sending.distribution_list.version})
    assert answer["Location"] == reverse("distribution_list_list")


def test_editing_a_list_keeps_a_filter_on_an_account_the_editor_no_longer_sees(personas):
    owner = personas.owner
    account = AccountFactory(owner=personas.outsider, name="Went private", visibility="everyone")
    dynamic = services.distribution_list_create(actor=owner, data={
        "name": "Their people", "kind": "dynamic", "criteria": {"account": account.public_id, "q": "a"}})
    account.visibility = "private"
    account.save()
    client = client_for(owner)
    edit = client.get(reverse("distribution_list_edit", args=[dynamic.public_id])).content.decode()
    assert "Went private" not in edit and account.public_id not in edit
    answer = client.post(reverse("distribution_list_edit", args=[dynamic.public_id]), {
        "name": "Renamed", "category": "", "description": "", "owner": owner.public_id, "visibility": "everyone",
        "filter_q": "a", "filter_account": "", "filter_owner": "", "filter_attrs": "",
        "version": str(dynamic.version)})
    assert answer.status_code == 302
    dynamic.refresh_from_db()
    assert dynamic.name == "Renamed" and dynamic.criteria == {"account": account.public_id, "q": "a"}
