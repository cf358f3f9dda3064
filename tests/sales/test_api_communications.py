"""Communications through the API: registering one with a company and a person under a workflow
branch, and listing what the user may see."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.activities.models import Activity, ActivityKind, ActivityLink
from rapport.core.models import Visibility
from rapport.sales import services
from rapport.sales.models import Communication, CommunicationType, WorkflowDefinition
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


@pytest.fixture
def account(personas):
    return AccountFactory(name="Acme", owner=personas.owner)


def branch(name: str) -> CommunicationType:
    return CommunicationType.objects.get(name=name)


def stored() -> dict:
    return {"communications": list(Communication.objects.order_by("pk").values()),
            "activities": list(Activity.objects.order_by("pk").values()),
            "links": list(ActivityLink.objects.order_by("pk").values())}


def register(owner, account, name: str, start: dt.datetime, contact=None, **data) -> Communication:
    return services.communication_register(
        actor=owner, account=account, contact=contact, communication_type=branch(name),
        data={"activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"), "starts_at": start,
              "ends_at": start + dt.timedelta(hours=1), **data})


def test_registering_a_task_with_a_person(api, personas, account):
    anna = ContactFactory(first_name="Anna", last_name="Berg", account=account, owner=personas.owner)
    answer = api.post("communications", {"account": account.public_id, "contact": anna.public_id,
                                         "communication_type": branch("Quarterly review").public_id,
                                         "activity_type": "task", "due_on": "2031-02-03"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    activity = Activity.objects.get(public_id=body["id"])
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    assert body == {
        "id": activity.public_id, "activity_type": "task",
        "subject": "Customer Relationship: Meeting → Quarterly review",
        "status": "open", "starts_at": "2031-02-03T00:00:00Z", "ends_at": "2031-02-03T00:00:00Z",
        "type": {"id": branch("Quarterly review").public_id, "name": "Quarterly review",
                 "path": "Meeting → Quarterly review"},
        "workflow": {"id": workflow.public_id, "name": "Customer Relationship"},
        "account": {"id": account.public_id, "name": "Acme"},
        "contact": {"id": anna.public_id, "name": "Anna Berg"}}
    assert activity.kind.key == "todo" and activity.owner == personas.owner
    assert set(ActivityLink.objects.filter(activity=activity).values_list("record_type", flat=True)) == \
        {"account", "contact"}


def test_registering_an_event(api, account):
    answer = api.post("communications", {"account": account.public_id, "communication_type": branch("Offer").public_id,
                                         "activity_type": "event", "kind": "call", "subject": "Offer call",
                                         "starts_at": "2031-02-03T10:00:00+01:00", "status": "completed"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["starts_at"], body["ends_at"]) == ("2031-02-03T09:00:00Z", "2031-02-03T10:00:00Z")
    assert (body["subject"], body["status"], body["contact"]) == ("Offer call", "completed", None)
    assert body["type"]["path"] == "Correspondence → Offer"


@pytest.mark.parametrize(("change", "field"), [
    ({"due_on": None}, "due_on"),
    ({"starts_at": "2031-02-03T10:00:00Z"}, "starts_at"),
    ({"activity_type": "event", "due_on": "2031-02-03"}, "due_on"),
    ({"activity_type": "event", "starts_at": "2031-02-03T10:00:00"}, "starts_at"),
    ({"activity_type": "meeting"}, "activity_type"),
    ({"kind": "telepathy"}, "kind"),
    ({"communication_type": "zzzzzzzzzzzzzzzz"}, "communication_type"),
    ({"communication_type": None}, "communication_type"),
    ({"account": "zzzzzzzzzzzzzzzz"}, "account"),
    ({"contact": "zzzzzzzzzzzzzzzz"}, "contact"),
    ({"subject": ""}, "subject"),
    ({"owner": "nobody"}, "owner"),
    ({"regarding": ["account:x"]}, "regarding"),
])
def test_bad_input_is_refused_naming_the_field(api, account, change, field):
    body = {"account": account.public_id, "communication_type": branch("Kick-off").public_id,
            "activity_type": "task", "due_on": "2031-02-03", **change}
    body = {name: value for name, value in body.items() if value is not None or name != "due_on"}
    before = stored()
    answer = api.post("communications", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"] and answer.json()["detail"]
    assert stored() == before


def test_the_person_must_work_at_the_company(api, personas, account):
    elsewhere = ContactFactory(last_name="Elsewhere", account=AccountFactory(name="Other"), owner=personas.owner)
    before = stored()
    answer = api.post("communications", {"account": account.public_id, "contact": elsewhere.public_id,
                                         "communication_type": branch("Kick-off").public_id, "due_on": "2031-02-03"})
    assert answer.status_code == 422 and "contact" in answer.json()["errors"]
    assert stored() == before


def test_a_branch_of_a_workflow_no_longer_in_use_is_refused(api, account):
    WorkflowDefinition.objects.filter(name="Purchasing").update(is_active=False)
    answer = api.post("communications", {"account": account.public_id, "due_on": "2031-02-03",
                                         "communication_type": branch("Delivery note").public_id})
    assert answer.status_code == 422 and "communication_type" in answer.json()["errors"]
    assert not Communication.objects.exists()


def test_hidden_accounts_and_contacts_are_no_such_ones(api, personas, account):
    hidden = AccountFactory(name="Hidden Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    secret = ContactFactory(last_name="Secret", account=account, owner=personas.outsider,
                            visibility=Visibility.PRIVATE)
    base = {"communication_type": branch("Kick-off").public_id, "due_on": "2031-02-03"}
    answer = api.post("communications", {**base, "account": hidden.public_id})
    assert answer.json()["errors"] == {"account": ["No such account."]}
    answer = api.post("communications", {**base, "account": account.public_id, "contact": secret.public_id})
    assert answer.json()["errors"] == {"contact": ["No such contact."]}
    assert not Communication.objects.exists()


def test_a_read_only_user_registers_nothing(personas, api_for, account):
    answer = api_for(personas.viewer).post("communications", {
        "account": account.public_id, "communication_type": branch("Kick-off").public_id, "due_on": "2031-02-03"})
    assert answer.status_code == 403
    assert not Communication.objects.exists() and not Activity.objects.exists()


def test_the_list_of_an_account_newest_first_with_only_what_the_user_may_see(personas, api_for, account):
    other = AccountFactory(name="Other", owner=personas.owner)
    hidden_person = ContactFactory(last_name="Secret", account=account, owner=personas.teammate,
                                   visibility=Visibility.PRIVATE)
    start = dt.datetime(2031, 1, 1, 9, tzinfo=dt.UTC)
    first = register(personas.owner, account, "Kick-off", start)
    second = register(personas.teammate, account, "Complaint", start + dt.timedelta(days=2), contact=hidden_person)
    register(personas.teammate, account, "Offer", start + dt.timedelta(days=3), visibility="private")
    elsewhere = register(personas.owner, other, "Offer", start + dt.timedelta(days=1))
    api = api_for(personas.owner)
    answer = api.get("communications", account=account.public_id)
    assert answer.status_code == 200, answer.json()
    items = answer.json()["items"]
    assert [item["id"] for item in items] == [second.activity.public_id, first.activity.public_id]
    assert items[0]["contact"] is None and "Secret" not in answer.content.decode()
    assert items[0]["type"]["path"] == "Phone call → Complaint"
    # Without an account: every communication the user may see, in pages.
    page = api.get("communications", limit=2).json()
    rest = api.get("communications", limit=2, cursor=page["next"]).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [
        second.activity.public_id, elsewhere.activity.public_id, first.activity.public_id]
    assert rest["next"] is None
    oldest_first = api.get("communications", account=account.public_id, ordering="starts_at").json()["items"]
    assert [item["id"] for item in oldest_first] == [first.activity.public_id, second.activity.public_id]


def test_communications_of_an_account_the_user_may_not_see_are_not_listed(personas, api_for):
    hidden = AccountFactory(name="Hidden Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    register(personas.outsider, hidden, "Kick-off", dt.datetime(2031, 1, 1, 9, tzinfo=dt.UTC))
    api = api_for(personas.owner)
    assert api.get("communications").json()["items"] == []
    answer = api.get("communications", account=hidden.public_id)
    assert answer.status_code == 400 and answer.json()["errors"] == {"account": ["No such account."]}
    assert api.get("communications", workflow="x").status_code == 400
    assert api.get("communications", ordering="subject").status_code == 400
