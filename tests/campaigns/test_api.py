"""The distribution-lists and campaigns API: CRUD, members, the actions (start, cancel, preview), the
recipients list, bad input (named, nothing stored, never a 500) and stale versions."""

from __future__ import annotations

import pytest

from rapport.campaigns.models import Campaign, CampaignRecipient, DistributionList, DistributionListMember
from rapport.core.models import HistoryEntry
from tests.campaigns import people, static_list
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    DistributionListFactory,
    TemplateFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def stored() -> dict:
    return {"lists": list(DistributionList.objects.order_by("pk").values()),
            "members": list(DistributionListMember.objects.order_by("pk").values()),
            "campaigns": list(Campaign.objects.order_by("pk").values()),
            "recipients": CampaignRecipient.objects.count(), "history": HistoryEntry.objects.count()}


# --- Distribution lists ----------------------------------------------------------------------------------


def test_list_crud(api, personas):
    made = api.post("distribution-lists", {"name": "Fair 2027", "category": "Events"})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["kind"] == "static" and body["criteria"] == {} and body["owner"]["id"] == personas.owner.public_id
    list_id = body["id"]
    assert api.get(f"distribution-lists/{list_id}").json()["name"] == "Fair 2027"
    changed = api.patch(f"distribution-lists/{list_id}", {"version": 1, "description": "Visitors"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"distribution-lists/{list_id}", {"version": 1, "description": "Late"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    page = api.get("distribution-lists", category="Events", kind="static")
    assert [item["id"] for item in page.json()["items"]] == [list_id]
    assert api.get("distribution-lists", kind="sometimes").status_code == 400
    assert api.get("distribution-lists", colour="red").status_code == 400
    assert api.delete(f"distribution-lists/{list_id}").status_code == 204
    assert api.get(f"distribution-lists/{list_id}").status_code == 404
    assert api.post(f"distribution-lists/{list_id}/restore").status_code == 200


def test_a_dynamic_list_names_the_bad_filter_key(api):
    account = AccountFactory(name="Nordwind")
    before = stored()
    bad = api.post("distribution-lists", {"name": "Dyn", "kind": "dynamic", "criteria": {"stage": "growing"}})
    assert bad.status_code == 422 and "“stage”" in bad.json()["errors"]["criteria"][0]
    bad_value = api.post("distribution-lists", {"name": "Dyn", "kind": "dynamic", "criteria": {"account": "nope"}})
    assert bad_value.status_code == 422 and "account" in bad_value.json()["errors"]["criteria"][0]
    unknown_field = api.post("distribution-lists", {"name": "Dyn", "members": []})
    assert unknown_field.status_code == 422 and "members" in unknown_field.json()["errors"]
    assert stored() == before
    good = api.post("distribution-lists", {"name": "Dyn", "kind": "dynamic",
                                           "criteria": {"account": account.public_id, "owner": "me"}})
    assert good.status_code == 201 and good.json()["criteria"]["account"] == account.public_id


def test_members(api, personas):
    owner = personas.owner
    ann, bob = ContactFactory(owner=owner, last_name="Ann"), ContactFactory(owner=owner, last_name="Bob")
    hidden = ContactFactory(owner=personas.outsider, visibility="private")
    distribution_list = DistributionListFactory(owner=owner)
    url = f"distribution-lists/{distribution_list.public_id}/members"
    before = stored()
    refused = api.post(url, {"contacts": [ann.public_id, hidden.public_id]})
    assert refused.status_code == 422 and hidden.public_id in refused.json()["errors"]["contacts"][0]
    assert api.post(url, {"contacts": []}).status_code == 422
    assert stored() == before
    assert api.post(url, {"contacts": [ann.public_id, bob.public_id, ann.public_id]}).json() == {"added": 2}
    assert api.post(url, {"contacts": [ann.public_id]}).json() == {"added": 0}
    members = api.get(url).json()
    assert [m["name"] for m in members["items"]] == [ann.full_name, bob.full_name] and members["next"] is None
    assert api.get(url, limit=1).json()["next"]
    assert api.get(url, stage="x").status_code == 400
    assert api.delete(f"{url}/{bob.public_id}").status_code == 204
    assert api.delete(f"{url}/{bob.public_id}").status_code == 404
    assert api.delete(f"{url}/{hidden.public_id}").status_code == 404
    dynamic = DistributionListFactory(owner=owner, kind="dynamic", criteria={"q": "ann"})
    assert [m["id"] for m in api.get(f"distribution-lists/{dynamic.public_id}/members").json()["items"]] == [
        ann.public_id]
    assert api.post(f"distribution-lists/{dynamic.public_id}/members", {"contacts": [bob.public_id]}).status_code \
        == 422


def test_members_of_someone_elses_list(personas, api_for):
    distribution_list = DistributionListFactory(owner=personas.owner)
    contact = ContactFactory(owner=personas.teammate)
    teammate = api_for(personas.teammate)
    answer = teammate.post(f"distribution-lists/{distribution_list.public_id}/members",
                           {"contacts": [contact.public_id]})
    assert answer.status_code == 403
    assert not DistributionListMember.objects.exists()


# --- Campaigns --------------------------------------------------------------------------------------------


def test_campaign_crud_and_actions(api, personas):
    owner = personas.owner
    distribution_list = static_list(owner, people(owner, 3))
    template = TemplateFactory(owner=owner, subject="Hi {{ contact.first_name }}", body="Hello.")
    body = {"name": "Spring", "distribution_list": distribution_list.public_id, "template": template.public_id,
            "rate_per_minute": 100, "from_email": "Sales <sales@example.com>"}
    made = api.post("campaigns", body)
    assert made.status_code == 201, made.json()
    campaign = made.json()
    assert campaign["status"] == "draft" and campaign["recipients"]["waiting"] == 0
    url = f"campaigns/{campaign['id']}"
    assert api.patch(url, {"version": 1, "rate_per_minute": 50}).json()["rate_per_minute"] == 50
    preview = api.post(f"{url}/preview", {"contact": distribution_list.members.first().contact.public_id})
    assert preview.status_code == 200 and preview.json()["subject"].startswith("Hi P")
    assert "/unsubscribe/preview/" in preview.json()["body"]
    assert preview.json()["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert api.post(f"{url}/preview", {"contact": "nope"}).status_code == 422
    assert api.post(f"{url}/start", {"version": 1}).status_code == 409  # stale
    started = api.post(f"{url}/start", {"version": 2})
    assert started.status_code == 200 and started.json()["status"] == "sending"
    assert started.json()["recipients"]["waiting"] == 3
    assert api.post(f"{url}/start", {}).status_code == 409
    assert api.patch(url, {"version": 3, "name": "Late"}).status_code == 409
    assert api.delete(url).status_code == 409
    recipients = api.get(f"{url}/recipients", status="waiting").json()
    assert len(recipients["items"]) == 3 and recipients["items"][0]["contact"]["id"]
    assert "token" not in recipients["items"][0]
    assert api.get(f"{url}/recipients", status="lost").status_code == 400
    assert api.get(f"{url}/recipients", q="person0001").json()["items"][0]["email"] == "person0001@example.com"
    cancelled = api.post(f"{url}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["recipients"]["skipped"] == 3
    assert api.post(f"{url}/cancel", {}).status_code == 409
    assert api.get("campaigns", status="cancelled").json()["items"][0]["id"] == campaign["id"]
    assert api.get("campaigns", list=distribution_list.public_id).json()["items"][0]["recipients"] is None
    assert api.get("campaigns", list="nope").status_code == 400
    assert api.delete(url).status_code == 204


def test_campaign_bad_input_is_named_and_stores_nothing(api, personas):
    owner = personas.owner
    distribution_list = DistributionListFactory(owner=owner)
    letter = TemplateFactory(owner=owner, kind="letter")
    hidden_template = TemplateFactory(owner=personas.outsider, visibility="private")
    good = {"name": "C", "distribution_list": distribution_list.public_id,
            "template": TemplateFactory(owner=owner).public_id}
    before = stored()
    for change, field in (({"template": letter.public_id}, "template"),
                          ({"template": hidden_template.public_id}, "template"),
                          ({"distribution_list": "nope"}, "distribution_list"),
                          ({"rate_per_minute": 0}, "rate_per_minute"),
                          ({"from_email": "a\nb@example.com"}, "from_email"),
                          ({"status": "sent"}, "status"),
                          ({"name": ""}, "name")):
        answer = api.post("campaigns", {**good, **change})
        assert answer.status_code == 422, (change, answer.json())
        assert field in answer.json()["errors"], (change, answer.json())
    assert stored() == before
    empty = CampaignFactory(owner=owner)
    answer = api.post(f"campaigns/{empty.public_id}/start", {})
    assert answer.status_code == 422 and "distribution_list" in answer.json()["errors"]
    assert not CampaignRecipient.objects.exists()


def test_someone_else_sees_the_campaign_but_not_a_hidden_list(personas, api_for):
    hidden = DistributionListFactory(owner=personas.owner, visibility="private")
    campaign = CampaignFactory(owner=personas.owner, distribution_list=hidden)
    answer = api_for(personas.outsider).get(f"campaigns/{campaign.public_id}")
    assert answer.status_code == 200 and answer.json()["distribution_list"] is None
    assert hidden.public_id not in answer.content.decode()
    assert api_for(personas.outsider).post(f"campaigns/{campaign.public_id}/start", {}).status_code == 403


def test_recipients_show_everyone_to_who_may_change_the_campaign_and_only_visible_people_to_others(
        personas, api_for):
    from rapport.campaigns import services
    from tests.conftest import client_for

    owner = personas.owner
    shared = people(owner, 2, prefix="shared", visibility="everyone")
    private = people(owner, 2, prefix="private", visibility="private")
    campaign = CampaignFactory(owner=owner, visibility="everyone", template=TemplateFactory(owner=owner),
                               distribution_list=static_list(owner, shared + private, visibility="everyone"))
    services.campaign_start(actor=owner, campaign=campaign)

    def addresses(user) -> set[str]:
        items = api_for(user).get(f"/api/v1/campaigns/{campaign.public_id}/recipients").json()["items"]
        return {item["email"] for item in items}

    assert addresses(owner) == {c.email for c in shared + private}
    assert addresses(personas.outsider) == {c.email for c in shared}
    page = client_for(personas.outsider).get(f"/campaigns/{campaign.public_id}/").content.decode()
    assert shared[0].email in page and private[0].email not in page
    # Searching by the start of an address finds nothing the viewer may not see.
    found = api_for(personas.outsider).get(f"/api/v1/campaigns/{campaign.public_id}/recipients?q=private").json()
    assert found["items"] == []
