"""The support-items API: CRUD and restore, the representation, lists and filters, bad input,
visibility, and the cost of a list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.core.models import HistoryEntry, Visibility
from rapport.support import services
from rapport.support.models import PrivateCopy, SupportItem, SupportRequest, SupportSource
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory
from tests.support import Desk, build_desk, fresh, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


@pytest.fixture
def api(desk, api_for):
    return api_for(desk.owner)


def stored() -> dict:
    """What a refused write must leave as it was."""
    return {"items": list(SupportItem.objects.order_by("pk").values()),
            "requests": list(SupportRequest.objects.order_by("pk").values()),
            "copies": list(PrivateCopy.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


# --- CRUD ------------------------------------------------------------------------------------------


def test_create_read_update_delete_restore(api, desk):
    created = api.post("support-items", {"subject": "Printer on fire", "description": "Smoke", "category": "problem",
                                         "priority": "high", "due_on": "2031-03-01",
                                         "account": desk.account.public_id, "contact": desk.contact.public_id})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["reference"].startswith("SUP-") and not body["id"].isdigit()
    assert (body["subject"], body["priority"], body["status"], body["due_on"]) == \
        ("Printer on fire", "high", "new", "2031-03-01")
    assert body["category"] == "Problem"
    assert body["account"] == {"id": desk.account.public_id, "name": "Acme"}
    assert body["contact"]["id"] == desk.contact.public_id and body["opportunity"] is None
    assert body["owner"] == {"id": desk.owner.public_id, "name": desk.owner.display_name}
    assert body["assignee"] is None and body["pending_request"] is None and body["requests"] == []
    assert body["source"] == SupportSource.API and body["visibility"] in Visibility.values
    assert body["version"] == 1 and body["overdue"] is False and body["closed_at"] is None
    assert body["created_at"].endswith(("Z", "+00:00")) and body["updated_at"].endswith(("Z", "+00:00"))
    copy = body["private_copy"]
    assert copy["due_on"] == "2031-03-01" and copy["status"] == "open" and copy["notes"] == ""
    item_id = body["id"]

    assert api.get(f"support-items/{item_id}").json() == body

    changed = api.patch(f"support-items/{item_id}", {"version": 1, "subject": "Printer smoking", "due_on": None,
                                                     "category": None, "contact": ""})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["subject"], changed.json()["due_on"], changed.json()["category"],
            changed.json()["contact"], changed.json()["version"]) == ("Printer smoking", None, None, None, 2)

    assert api.delete(f"support-items/{item_id}?version=2").status_code == 204
    assert api.get(f"support-items/{item_id}").status_code == 404
    assert SupportItem.objects.filter(public_id=item_id, deleted_at__isnull=False).exists()
    restored = api.post(f"support-items/{item_id}/restore")
    assert restored.status_code == 200 and restored.json()["subject"] == "Printer smoking"
    assert api.post(f"support-items/{item_id}/restore").status_code == 404


def test_create_with_an_assignee_sends_the_request(api, desk):
    body = api.post("support-items", {"subject": "Call back", "assignee": desk.asa.public_id,
                                      "message": "You know them"}).json()
    assert body["status"] == "assigned" and body["assignee"]["id"] == desk.asa.public_id
    pending = body["pending_request"]
    assert pending["recipient"]["id"] == desk.asa.public_id and pending["requested_by"]["id"] == desk.owner.public_id
    assert pending["message"] == "You know them" and pending["created_at"].endswith(("Z", "+00:00"))
    assert [r["state"] for r in body["requests"]] == ["pending"]


def test_a_stale_version_answers_409_and_changes_nothing(api, desk):
    item = open_item(desk)
    api.patch(f"support-items/{item.public_id}", {"version": 1, "priority": "low"})
    before = stored()
    stale = api.patch(f"support-items/{item.public_id}", {"version": 1, "priority": "urgent"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert "version" in stale.json()["errors"]
    assert api.delete(f"support-items/{item.public_id}?version=1").status_code == 409
    assert stored() == before


def test_the_status_a_user_chooses_and_the_ones_the_cycle_sets(api, desk):
    item = open_item(desk)
    before = stored()
    refused = api.patch(f"support-items/{item.public_id}", {"version": 1, "status": "assigned"})
    assert refused.status_code == 422 and "status" in refused.json()["errors"]
    assert api.patch(f"support-items/{item.public_id}", {"version": 1, "status": "in_progress"}).status_code == 422
    assert stored() == before
    closed = api.patch(f"support-items/{item.public_id}", {"version": 1, "status": "resolved"}).json()
    assert closed["status"] == "resolved" and closed["closed_at"].endswith(("Z", "+00:00"))


# --- Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"subject": "X", "reference": "SUP-1"}, "reference"),
    ({"subject": "X", "assignee_id": 1}, "assignee_id"),
    ({"subject": "X", "status": "closed"}, "status"),
    ({"subject": "X", "source": "email"}, "source"),
    ({"subject": "X", "owner": "someone"}, "owner"),
    ({"subject": ""}, "subject"),
    ({}, "subject"),
    ({"subject": "X", "priority": "asap"}, "priority"),
    ({"subject": "X", "category": "Nonsense"}, "category"),
    ({"subject": "X", "account": "zzzzzzzzzzzzzzzz"}, "account"),
    ({"subject": "X", "assignee": "zzzzzzzzzzzzzzzz"}, "assignee"),
    ({"subject": "X", "due_on": "tomorrow"}, "due_on"),
    ({"subject": "X", "description": "a\x00b"}, "description"),
])
def test_bad_input_on_create_names_the_field_and_stores_nothing(api, body, field):
    before = stored()
    answer = api.post("support-items", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert stored() == before


def test_bad_input_on_update_names_the_field(api, desk):
    item = open_item(desk)
    before = stored()
    for body, field in [({"version": 1, "assignee": desk.asa.public_id}, "assignee"),
                        ({"version": 1, "subject": None}, "subject"),
                        ({"version": 1, "priority": None}, "priority"),
                        ({"subject": "No version"}, "version"),
                        ({"version": 1, "contact": ContactFactory(owner=desk.owner,
                                                                account=AccountFactory(owner=desk.owner)).public_id},
                         "contact")]:
        answer = api.patch(f"support-items/{item.public_id}", body)
        assert answer.status_code == 422 and field in answer.json()["errors"], (body, answer.json())
    assert stored() == before


def test_a_record_the_caller_may_not_see_is_no_such_record(api, desk):
    hidden = AccountFactory(owner=desk.outsider, visibility=Visibility.PRIVATE)
    answer = api.post("support-items", {"subject": "X", "account": hidden.public_id})
    assert answer.status_code == 422
    assert answer.json()["errors"]["account"] == ["No such account."]


# --- Visibility ------------------------------------------------------------------------------------


def test_a_private_item_of_another_user_is_not_found(desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    for user in (desk.asa, desk.outsider, desk.viewer):
        assert api_for(user).get(f"support-items/{item.public_id}").status_code == 404
        assert api_for(user).patch(f"support-items/{item.public_id}", {"version": 1, "subject": "Y"}).status_code \
            == 404
    assert api_for(desk.manager).get(f"support-items/{item.public_id}").status_code == 200
    assert api_for(desk.admin).get(f"support-items/{item.public_id}").status_code == 200
    missing = api_for(desk.asa).get("support-items/zzzzzzzzzzzzzzzz")
    assert missing.json() == api_for(desk.asa).get(f"support-items/{item.public_id}").json()


def test_the_assignee_sees_a_private_item(api, desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    assert api.post(f"support-items/{item.public_id}/assign", {"assignee": desk.outsider.public_id}).status_code \
        == 200
    outsider = api_for(desk.outsider)
    assert outsider.get(f"support-items/{item.public_id}").status_code == 200
    assert item.public_id in {row["id"] for row in outsider.get("support-items").json()["items"]}
    assert item.public_id not in {row["id"] for row in api_for(desk.bo).get("support-items").json()["items"]}


def test_linked_records_are_named_only_to_who_may_see_them(desk, api_for):
    account = AccountFactory(owner=desk.owner, name="Secret Co", visibility=Visibility.PRIVATE)
    opportunity = OpportunityFactory(owner=desk.owner, account=account, visibility=Visibility.PRIVATE)
    item = open_item(desk, account=account, opportunity=opportunity, visibility=Visibility.EVERYONE)
    mine = api_for(desk.owner).get(f"support-items/{item.public_id}").json()
    assert mine["account"]["name"] == "Secret Co" and mine["opportunity"]["id"] == opportunity.public_id
    answer = api_for(desk.outsider).get(f"support-items/{item.public_id}")
    assert answer.json()["account"] is None and answer.json()["opportunity"] is None
    assert "Secret Co" not in answer.content.decode() and account.public_id not in answer.content.decode()
    listed = api_for(desk.outsider).get("support-items").content.decode()
    assert "Secret Co" not in listed and account.public_id not in listed


def test_the_list_shows_only_visible_items(desk, api_for):
    private = open_item(desk, subject="Private", visibility=Visibility.PRIVATE)
    team = open_item(desk, subject="Team", visibility=Visibility.TEAM)
    everyone = open_item(desk, subject="Everyone", visibility=Visibility.EVERYONE)
    gone = open_item(desk, subject="Gone", visibility=Visibility.EVERYONE)
    api_for(desk.owner).delete(f"support-items/{gone.public_id}")

    def ids(user) -> set[str]:
        return {row["id"] for row in api_for(user).get("support-items").json()["items"]}

    assert ids(desk.owner) == ids(desk.manager) == ids(desk.admin) == \
        {private.public_id, team.public_id, everyone.public_id}
    assert ids(desk.asa) == ids(desk.viewer) == {team.public_id, everyone.public_id}
    assert ids(desk.outsider) == {everyone.public_id}


# --- Lists and filters -----------------------------------------------------------------------------


def test_the_list_pages_with_a_cursor(api, desk):
    made = [open_item(desk, subject=f"Case {n}") for n in range(5)]
    first = api.get("support-items", limit=2).json()
    assert len(first["items"]) == 2 and first["next"]
    seen = [row["id"] for row in first["items"]]
    cursor = first["next"]
    while cursor:
        page = api.get("support-items", limit=2, cursor=cursor).json()
        seen += [row["id"] for row in page["items"]]
        cursor = page["next"]
    assert seen == [item.public_id for item in reversed(made)]
    assert api.get("support-items", limit=500).status_code == 200  # capped, not refused


def test_ordering_by_due_date_pages_through_undated_items(api, desk):
    dated = [open_item(desk, subject=f"D{n}", due_on=dt.date(2031, 1, 1 + n)) for n in range(3)]
    undated = [open_item(desk, subject=f"U{n}") for n in range(3)]
    seen, cursor = [], None
    while True:
        page = api.get("support-items", ordering="due_on", limit=2, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.json()
        seen += [row["id"] for row in page.json()["items"]]
        cursor = page.json()["next"]
        if not cursor:
            break
    assert seen == [item.public_id for item in dated + undated]
    backwards = api.get("support-items", ordering="-due_on", limit=10).json()["items"]
    assert [row["id"] for row in backwards][-3:] == [item.public_id for item in reversed(dated)]


def test_filters_and_views(api, desk, api_for):
    mine = open_item(desk, subject="Mine", priority="urgent", due_on=timezone.localdate() - dt.timedelta(days=2))
    asked = open_item(desk, actor=desk.asa, subject="Asked of owner")
    api_for(desk.asa).post(f"support-items/{asked.public_id}/assign", {"assignee": desk.owner.public_id})
    held = open_item(desk, actor=desk.bo, subject="Held by owner")
    api_for(desk.bo).post(f"support-items/{held.public_id}/assign", {"assignee": desk.owner.public_id})
    api.post(f"support-items/{held.public_id}/accept", {})

    def ids(**params) -> set[str]:
        answer = api.get("support-items", **params)
        assert answer.status_code == 200, answer.json()
        return {row["id"] for row in answer.json()["items"]}

    assert ids(view="mine") == {mine.public_id}
    assert ids(view="awaiting") == {asked.public_id}
    assert ids(view="assigned") == {held.public_id}
    assert ids(assignee="me") == {asked.public_id, held.public_id}
    assert ids(priority="urgent") == {mine.public_id}
    assert ids(overdue="true") == {mine.public_id}
    assert ids(status="in_progress") == {held.public_id}
    assert ids(q=mine.reference.lower()) == {mine.public_id}
    assert ids(q="asked") == {asked.public_id}
    assert ids(owner=desk.asa.public_id) == {asked.public_id}
    assert ids(account=desk.account.public_id) == {mine.public_id, asked.public_id, held.public_id}


@pytest.mark.parametrize("params", [{"view": "everything"}, {"colour": "red"}, {"ordering": "subject"},
                                    {"cursor": "forged"}, {"limit": "many"}, {"older_than": "-1"},
                                    {"category": "Nonsense"}, {"status": "lost"}])
def test_a_bad_query_answers_400_naming_the_parameter(api, params):
    answer = api.get("support-items", **params)
    assert answer.status_code == 400, answer.json()
    assert set(params) <= set(answer.json()["errors"]), answer.json()


def _queries(call: Callable[[], object]) -> int:
    call()  # the first call with a token also notes when it was last used
    with CaptureQueriesContext(connection) as captured:
        answer = call()
    assert answer.status_code == 200
    return len(captured.captured_queries)


def _add(desk: Desk, count: int) -> None:
    for n in range(count):
        account = AccountFactory(owner=desk.owner)
        item = open_item(desk, subject=f"Busy {n}", account=account,
                         contact=ContactFactory(owner=desk.owner, account=account),
                         opportunity=OpportunityFactory(owner=desk.owner, account=account))
        services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
        services.support_assign(actor=desk.asa, item=fresh(item), recipient=desk.bo, reassign=True)


def test_a_list_costs_the_same_for_2_and_8_rows(api, desk):
    _add(desk, 2)
    few = _queries(lambda: api.get("support-items"))
    _add(desk, 6)
    assert len(api.get("support-items").json()["items"]) == 8
    assert _queries(lambda: api.get("support-items")) == few
    assert few <= 12
