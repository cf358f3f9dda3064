"""The support API's request cycle: assign, reassign, accept, decline, who may do each, the conflicts
of people acting at once, bad input, the chain of requests and the private copy."""

from __future__ import annotations

import pytest

from rapport.core.models import HistoryEntry, Visibility
from rapport.mail.models import OutboxMessage
from rapport.support.models import PrivateCopy, SupportItem, SupportRequest
from tests.support import Desk, build_desk, fresh, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


def stored() -> dict:
    """What a refused action must leave as it was."""
    return {"items": list(SupportItem.objects.order_by("pk").values()),
            "requests": list(SupportRequest.objects.order_by("pk").values()),
            "copies": list(PrivateCopy.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count(),
            "mail": OutboxMessage.objects.count()}


def act(api_for, user, item: SupportItem, verb: str, body: dict | None = None):
    return api_for(user).post(f"support-items/{item.public_id}/{verb}", body or {})


# --- Assign ----------------------------------------------------------------------------------------


def test_assign_asks_the_user_and_answers_the_item(desk, api_for):
    item = open_item(desk)
    answer = act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id, "message": "Please"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body == api_for(desk.owner).get(f"support-items/{item.public_id}").json()
    assert body["status"] == "assigned" and body["assignee"]["id"] == desk.asa.public_id
    assert body["pending_request"]["recipient"] == {"id": desk.asa.public_id, "name": desk.asa.display_name}
    assert body["pending_request"]["message"] == "Please"
    assert body["version"] == 2
    assert OutboxMessage.objects.filter(to__icontains=desk.asa.email).exists()


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("manager", 200), ("admin", 200), ("asa", 403),
                                             ("viewer", 403), ("outsider", 403)])
def test_who_may_assign(desk, api_for, who, status):
    item = open_item(desk, visibility=Visibility.EVERYONE)
    before = stored()
    answer = act(api_for, getattr(desk, who), item, "assign", {"assignee": desk.bo.public_id})
    assert answer.status_code == status, answer.json()
    if status != 200:
        assert answer.json()["detail"] and stored() == before


def test_assign_needs_an_item_nobody_holds_and_reassign_one_somebody_does(desk, api_for):
    item = open_item(desk)
    before = stored()
    assert act(api_for, desk.owner, item, "reassign", {"assignee": desk.asa.public_id}).status_code == 409
    assert stored() == before
    assert act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id}).status_code == 200
    before = stored()
    again = act(api_for, desk.owner, item, "assign", {"assignee": desk.bo.public_id})
    assert again.status_code == 409 and "reassign" in again.json()["detail"]
    assert stored() == before
    moved = act(api_for, desk.owner, item, "reassign", {"assignee": desk.bo.public_id}).json()
    assert moved["assignee"]["id"] == desk.bo.public_id
    assert [r["state"] for r in moved["requests"]] == ["withdrawn", "pending"]


@pytest.mark.parametrize(("body", "field"), [
    ({"assignee": "zzzzzzzzzzzzzzzz"}, "assignee"),
    ({"assignee": ""}, "assignee"),
    ({}, "assignee"),
    ({"assignee": "inactive"}, "assignee"),
    ({"assignee": "OWNER", "colour": "red"}, "colour"),
    ({"assignee": "OWNER", "message": "x" * 2001}, "message"),
])
def test_bad_assignments_answer_422_naming_the_field(desk, api_for, body, field):
    free = open_item(desk)
    held = open_item(desk)
    act(api_for, desk.owner, held, "assign", {"assignee": desk.bo.public_id})
    if body.get("assignee") == "inactive":
        desk.cy.is_active = False
        desk.cy.save()
        body = {"assignee": desk.cy.public_id}
    elif body.get("assignee") == "OWNER":
        body = {**body, "assignee": desk.asa.public_id}
    before = stored()
    for verb, item in (("assign", free), ("reassign", held)):
        answer = act(api_for, desk.owner, item, verb, body)
        assert answer.status_code == 422, (verb, answer.json())
        assert field in answer.json()["errors"], answer.json()
    assert stored() == before


def test_a_stale_version_answers_409(desk, api_for):
    item = open_item(desk)
    before = stored()
    answer = act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id, "version": 7})
    assert answer.status_code == 409 and answer.json()["current_version"] == 1
    assert stored() == before


# --- Accept and decline ----------------------------------------------------------------------------


def test_accept_makes_the_item_the_recipients_with_a_private_copy(desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.outsider.public_id})
    # The one asked sees a private item of another team's.
    answer = act(api_for, desk.outsider, item, "accept")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "in_progress" and body["pending_request"] is None
    assert body["requests"][0]["state"] == "accepted"
    assert body["requests"][0]["answered_by"]["id"] == desk.outsider.public_id
    assert body["requests"][0]["answered_at"].endswith(("Z", "+00:00"))
    assert body["private_copy"] is not None  # the outsider's own copy now
    assert PrivateCopy.objects.filter(item=item, holder=desk.outsider).exists()


@pytest.mark.parametrize("who", ["owner", "manager", "admin", "bo", "viewer"])
@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_only_the_recipient_answers(desk, api_for, who, verb):
    item = open_item(desk, visibility=Visibility.TEAM)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    before = stored()
    answer = act(api_for, getattr(desk, who), item, verb, {"reason": "Busy"} if verb == "decline" else {})
    assert answer.status_code == 403, answer.json()
    assert desk.asa.display_name in answer.json()["detail"]
    assert stored() == before


def test_an_outsider_who_may_not_see_the_item_gets_404(desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    before = stored()
    for verb, body in (("accept", {}), ("decline", {"reason": "No"}), ("assign", {"assignee": desk.bo.public_id}),
                       ("reassign", {"assignee": desk.bo.public_id})):
        assert act(api_for, desk.outsider, item, verb, body).status_code == 404
    assert stored() == before


def test_decline_sends_the_item_back_to_its_owner(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    answer = act(api_for, desk.asa, item, "decline", {"reason": "On holiday"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["assignee"] is None and body["status"] == "new" and body["pending_request"] is None
    assert (body["requests"][0]["state"], body["requests"][0]["reason"]) == ("declined", "On holiday")
    returned = api_for(desk.owner).get("support-items", view="returned").json()["items"]
    assert [row["id"] for row in returned] == [item.public_id]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}])
def test_a_decline_without_a_reason_answers_422(desk, api_for, body):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    before = stored()
    answer = act(api_for, desk.asa, item, "decline", body)
    assert answer.status_code == 422, answer.json()
    assert "reason" in answer.json()["errors"]
    assert stored() == before


def test_accept_takes_no_fields_but_its_version(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    before = stored()
    answer = act(api_for, desk.asa, item, "accept", {"status": "closed"})
    assert answer.status_code == 422 and "status" in answer.json()["errors"]
    assert act(api_for, desk.asa, item, "accept", {"version": 1}).status_code == 409
    assert stored() == before
    assert act(api_for, desk.asa, item, "accept", {"version": fresh(item).version}).status_code == 200


def test_no_request_to_answer_is_409(desk, api_for):
    item = open_item(desk)
    before = stored()
    answer = act(api_for, desk.asa, item, "accept")
    assert answer.status_code == 409 and item.reference in answer.json()["detail"]
    assert stored() == before


# --- People acting at once --------------------------------------------------------------------------


def test_accepting_a_request_reassigned_meanwhile_is_409(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    act(api_for, desk.owner, item, "reassign", {"assignee": desk.bo.public_id})
    before = stored()
    for verb, body in (("accept", {}), ("decline", {"reason": "Too late"})):
        answer = act(api_for, desk.asa, item, verb, body)
        assert answer.status_code == 409, answer.json()
        assert desk.bo.display_name in answer.json()["detail"]  # "… reassigned SUP-… to Bo Berg meanwhile."
    assert stored() == before
    assert act(api_for, desk.bo, item, "accept").status_code == 200


def test_a_second_accept_is_409(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    assert act(api_for, desk.asa, item, "accept").status_code == 200
    before = stored()
    again = act(api_for, desk.asa, item, "accept")
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    assert act(api_for, desk.asa, item, "decline", {"reason": "Changed my mind"}).status_code == 409
    assert stored() == before


# --- Passing it on: the chain ------------------------------------------------------------------------


def test_a_chain_of_two_reassignments_is_shown_in_requests(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id, "message": "First"})
    passed = act(api_for, desk.asa, item, "reassign", {"assignee": desk.bo.public_id, "message": "Bo knows"})
    assert passed.status_code == 200, passed.json()
    again = act(api_for, desk.bo, item, "reassign", {"assignee": desk.cy.public_id, "message": "Cy's turn"})
    assert again.status_code == 200, again.json()
    assert act(api_for, desk.cy, item, "accept").status_code == 200

    chain = api_for(desk.owner).get(f"support-items/{item.public_id}").json()["requests"]
    assert [(r["recipient"]["id"], r["requested_by"]["id"], r["state"], r["message"]) for r in chain] == [
        (desk.asa.public_id, desk.owner.public_id, "passed_on", "First"),
        (desk.bo.public_id, desk.asa.public_id, "passed_on", "Bo knows"),
        (desk.cy.public_id, desk.bo.public_id, "accepted", "Cy's turn"),
    ]
    assert chain[0]["answered_by"]["id"] == desk.asa.public_id and chain[-1]["answered_at"]
    assert len({r["id"] for r in chain}) == 3


def test_the_one_who_passed_a_private_item_on_gets_it_as_written(desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.outsider.public_id})
    answer = act(api_for, desk.outsider, item, "reassign", {"assignee": desk.asa.public_id})
    assert answer.status_code == 200 and answer.json()["assignee"]["id"] == desk.asa.public_id
    assert api_for(desk.outsider).get(f"support-items/{item.public_id}").status_code == 404


# --- The private copy ----------------------------------------------------------------------------------


def test_the_private_copy_is_only_its_holders(desk, api_for):
    item = open_item(desk, visibility=Visibility.EVERYONE)
    owner = api_for(desk.owner)
    copy = owner.get(f"support-items/{item.public_id}").json()["private_copy"]
    changed = owner.patch(f"support-items/{item.public_id}/private-copy",
                          {"version": copy["version"], "notes": "Customer is grumpy", "due_on": "2031-05-01",
                           "reminder_minutes": 30})
    assert changed.status_code == 200, changed.json()
    mine = changed.json()["private_copy"]
    assert (mine["notes"], mine["due_on"], mine["reminder_minutes"]) == ("Customer is grumpy", "2031-05-01", 30)

    for user in (desk.manager, desk.admin, desk.asa, desk.outsider):
        other = api_for(user).get(f"support-items/{item.public_id}")
        assert other.json()["private_copy"] is None
        assert "grumpy" not in other.content.decode()
        assert "grumpy" not in api_for(user).get("support-items").content.decode()
        before = stored()
        refused = api_for(user).patch(f"support-items/{item.public_id}/private-copy",
                                      {"version": copy["version"], "notes": "Mine now"})
        assert refused.status_code == 404
        assert stored() == before

    stale = owner.patch(f"support-items/{item.public_id}/private-copy", {"version": copy["version"], "notes": "x"})
    assert stale.status_code == 409
    assert owner.patch(f"support-items/{item.public_id}/private-copy",
                       {"version": mine["version"], "secret": 1}).status_code == 422


def test_the_accepting_assignee_gets_a_copy_of_their_own(desk, api_for):
    item = open_item(desk)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.asa.public_id})
    assert api_for(desk.asa).get(f"support-items/{item.public_id}").json()["private_copy"] is None
    act(api_for, desk.asa, item, "accept")
    theirs = api_for(desk.asa).get(f"support-items/{item.public_id}").json()["private_copy"]
    answer = api_for(desk.asa).patch(f"support-items/{item.public_id}/private-copy",
                                     {"version": theirs["version"], "notes": "Asa's notes", "status": "pending"})
    assert answer.status_code == 200 and answer.json()["private_copy"]["status"] == "pending"
    assert api_for(desk.owner).get(f"support-items/{item.public_id}").json()["private_copy"]["notes"] == ""


def test_the_assignee_may_change_the_item_but_not_delete_it(desk, api_for):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    act(api_for, desk.owner, item, "assign", {"assignee": desk.outsider.public_id})
    act(api_for, desk.outsider, item, "accept")
    outsider = api_for(desk.outsider)
    version = fresh(item).version
    changed = outsider.patch(f"support-items/{item.public_id}", {"version": version, "status": "waiting"})
    assert changed.status_code == 200 and changed.json()["status"] == "waiting"
    assert outsider.delete(f"support-items/{item.public_id}").status_code == 403
