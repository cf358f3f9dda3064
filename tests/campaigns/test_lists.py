"""Distribution lists: static members, dynamic criteria (checked when saved, naming the bad key), who
sees which members, and the lists an account's people and a contact are on (the record panel)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.campaigns import selectors, services
from rapport.campaigns.models import CampaignStatus, DistributionList, DistributionListMember
from rapport.core.errors import Conflict
from rapport.core.models import HistoryEntry
from rapport.directory.models import Attribute
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, DistributionListFactory

pytestmark = pytest.mark.django_db


def _stored() -> dict:
    return {"lists": list(DistributionList.objects.order_by("pk").values()),
            "members": list(DistributionListMember.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


def _criteria_error(personas, criteria) -> list[str]:
    before = _stored()
    with pytest.raises(ValidationError) as caught:
        services.distribution_list_create(actor=personas.owner, data={"name": "Dyn", "kind": "dynamic",
                                                                      "criteria": criteria})
    assert _stored() == before
    return caught.value.message_dict["criteria"]


# --- Dynamic criteria ----------------------------------------------------------------------------------


def test_an_unknown_filter_is_named_and_nothing_is_stored(personas):
    [message] = _criteria_error(personas, {"stage": "growing"})
    assert "“stage”" in message and "account, attr, owner, q" in message


def test_bad_values_are_named_by_their_filter(personas):
    assert "account" in _criteria_error(personas, {"account": "zzzzzzzzzzzzzzzz"})[0]
    assert "owner" in _criteria_error(personas, {"owner": "nobody-here"})[0]
    assert "attr" in _criteria_error(personas, {"attr": ["no colon"]})[0]
    assert "q" in _criteria_error(personas, {"q": "x" * 101})[0]
    assert "one value" in _criteria_error(personas, {"q": ["a", "b"]})[0]
    assert "text" in _criteria_error(personas, {"q": 5})[0]
    assert "at least one filter" in _criteria_error(personas, {})[0]
    assert "parameters" in _criteria_error(personas, ["account"])[0]


def test_an_account_the_saver_may_not_see_is_no_such_account(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility="private")
    assert "No such account" in _criteria_error(personas, {"account": hidden.public_id})[0]


def test_owner_me_is_stored_as_the_savers_id_and_values_are_trimmed(personas):
    account = AccountFactory(owner=personas.owner)
    saved = services.distribution_list_create(actor=personas.owner, data={
        "name": "Mine", "kind": "dynamic", "category": "  Customer   relationship ",
        "criteria": {"owner": "me", "account": f" {account.public_id} ", "attr": ["region:north", " "], "q": ""}})
    assert saved.criteria == {"owner": personas.owner.public_id, "account": account.public_id,
                              "attr": ["region:north"]}
    assert saved.category == "Customer relationship"


def test_a_static_list_has_no_filter_and_a_list_keeps_its_kind(personas):
    with pytest.raises(ValidationError) as caught:
        services.distribution_list_create(actor=personas.owner, data={"name": "S", "criteria": {"q": "a"}})
    assert "criteria" in caught.value.message_dict
    static = services.distribution_list_create(actor=personas.owner, data={"name": "S"})
    with pytest.raises(ValidationError) as caught:
        services.distribution_list_update(actor=personas.owner, distribution_list=static, data={"kind": "dynamic"},
                                          version=static.version)
    assert "kind" in caught.value.message_dict


def test_changing_the_filter_checks_it_again(personas):
    account = AccountFactory(owner=personas.owner)
    dynamic = services.distribution_list_create(actor=personas.owner, data={
        "name": "D", "kind": "dynamic", "criteria": {"account": account.public_id}})
    with pytest.raises(ValidationError):
        services.distribution_list_update(actor=personas.owner, distribution_list=dynamic,
                                          data={"criteria": {"bogus": "1"}}, version=dynamic.version)
    renamed = services.distribution_list_update(actor=personas.owner, distribution_list=dynamic,
                                                data={"name": "Renamed"}, version=dynamic.version)
    assert renamed.criteria == {"account": account.public_id}


# --- Members -----------------------------------------------------------------------------------------------


def test_adding_and_removing_members_is_recorded_once_each(personas):
    owner = personas.owner
    ann, bob = ContactFactory(owner=owner, last_name="Ann"), ContactFactory(owner=owner, last_name="Bob")
    static = services.distribution_list_create(actor=owner, data={"name": "Friends"})
    assert services.list_members_add(actor=owner, distribution_list=static, contacts=[ann, bob, ann]) == 2
    assert services.list_members_add(actor=owner, distribution_list=static, contacts=[ann]) == 0
    assert set(selectors.list_contacts(user=owner, distribution_list=static)) == {ann, bob}
    assert services.list_member_remove(actor=owner, distribution_list=static, contact=bob)
    assert not services.list_member_remove(actor=owner, distribution_list=static, contact=bob)
    assert list(selectors.list_contacts(user=owner, distribution_list=static)) == [ann]
    entries = HistoryEntry.objects.filter(object_id=static.pk, kind="updated").order_by("id")
    assert [list(entry.changes) for entry in entries] == [["members"], ["members"]]
    static.refresh_from_db()
    assert static.version == 1  # membership is not an edit of the list: nobody's form goes stale


def test_members_are_refused_on_a_dynamic_list_and_for_those_who_may_not_change_the_list(personas):
    contact = ContactFactory(owner=personas.owner)
    dynamic = DistributionListFactory(owner=personas.owner, kind="dynamic", criteria={"q": "a"})
    with pytest.raises(ValidationError):
        services.list_members_add(actor=personas.owner, distribution_list=dynamic, contacts=[contact])
    static = DistributionListFactory(owner=personas.owner)
    for actor in (personas.teammate, personas.viewer, personas.marketer):
        with pytest.raises(PermissionDenied):
            services.list_members_add(actor=actor, distribution_list=static, contacts=[contact])
    assert services.list_members_add(actor=personas.manager, distribution_list=static, contacts=[contact]) == 1
    with pytest.raises(ValidationError):
        services.list_members_add(actor=personas.owner, distribution_list=static, contacts=[])


def test_each_viewer_sees_the_members_they_may_see(personas):
    owner, outsider = personas.owner, personas.outsider
    account = AccountFactory(owner=owner, name="Shared", visibility="everyone")
    shared = ContactFactory(owner=owner, account=account, last_name="Shared")
    private = ContactFactory(owner=owner, account=account, last_name="Private", visibility="private")
    static = DistributionListFactory(owner=owner, members=[shared, private])
    assert set(selectors.list_contacts(user=owner, distribution_list=static)) == {shared, private}
    assert set(selectors.list_contacts(user=outsider, distribution_list=static)) == {shared}
    dynamic = DistributionListFactory(owner=owner, kind="dynamic", criteria={"account": account.public_id})
    assert set(selectors.list_contacts(user=owner, distribution_list=dynamic)) == {shared, private}
    assert set(selectors.list_contacts(user=outsider, distribution_list=dynamic)) == {shared}
    assert selectors.member_count(user=outsider, distribution_list=dynamic) == (1, False)


def test_a_filter_naming_an_account_the_viewer_may_not_see_finds_nobody_and_says_why(personas):
    hidden = AccountFactory(owner=personas.owner, visibility="private")
    ContactFactory(owner=personas.owner, account=hidden, visibility="everyone")
    dynamic = DistributionListFactory(owner=personas.owner, kind="dynamic", criteria={"account": hidden.public_id})
    assert selectors.list_contacts(user=personas.outsider, distribution_list=dynamic).count() == 0
    assert "No such account" in selectors.criteria_problem(user=personas.outsider, distribution_list=dynamic)
    assert selectors.criteria_problem(user=personas.owner, distribution_list=dynamic) is None
    with pytest.raises(ValidationError) as caught:
        selectors.list_contacts_strict(user=personas.outsider, distribution_list=dynamic)
    assert "distribution_list" in caught.value.message_dict


def test_a_list_a_campaign_is_sending_to_cannot_be_deleted(personas):
    campaign = CampaignFactory(owner=personas.owner, status=CampaignStatus.SENDING)
    with pytest.raises(Conflict):
        services.distribution_list_delete(actor=personas.owner, distribution_list=campaign.distribution_list)
    campaign.status = CampaignStatus.SENT
    campaign.save()
    services.distribution_list_delete(actor=personas.owner, distribution_list=campaign.distribution_list)
    assert not DistributionList.objects.visible_to(personas.owner).exists()
    services.distribution_list_restore(actor=personas.owner, distribution_list=campaign.distribution_list)
    assert DistributionList.objects.visible_to(personas.owner).exists()


# --- The record panel ------------------------------------------------------------------------------------


def test_the_account_panel_shows_who_is_on_which_list_by_category(personas):
    owner = personas.owner
    account = AccountFactory(owner=owner, name="Nordwind")
    other = AccountFactory(owner=owner, name="Elsewhere")
    anna = ContactFactory(owner=owner, account=account, first_name="Anna", last_name="Berg")
    carl = ContactFactory(owner=owner, account=account, first_name="Carl", last_name="Dahl",
                          remarks="region=north")
    hidden = ContactFactory(owner=personas.outsider, account=account, last_name="Hidden", visibility="private")
    elsewhere = ContactFactory(owner=owner, account=other, remarks="region=north")
    for contact in (carl, elsewhere):  # what the contact services file from the remarks
        Attribute.objects.create(contact=contact, key="region", value="north")
    news = DistributionListFactory(owner=owner, name="Newsletter", category="Newsletter",
                                   members=[anna, hidden, elsewhere])
    DistributionListFactory(owner=owner, name="Unrelated", category="Newsletter", members=[elsewhere])
    named = DistributionListFactory(owner=owner, name="Nordwind people", category="Customer relationship",
                                    kind="dynamic", criteria={"account": account.public_id})
    north = DistributionListFactory(owner=owner, name="North", category="Region", kind="dynamic",
                                    criteria={"attr": ["region:north"]})
    DistributionListFactory(owner=owner, name="Other account", category="Region", kind="dynamic",
                            criteria={"account": other.public_id})
    private_list = DistributionListFactory(owner=personas.outsider, visibility="private", members=[anna])

    panel = selectors.record_lists(user=owner, record=account)
    rows = {row.distribution_list.name: row for row in panel.rows}
    assert list(rows) == ["Newsletter", "Nordwind people", "North"]
    assert rows["Newsletter"].people == [anna]  # not the hidden one, not the other account's
    assert set(rows["Nordwind people"].people) == {anna, carl} and rows["Nordwind people"].names_account
    assert rows["North"].people == [carl] and not rows["North"].names_account
    assert private_list.name not in rows
    assert set(panel.categories) == {"Newsletter", "Customer relationship", "Region"}

    only = selectors.record_lists(user=owner, record=account, category="Customer relationship")
    assert [row.distribution_list for row in only.rows] == [named]

    contact_panel = selectors.record_lists(user=owner, record=carl)
    assert [row.distribution_list for row in contact_panel.rows] == [named, north]
    assert [row.distribution_list for row in selectors.record_lists(user=owner, record=anna).rows] == [news, named]


def test_lists_to_add_to_are_static_lists_the_user_may_change(personas):
    mine = DistributionListFactory(owner=personas.owner, name="Mine")
    DistributionListFactory(owner=personas.teammate, name="Teammate's")
    DistributionListFactory(owner=personas.owner, name="Dynamic", kind="dynamic", criteria={"q": "a"})
    assert selectors.lists_to_add_to(user=personas.owner) == [mine]
    assert selectors.lists_to_add_to(user=personas.viewer) == []
    assert len(selectors.lists_to_add_to(user=personas.manager)) == 2
