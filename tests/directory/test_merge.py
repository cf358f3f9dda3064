"""Merging two contacts or two accounts: everything linked to either ends on the one kept, the chosen values
are applied, both histories are kept with the merge itself, and the one merged in is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from rapport.activities.models import Activity, ActivityLink, Note
from rapport.automation import services as automation
from rapport.automation.models import FollowUp
from rapport.campaigns import services as campaigns
from rapport.campaigns.models import CampaignRecipient, DistributionListMember
from rapport.core.models import HistoryEntry, Visibility
from rapport.directory import merge, services
from rapport.directory.models import Account, Address, Attribute, Contact, StageChange
from rapport.mail import services as mail
from rapport.sales import services as sales
from rapport.sales.models import Lead, Opportunity, OpportunityContact, Order
from rapport.support.models import SupportItem
from tests.conftest import client_for
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    DistributionListFactory,
    EmailMessageFactory,
    LeadFactory,
    NoteFactory,
    OrderFactory,
    SupportItemFactory,
)

pytestmark = pytest.mark.django_db


def new_contact(actor, **data):
    addresses = data.pop("addresses", None)
    data.setdefault("visibility", Visibility.EVERYONE)
    return services.contact_create(actor=actor, data=data, addresses=addresses, confirm_duplicate=True)


def new_account(actor, **data):
    addresses = data.pop("addresses", None)
    data.setdefault("visibility", Visibility.EVERYONE)
    return services.account_create(actor=actor, data=data, addresses=addresses, confirm_duplicate=True)


def history_of(record) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(record),
                                            object_id=record.pk).order_by("id"))


def links_of(record) -> set[int]:
    return set(ActivityLink.objects.filter(record_type=record.record_type, record_id=record.pk)
               .values_list("activity_id", flat=True))


def test_a_contact_merge_carries_everything_of_both(personas, api_for):
    owner, manager = personas.owner, personas.manager
    kept = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@example.com",
                       remarks="region=north", addresses=[{"city": "Oslo"}])
    gone = new_contact(owner, first_name="Anna", last_name="Berg", email="ANNA@example.com", mobile="+47 555",
                       remarks="lang=sv", addresses=[{"city": "Bergen"}])
    history_before = [e.pk for e in history_of(kept) + history_of(gone)]

    # Activities: one about the contact merged in, one about both; meetings each attended, one together.
    about_gone = ActivityFactory(owner=owner, regarding=[gone])
    about_both = ActivityFactory(owner=owner, regarding=[kept, gone])
    attended = ActivityFactory(owner=owner, attendees=[gone])
    attended_both = ActivityFactory(owner=owner, attendees=[kept, gone])
    note = NoteFactory(owner=owner, about=gone)
    # A logged email filed to the contact merged in: its email activity regards it.
    email = EmailMessageFactory(owner=owner, visibility=Visibility.EVERYONE)
    email = mail.email_file(actor=owner, email=email, records=[gone], version=email.version)
    # A deal with both in roles, one with only the one merged in; a lead and a support item of it.
    account = new_account(owner, name="Acme")
    both_deal = sales.opportunity_create(actor=owner, data={"name": "Both", "account": account, "amount": "10"},
                                         contacts=[(kept, "Buyer"), (gone, "User")])
    gone_deal = sales.opportunity_create(actor=owner, data={"name": "Gone", "account": account, "amount": "10"},
                                         contacts=[(gone, "Champion")])
    lead = LeadFactory(owner=owner, contact=gone)
    case = SupportItemFactory(owner=owner, contact=gone, account=account)
    # Lists: one with the contact merged in only, one with both; a campaign to the first.
    only_list = DistributionListFactory(owner=owner, members=[gone])
    both_list = DistributionListFactory(owner=owner, members=[kept, gone])
    campaign = CampaignFactory(owner=owner, distribution_list=only_list)
    campaigns.campaign_start(actor=owner, campaign=campaign, version=campaign.version)
    # A follow-up of a rule about contacts.
    definition = automation.definition_save(actor=manager, definition=None, data={
        "name": "Welcome", "contact_message": "Say hello."})
    rule = automation.rule_save(actor=manager, rule=None, data={
        "name": "New contacts", "definition": definition, "trigger": "created", "record_type": "contact",
        "assign_to": "owner"})
    automation.rule_activate(actor=manager, rule=rule)
    automation.create_follow_ups(rule, [automation.Match(gone.pk, owner.pk, "created")])
    follow_up = FollowUp.objects.get(record_id=gone.pk)

    response = api_for(owner).post(f"contacts/{kept.public_id}/merge", {
        "other": gone.public_id, "version": kept.version, "other_version": gone.version,
        "fields": {"remarks": "both", "addresses": "both"}})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == kept.public_id and body["version"] == kept.version + 1
    assert body["mobile"] == "+47 555" and body["email"] == "anna@example.com"  # filled from the other; kept
    assert body["attributes"] == {"region": "north", "lang": "sv"}
    assert sorted(a["city"] for a in body["addresses"]) == ["Bergen", "Oslo"]

    gone.refresh_from_db()
    assert gone.deleted_at is not None
    assert links_of(kept) == {about_gone.pk, about_both.pk, email.activity_id, follow_up.task_id}
    assert links_of(gone) == set()
    assert set(Activity.attendees.through.objects.filter(contact=kept).values_list("activity_id", flat=True)) == {
        attended.pk, attended_both.pk}
    assert not Activity.attendees.through.objects.filter(contact=gone).exists()
    assert Note.objects.get(pk=note.pk).about_id == kept.pk
    assert set(OpportunityContact.objects.filter(contact=kept).values_list("opportunity_id", "role")) == {
        (both_deal.pk, "Buyer"), (gone_deal.pk, "Champion")}  # where both had a role, the kept one's stays
    assert not OpportunityContact.objects.filter(contact=gone).exists()
    assert Lead.objects.get(pk=lead.pk).contact_id == kept.pk
    assert SupportItem.objects.get(pk=case.pk).contact_id == kept.pk
    assert set(DistributionListMember.objects.filter(contact=kept).values_list("distribution_list_id", flat=True)) \
        == {only_list.pk, both_list.pk}
    assert DistributionListMember.objects.filter(distribution_list=both_list).count() == 1
    assert CampaignRecipient.objects.get(campaign=campaign).contact_id == kept.pk
    assert FollowUp.objects.get(pk=follow_up.pk).record_id == kept.pk
    assert set(Attribute.objects.filter(contact=kept).values_list("key", flat=True)) == {"region", "lang"}
    assert not Attribute.objects.filter(contact=gone).exists()
    assert Address.objects.filter(contact=kept).count() == 2
    # A record that moved has a new version: an edit form opened before the merge answers 409.
    assert Lead.objects.get(pk=lead.pk).version == lead.version + 1

    # Both histories on the one kept, and the merge with who, which record and what was chosen.
    entries = history_of(kept)
    assert set(history_before) <= {e.pk for e in entries}
    merged = entries[-1]
    assert merged.kind == "merged" and merged.actor == owner
    assert merged.changes["merged in"][1] == f"Anna Berg ({gone.public_id})"
    assert merged.changes["mobile"] == ["", "+47 555"]
    assert "activities and logged emails" in merged.changes["carried over"][1]
    (last,) = history_of(gone)
    assert last.kind == "merged" and last.changes["merged into"][1]["id"] == kept.public_id


def test_an_account_merge_moves_its_contacts_deals_orders_cases_and_stage_history(personas, api_for):
    owner = personas.owner
    kept = new_account(owner, name="Acme", website="acme.example", stage="growing")
    gone = new_account(owner, name="ACME Inc", website="www.acme.example", stage="mature",
                       remarks="stage=mature tier=gold")
    services.account_update(actor=owner, account=gone, data={"stage": "declining"}, version=gone.version)
    gone.refresh_from_db()
    person = new_contact(owner, last_name="Worker", account=gone)
    sub = new_account(owner, name="Acme Subsidiary", parent=gone)
    deal = sales.opportunity_create(actor=owner, data={"name": "Deal", "account": gone, "amount": "10"})
    order = OrderFactory(owner=owner, account=gone)
    case = SupportItemFactory(owner=owner, account=gone)
    note = NoteFactory(owner=owner, about=gone)
    meeting = ActivityFactory(owner=owner, regarding=[gone])
    stage_changes = StageChange.objects.filter(account=gone).count()
    assert stage_changes == 2

    response = api_for(owner).post(f"accounts/{kept.public_id}/merge", {
        "other": gone.public_id, "version": kept.version, "other_version": gone.version,
        "fields": {"stage": "other", "name": "survivor", "remarks": "other"}})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Acme" and body["stage"] == "declining"
    assert body["attributes"] == {"stage": "declining", "tier": "gold"}  # the stage and its remark agree

    assert Contact.objects.get(pk=person.pk).account_id == kept.pk
    assert Contact.objects.get(pk=person.pk).version == person.version + 1
    assert Account.objects.get(pk=sub.pk).parent_id == kept.pk
    assert Opportunity.objects.get(pk=deal.pk).account_id == kept.pk
    assert Order.objects.get(pk=order.pk).account_id == kept.pk
    assert SupportItem.objects.get(pk=case.pk).account_id == kept.pk
    assert Note.objects.get(pk=note.pk).about_id == kept.pk
    assert meeting.pk in links_of(kept)
    assert StageChange.objects.filter(account=kept).count() == 1 + stage_changes
    assert Account.objects.get(pk=gone.pk).deleted_at is not None
    # The account page shows the contact that moved, and the merge in its history.
    page = client_for(owner).get(reverse("account_detail", args=[kept.public_id])).content.decode()
    assert "Worker" in page and "merged" in page and f"ACME Inc ({gone.public_id})" in page


def test_a_merged_in_account_that_was_the_parent_is_not_the_parent_after(personas):
    owner = personas.owner
    top = new_account(owner, name="Holding")
    gone = new_account(owner, name="Acme", parent=top)
    kept = new_account(owner, name="Acme GmbH", parent=gone)
    merge.account_merge(actor=owner, account=kept, other=gone, version=kept.version, other_version=gone.version,
                        fields={"parent": "survivor"})
    assert Account.objects.get(pk=kept.pk).parent_id == top.pk  # its parent's parent, never itself


def test_field_choices_are_applied(personas):
    owner = personas.owner
    kept = new_contact(owner, first_name="A.", last_name="Berg", email="anna@work.example", title="Buyer",
                       addresses=[{"city": "Oslo"}])
    gone = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@home.example",
                       secondary_email="anna.berg@example.com", addresses=[{"city": "Bergen"}],
                       visibility=Visibility.TEAM)
    merge.contact_merge(actor=owner, contact=kept, other=gone, version=kept.version, other_version=gone.version,
                        fields={"name": "other", "email": "other", "addresses": "other", "title": "survivor"})
    kept.refresh_from_db()
    assert (kept.first_name, kept.last_name, kept.email, kept.secondary_email, kept.title, kept.visibility) == (
        "Anna", "Berg", "anna@home.example", "anna.berg@example.com", "Buyer", Visibility.EVERYONE)
    assert kept.email_key == "anna@home.example" and kept.secondary_email_key == "anna.berg@example.com"
    assert [a.city for a in kept.addresses.all()] == ["Bergen"]
    merged = history_of(kept)[-1]
    assert merged.changes["first_name"] == ["A.", "Anna"] and merged.changes["email"][1] == "anna@home.example"


def test_the_record_merged_in_is_gone_from_lists_and_the_api(personas, api_for):
    owner = personas.owner
    kept = new_contact(owner, first_name="Anna", last_name="Kept", email="anna@example.com")
    gone = new_contact(owner, first_name="Anna", last_name="Gone", email="anna@example.com")
    merge.contact_merge(actor=owner, contact=kept, other=gone, version=kept.version, other_version=gone.version)
    client = client_for(owner)
    listing = client.get(reverse("contact_list")).content.decode()
    assert "Kept" in listing and "Gone" not in listing
    api = api_for(owner)
    assert api.get(f"contacts/{gone.public_id}").status_code == 404
    assert gone.public_id not in api.get("contacts").content.decode()
    assert api.get("contacts/duplicates").json()["items"] == []
    assert client.get(reverse("contact_detail", args=[gone.public_id])).status_code == 404



def test_a_record_merged_into_another_cannot_be_restored_as_an_empty_shell(personas, api_for):
    owner = personas.owner
    kept = new_contact(owner, first_name="Anna", last_name="Kept", email="anna@example.com")
    gone = new_contact(owner, first_name="Anna", last_name="Gone", email="anna@example.com")
    merge.contact_merge(actor=owner, contact=kept, other=gone, version=kept.version, other_version=gone.version)
    answer = api_for(owner).post(f"contacts/{gone.public_id}/restore")
    assert answer.status_code in (400, 422) and "merged into another" in answer.content.decode()
    page = client_for(owner).post(reverse("contact_restore", args=[gone.public_id]), follow=True)
    assert "merged into another" in page.content.decode()
    gone.refresh_from_db()
    assert gone.deleted_at is not None

def snapshot() -> dict[str, list]:
    return {model.__name__: list(model._base_manager.order_by("pk").values())
            for model in (Account, Contact, Address, Attribute, HistoryEntry, ActivityLink, Note,
                          DistributionListMember, Lead)}


@pytest.fixture
def pair(personas):
    owner = personas.owner
    kept = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@example.com", remarks="a=1")
    gone = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@example.com", remarks="b=2")
    ActivityFactory(owner=owner, regarding=[gone])
    NoteFactory(owner=owner, about=gone)
    DistributionListFactory(owner=owner, members=[gone])
    return kept, gone


def body_for(kept, gone, **changes):
    return {"other": gone.public_id, "version": kept.version, "other_version": gone.version, **changes}


@pytest.mark.parametrize(("case", "status", "field"), [
    ("itself", 422, "other"),
    ("an account", 422, "other"),
    ("deleted", 404, None),
    ("unknown id", 404, None),
    ("stale version", 409, "version"),
    ("stale other version", 409, None),
    ("unknown field", 422, "fields.colour"),
    ("bad option", 422, "fields.name"),
    ("both for a name", 422, "fields.name"),
    ("no version", 422, "version"),
    ("extra field", 422, "owner"),
    ("remarks too long", 422, "fields.remarks"),
])
def test_bad_merges_say_why_and_change_nothing(personas, api_for, pair, case, status, field):
    kept, gone = pair
    owner = personas.owner
    body = body_for(kept, gone)
    if case == "itself":
        body["other"] = kept.public_id
    elif case == "an account":
        body["other"] = new_account(owner, name="Acme").public_id
    elif case == "deleted":
        services.contact_delete(actor=owner, contact=gone)
        body["other_version"] = gone.version + 1
    elif case == "unknown id":
        body["other"] = "zzzzzzzzzzzzzzzz"
    elif case == "stale version":
        body["version"] = kept.version - 1
    elif case == "stale other version":
        body["other_version"] = gone.version + 3
    elif case == "unknown field":
        body["fields"] = {"colour": "other"}
    elif case == "bad option":
        body["fields"] = {"name": "mine"}
    elif case == "both for a name":
        body["fields"] = {"name": "both"}
    elif case == "no version":
        del body["version"]
    elif case == "extra field":
        body["owner"] = personas.teammate.public_id
    elif case == "remarks too long":
        Contact.objects.filter(pk=kept.pk).update(remarks="x" * 6000)
        Contact.objects.filter(pk=gone.pk).update(remarks="y" * 6000)
        body["fields"] = {"remarks": "both"}
    before = snapshot()
    response = api_for(owner).post(f"contacts/{kept.public_id}/merge", body)
    assert response.status_code == status, response.json()
    answer = response.json()
    assert answer["detail"]
    if field:
        assert field in answer.get("errors", {}), answer
    if case == "an account":
        assert "account" in answer["errors"]["other"][0]
    if case == "stale other version":
        assert f"now version {gone.version}" in answer["detail"] and "other record" in answer["detail"]
    assert snapshot() == before


def test_rights_update_the_one_kept_delete_the_other_and_see_both(personas, api_for):
    owner, teammate, outsider, manager = personas.owner, personas.teammate, personas.outsider, personas.manager
    kept = new_contact(owner, last_name="Kept", email="x@example.com")
    gone = new_contact(owner, last_name="Gone", email="x@example.com")
    hidden = new_contact(owner, last_name="Hidden", email="x@example.com", visibility=Visibility.PRIVATE)
    theirs = new_contact(teammate, last_name="Theirs", email="x@example.com")
    before = snapshot()
    # A teammate may see both but change neither.
    assert api_for(teammate).post(f"contacts/{kept.public_id}/merge", body_for(kept, gone)).status_code == 403
    # The owner may not delete a teammate's contact, so may not merge it in.
    denied = api_for(owner).post(f"contacts/{kept.public_id}/merge", body_for(kept, theirs))
    assert denied.status_code == 403 and "delete" in denied.json()["detail"]
    # A record one may not see cannot be merged, either way round: 404, as for one that does not exist.
    assert api_for(outsider).post(f"contacts/{hidden.public_id}/merge", body_for(hidden, gone)).status_code == 404
    missing = api_for(teammate).post(f"contacts/{theirs.public_id}/merge", body_for(theirs, hidden))
    unknown = api_for(teammate).post(f"contacts/{theirs.public_id}/merge",
                                     {**body_for(theirs, hidden), "other": "zzzzzzzzzzzzzzzz"})
    assert missing.status_code == unknown.status_code == 404
    # Read-only users merge nothing.
    assert api_for(personas.viewer).post(f"contacts/{kept.public_id}/merge", body_for(kept, gone)).status_code == 403
    assert snapshot() == before
    # The manager of the team may.
    assert api_for(manager).post(f"contacts/{kept.public_id}/merge", body_for(kept, theirs)).status_code == 200


def test_the_merge_page_compares_and_merges(personas):
    owner = personas.owner
    kept = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@example.com", phone="+47 1")
    gone = new_contact(owner, first_name="Anna", last_name="Berg", email="anna@example.com", mobile="+47 2",
                       title="Buyer")
    NoteFactory(owner=owner, about=gone)
    client = client_for(owner)
    url = reverse("contact_merge", args=[kept.public_id])

    chooser = client.get(url).content.decode()
    assert "Likely duplicates" in chooser and f"?other={gone.public_id}" in chooser
    page = client.get(url, {"other": gone.public_id})
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="keep_mobile" value="other" checked' in text and "+47 2" in text and "Buyer" in text
    assert "1 note" in text and "Merge Anna Berg into this record" in text

    stale = client.post(url, {"other": gone.public_id, "version": kept.version - 1, "other_version": gone.version})
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    done = client.post(url, {"other": gone.public_id, "version": kept.version, "other_version": gone.version,
                             "keep_title": "survivor", "keep_mobile": "other"})
    assert done.status_code == 302 and done["Location"] == reverse("contact_detail", args=[kept.public_id])
    kept.refresh_from_db()
    assert (kept.title, kept.mobile, kept.phone) == ("", "+47 2", "+47 1")
    detail = client.get(done["Location"]).content.decode()
    assert "was merged into" in detail and "Merged in" in detail
    assert "Merge with…" in detail


def test_the_merge_page_refuses_a_pair_it_cannot_merge(personas):
    owner = personas.owner
    kept = new_contact(owner, last_name="Kept")
    client = client_for(owner)
    url = reverse("contact_merge", args=[kept.public_id])
    assert client.get(url, {"other": kept.public_id}).status_code == 400
    assert client.get(url, {"other": "zzzzzzzzzzzzzzzz"}).status_code == 404
    theirs = new_contact(personas.teammate, last_name="Theirs")
    page = client.get(url, {"other": theirs.public_id}).content.decode()
    assert "You may not delete" in page and "Merge Theirs into this record" not in page
    refused = client.post(url, {"other": theirs.public_id, "version": kept.version, "other_version": theirs.version})
    assert refused.status_code == 403 and Contact.objects.get(pk=theirs.pk).deleted_at is None


def test_the_search_index_hears_of_the_merge(personas, monkeypatch):
    calls = []
    monkeypatch.setattr(merge, "index_records", lambda model, pks: calls.append(("index", model, sorted(pks))))
    monkeypatch.setattr(merge, "unindex_records", lambda model, pks: calls.append(("unindex", model, sorted(pks))))
    owner = personas.owner
    kept, gone = new_account(owner, name="Acme"), new_account(owner, name="Acme")
    person = new_contact(owner, last_name="Worker", account=gone)
    merge.account_merge(actor=owner, account=kept, other=gone, version=kept.version, other_version=gone.version)
    assert ("index", Account, [kept.pk]) in calls and ("unindex", Account, [gone.pk]) in calls
    assert ("index", Contact, [person.pk]) in calls  # its account's name changed


def test_dates_and_stage_come_with_the_chosen_side(personas):
    owner = personas.owner
    kept = new_account(owner, name="Kept")
    gone = new_account(owner, name="Gone", stage="mature")
    Account.objects.filter(pk=gone.pk).update(stage_changed_on=dt.date(2024, 5, 1))
    gone.refresh_from_db()
    merge.account_merge(actor=owner, account=kept, other=gone, version=kept.version, other_version=gone.version)
    kept.refresh_from_db()
    assert (kept.stage, kept.stage_changed_on) == ("mature", dt.date(2024, 5, 1))  # its own was empty
