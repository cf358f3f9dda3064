"""The leads API: CRUD and restore, lists and filters, conversion, validation, concurrency."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from rapport.activities.models import ActivityLink
from rapport.core.models import HistoryEntry, Visibility
from rapport.directory.models import Account, Contact
from rapport.sales import services
from rapport.sales.models import Lead, Opportunity, OpportunityContact
from tests.factories import AccountFactory, ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


def stored() -> dict:
    """What a refused write must leave as it was."""
    return {"leads": list(Lead.objects.order_by("pk").values()),
            "accounts": list(Account.objects.order_by("pk").values()),
            "contacts": list(Contact.objects.order_by("pk").values()),
            "opportunities": list(Opportunity.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


def history_kinds(record) -> list[str]:
    return list(HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
                .order_by("pk").values_list("kind", flat=True))


def make_lead(owner, **data) -> Lead:
    return services.lead_create(actor=owner, data={"first_name": "Lee", "last_name": "Novak",
                                                   "company": "Nova Tools", **data})


# --- CRUD ------------------------------------------------------------------------------------------


def test_create_read_update_delete_restore(api, personas):
    created = api.post("leads", {"first_name": "Lee", "last_name": "Novak", "company": "Nova Tools",
                                 "email": "lee@nova.test", "source": "Fair"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["name"] == "Lee Novak (Nova Tools)"
    assert body["status"] == "new" and body["version"] == 1
    assert body["owner"] == {"id": personas.owner.public_id, "name": personas.owner.display_name}
    assert body["account"] is None and body["opportunity"] is None and body["converted_at"] is None
    assert body["created_at"].endswith(("Z", "+00:00"))
    lead_id = body["id"]
    assert not lead_id.isdigit()

    assert api.get(f"leads/{lead_id}").json()["email"] == "lee@nova.test"

    changed = api.patch(f"leads/{lead_id}", {"version": 1, "status": "qualified", "phone": "+47 1234"})
    assert changed.status_code == 200
    assert (changed.json()["status"], changed.json()["version"]) == ("qualified", 2)
    assert history_kinds(Lead.objects.get(public_id=lead_id)) == [HistoryEntry.Kind.CREATED, HistoryEntry.Kind.UPDATED]

    assert api.delete(f"leads/{lead_id}?version=2").status_code == 204
    assert api.get(f"leads/{lead_id}").status_code == 404
    assert Lead.objects.filter(public_id=lead_id, deleted_at__isnull=False).exists()  # soft

    restored = api.post(f"leads/{lead_id}/restore")
    assert restored.status_code == 200
    assert restored.json()["phone"] == "+47 1234"
    assert api.post(f"leads/{lead_id}/restore").status_code == 404  # not deleted any more


def test_a_lead_about_an_existing_account_and_contact(api, personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    contact = ContactFactory(last_name="Berg", account=account, owner=personas.owner)
    body = api.post("leads", {"account": account.public_id, "contact": contact.public_id}).json()
    assert body["account"] == {"id": account.public_id, "name": "Acme"}
    assert body["contact"]["id"] == contact.public_id
    cleared = api.patch(f"leads/{body['id']}", {"version": 1, "contact": "", "last_name": "Berg"}).json()
    assert cleared["contact"] is None and cleared["account"]["id"] == account.public_id


def test_a_stale_version_is_a_409_and_changes_nothing(api, personas):
    lead = make_lead(personas.owner)
    services.lead_update(actor=personas.owner, lead=lead, data={"source": "Web"}, version=1)
    before = stored()
    answer = api.patch(f"leads/{lead.public_id}", {"version": 1, "source": "Fair"})
    assert answer.status_code == 409
    assert answer.json()["current_version"] == 2 and "version" in answer.json()["errors"]
    assert api.delete(f"leads/{lead.public_id}?version=1").status_code == 409
    assert stored() == before


# --- Lists -----------------------------------------------------------------------------------------


def test_list_pages_without_repeats_and_filters(api, personas):
    for index in range(7):
        make_lead(personas.owner, last_name=f"Same {index % 2}", source="Fair" if index < 3 else "Web",
                  status="contacted" if index == 4 else "new")
    make_lead(personas.teammate, last_name="Other", email="other@lead.test")
    seen, cursor = [], None
    while True:
        body = api.get("leads", limit=3, **({"cursor": cursor} if cursor else {})).json()
        assert set(body) == {"items", "next"}
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8

    def names(**params) -> list[str]:
        answer = api.get("leads", **params)
        assert answer.status_code == 200, answer.json()
        return [item["last_name"] for item in answer.json()["items"]]

    assert len(names(owner="me")) == 7
    assert len(names(source="fair")) == 3
    assert names(status="contacted") == ["Same 0"]
    assert names(q="other@lead.test") == ["Other"]
    assert names(q="oth") == ["Other"]
    assert names(ordering="name")[0] == "Other" and names(ordering="-name")[-1] == "Other"


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "hot"}, "status"),
    ({"colour": "red"}, "colour"),
    ({"ordering": "email"}, "ordering"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"limit": "many"}, "limit"),
    ({"owner": "nobody"}, "owner"),
])
def test_bad_list_parameters_are_a_400_naming_them(api, params, field):
    answer = api.get("leads", **params)
    assert answer.status_code == 400
    assert field in answer.json()["errors"] and answer.json()["detail"]


# --- Conversion ------------------------------------------------------------------------------------


def test_converting_creates_account_contact_and_opportunity_and_keeps_the_lead(api, personas):
    lead = make_lead(personas.owner, title="Buyer", email="lee@nova.test", source="Fair")
    call = ActivityFactory(task=True, owner=personas.owner, subject="Call Lee", regarding=[lead])
    answer = api.post(f"leads/{lead.public_id}/convert", {
        "version": lead.version, "opportunity": {"name": "Nova rollout", "amount": "12000.00",
                                                 "currency": "usd", "expected_close_on": "2031-03-01"}})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "converted" and body["converted_at"] and body["version"] == 2
    account = Account.objects.get(public_id=body["account"]["id"])
    contact = Contact.objects.get(public_id=body["contact"]["id"])
    opportunity = Opportunity.objects.get(public_id=body["opportunity"]["id"])
    assert account.name == "Nova Tools" and account.owner == personas.owner
    assert (contact.last_name, contact.email, contact.account) == ("Novak", "lee@nova.test", account)
    assert (opportunity.name, opportunity.account, opportunity.currency) == ("Nova rollout", account, "USD")
    assert str(opportunity.amount) == "12000.00" and opportunity.source == "Fair"
    assert OpportunityContact.objects.filter(opportunity=opportunity, contact=contact).exists()
    # The lead stays, with its history; its activity follows it to what it became.
    assert api.get(f"leads/{lead.public_id}").json()["opportunity"]["id"] == opportunity.public_id
    assert history_kinds(lead) == [HistoryEntry.Kind.CREATED, HistoryEntry.Kind.UPDATED]
    linked = set(ActivityLink.objects.filter(activity=call).values_list("record_type", flat=True))
    assert linked == {"lead", "account", "contact", "opportunity"}


def test_converting_onto_an_existing_account_without_an_opportunity(api, personas):
    account = AccountFactory(name="Acme", owner=personas.teammate)
    lead = make_lead(personas.owner)
    body = api.post(f"leads/{lead.public_id}/convert", {"version": 1, "account": account.public_id,
                                                         "create_opportunity": False}).json()
    assert body["account"]["id"] == account.public_id and body["opportunity"] is None
    assert Account.objects.count() == 1 and not Opportunity.objects.exists()
    assert Contact.objects.get(public_id=body["contact"]["id"]).account == account


def test_converting_with_account_null_makes_a_new_one_though_the_lead_is_about_an_account(api, personas):
    existing = AccountFactory(name="Old Co", owner=personas.owner)
    lead = make_lead(personas.owner)
    lead.account = existing
    lead.save()
    body = api.post(f"leads/{lead.public_id}/convert", {"version": 1, "account": None}).json()
    assert body["account"]["id"] != existing.public_id
    assert Account.objects.count() == 2


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"version": 7}, "version", 409),
    ({"account": "zzzzzzzzzzzzzzzz"}, "account", 422),
    ({"contact": "zzzzzzzzzzzzzzzz"}, "contact", 422),
    ({"create_opportunity": False, "opportunity": {"name": "X"}}, "opportunity", 422),
    ({"opportunity": {"amount": "-5"}}, "opportunity.amount", 422),
    ({"opportunity": {"currency": "XXX"}}, "opportunity.currency", 422),
    ({"opportunity": {"stage": "zzzzzzzzzzzzzzzz"}}, "opportunity.stage", 422),
    ({"opportunity": {"account": "x"}}, "opportunity.account", 422),
    ({"surprise": True}, "surprise", 422),
])
def test_a_refused_conversion_names_the_field_and_converts_nothing(api, personas, change, field, status):
    lead = make_lead(personas.owner)
    before = stored()
    answer = api.post(f"leads/{lead.public_id}/convert", {"version": 1, **change})
    assert answer.status_code == status, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert stored() == before


def test_a_lead_is_converted_once(api, personas):
    lead = make_lead(personas.owner)
    assert api.post(f"leads/{lead.public_id}/convert", {"version": 1}).status_code == 200
    before = stored()
    again = api.post(f"leads/{lead.public_id}/convert", {"version": 2})
    assert again.status_code == 422 and "status" in again.json()["errors"]
    assert api.patch(f"leads/{lead.public_id}", {"version": 2, "status": "new"}).status_code == 422
    assert stored() == before


def test_an_account_the_user_may_not_see_is_no_such_account(api, personas):
    hidden = AccountFactory(name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    lead = make_lead(personas.owner)
    before = stored()
    for answer in (api.post("leads", {"last_name": "X", "account": hidden.public_id}),
                   api.post(f"leads/{lead.public_id}/convert", {"version": 1, "account": hidden.public_id})):
        assert answer.status_code == 422
        assert answer.json()["errors"]["account"] == ["No such account."]
        assert "Hidden" not in answer.content.decode()
    assert stored() == before


# --- Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"company": ""}, "last_name"),
    ({"last_name": "X", "status": "converted"}, "status"),
    ({"last_name": "X", "status": "hot"}, "status"),
    ({"last_name": "X", "email": "not an email"}, "email"),
    ({"last_name": "X" * 101}, "last_name"),
    ({"last_name": "X", "owner": "nobody"}, "owner"),
    ({"last_name": "X", "owner": None}, "owner"),
    ({"last_name": "X", "visibility": "secret"}, "visibility"),
    ({"last_name": "X", "opportunity": "abc"}, "opportunity"),
    ({"last_name": "X", "account": 12}, "account"),
    ({"last_name": "a\u0000b"}, "last_name"),
])
def test_bad_input_is_refused_naming_the_field(api, body, field):
    before = stored()
    answer = api.post("leads", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"] and answer.json()["detail"]
    assert stored() == before


def test_someone_elses_lead_is_404_when_hidden_and_403_when_only_visible(personas, api_for):
    private = make_lead(personas.owner, visibility="private")
    shared = make_lead(personas.owner, visibility="everyone")
    outsider = api_for(personas.outsider)
    assert outsider.get(f"leads/{private.public_id}").status_code == 404
    assert outsider.patch(f"leads/{shared.public_id}", {"version": 1, "source": "X"}).status_code == 403
    assert outsider.post(f"leads/{shared.public_id}/convert", {"version": 1}).status_code == 403
    assert not Account.objects.exists()
