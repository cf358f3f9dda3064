"""Pipeline stages and workflow definitions through the API: everyone reads them, administrators
change them; a workflow tree that repeats a branch (a cycle) is refused naming the place."""

from __future__ import annotations

import pytest

from rapport.sales import services
from rapport.sales.models import (
    CommunicationType,
    Opportunity,
    Pipeline,
    PipelineStage,
    WorkflowDefinition,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

NOT_ADMINS = ("owner", "manager", "viewer", "marketer")


def stages_stored() -> list:
    return list(PipelineStage.objects.order_by("pk").values())


def workflows_stored() -> dict:
    return {"workflows": list(WorkflowDefinition.objects.order_by("pk").values()),
            "types": list(CommunicationType.objects.order_by("pk").values())}


# --- Pipeline stages -------------------------------------------------------------------------------


def test_everyone_reads_the_stages_in_pages(personas, api_for):
    api = api_for(personas.viewer)
    first = api.get("pipeline-stages", limit=4).json()
    assert [s["name"] for s in first["items"]] == ["Prospecting", "Qualification", "Needs analysis", "Proposal"]
    assert first["next"]
    rest = api.get("pipeline-stages", limit=4, cursor=first["next"]).json()
    assert [s["name"] for s in rest["items"]] == ["Negotiation", "Won", "Lost"] and rest["next"] is None
    won = rest["items"][1]
    sales = Pipeline.objects.get(name="Sales")
    assert won == {"id": won["id"], "name": "Won", "outcome": "won", "pipeline": {"id": sales.public_id,
                                                                                  "name": "Sales"},
                   "position": 5, "probability": 100, "is_active": True}
    assert api.get(f"pipeline-stages/{won['id']}").json() == won


def test_the_stages_of_one_pipeline(personas, api_for):
    other = Pipeline.objects.create(name="Renewals", position=1)
    PipelineStage.objects.create(pipeline=other, name="Renewal call")
    api = api_for(personas.owner)
    body = api.get("pipeline-stages", pipeline=other.public_id).json()
    assert [s["name"] for s in body["items"]] == ["Renewal call"] and body["next"] is None
    assert len(api.get("pipeline-stages").json()["items"]) == 8
    for params, field in (({"pipeline": "zzzz"}, "pipeline"), ({"outcome": "won"}, "outcome"),
                          ({"ordering": "probability"}, "ordering")):
        answer = api.get("pipeline-stages", **params)
        assert answer.status_code == 400 and field in answer.json()["errors"]


def test_an_administrator_adds_changes_and_deletes_a_stage(personas, api_for):
    api = api_for(personas.admin)
    created = api.post("pipeline-stages", {"name": "Contract", "position": 5, "probability": 90})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["name"], body["probability"], body["outcome"], body["pipeline"]["name"]) == \
        ("Contract", 90, "open", "Sales")
    changed = api.patch(f"pipeline-stages/{body['id']}", {"name": "Signed contract", "is_active": False})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["is_active"]) == ("Signed contract", False)
    assert api.delete(f"pipeline-stages/{body['id']}").status_code == 204
    assert api.get(f"pipeline-stages/{body['id']}").status_code == 404


def test_a_stage_made_won_closes_its_deals(personas, api_for):
    proposal = PipelineStage.objects.get(name="Proposal")
    deal = services.opportunity_create(actor=personas.owner, data={
        "name": "Deal", "account": AccountFactory(owner=personas.owner), "stage": proposal})
    assert api_for(personas.admin).patch(f"pipeline-stages/{proposal.public_id}", {"outcome": "won"}).status_code \
        == 200
    assert Opportunity.objects.get(pk=deal.pk).is_open is False


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_only_administrators_change_stages(personas, api_for, persona):
    api = api_for(getattr(personas, persona))
    proposal = PipelineStage.objects.get(name="Proposal")
    before = stages_stored()
    for answer in (api.post("pipeline-stages", {"name": "Mine"}),
                   api.patch(f"pipeline-stages/{proposal.public_id}", {"probability": 1}),
                   api.delete(f"pipeline-stages/{proposal.public_id}")):
        assert answer.status_code == 403 and answer.json()["detail"]
    assert stages_stored() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Proposal"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "X", "probability": 101}, "probability"),
    ({"name": "X", "position": -1}, "position"),
    ({"name": "X", "position": 10**30}, "position"),
    ({"name": "X", "outcome": "maybe"}, "outcome"),
    ({"name": "X", "pipeline": "zzzzzzzzzzzzzzzz"}, "pipeline"),
    ({"name": "X", "is_active": None}, "is_active"),
    ({"name": "X", "colour": "red"}, "colour"),
])
def test_bad_stages_are_refused_naming_the_field(personas, api_for, body, field):
    before = stages_stored()
    answer = api_for(personas.admin).post("pipeline-stages", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"]
    assert stages_stored() == before


def test_a_stage_with_deals_cannot_be_deleted_or_moved_to_another_pipeline(personas, api_for):
    prospecting = PipelineStage.objects.get(name="Prospecting")
    services.opportunity_create(actor=personas.owner, data={"name": "D", "account": AccountFactory()})
    api = api_for(personas.admin)
    before = stages_stored()
    answer = api.delete(f"pipeline-stages/{prospecting.public_id}")
    assert answer.status_code == 422 and "stage" in answer.json()["errors"]
    moved = api.patch(f"pipeline-stages/{prospecting.public_id}", {"pipeline": "zzzz"})
    assert moved.status_code == 422 and "pipeline" in moved.json()["errors"]
    assert stages_stored() == before


# --- Workflow definitions --------------------------------------------------------------------------


def test_everyone_reads_the_workflows_with_their_trees(personas, api_for):
    api = api_for(personas.viewer)
    body = api.get("workflow-definitions", limit=2).json()
    assert [w["name"] for w in body["items"]] == ["Customer Relationship", "Lead Acquisition"] and body["next"]
    relationship = body["items"][0]
    assert [(t["name"], [c["name"] for c in t["children"]]) for t in relationship["types"]] == [
        ("Meeting", ["Quarterly review", "Kick-off", "Site visit"]), ("Phone call", ["Follow-up call", "Complaint"]),
        ("Correspondence", ["Offer", "Newsletter"])]
    assert api.get(f"workflow-definitions/{relationship['id']}").json() == relationship
    rest = api.get("workflow-definitions", limit=2, cursor=body["next"]).json()
    assert [w["name"] for w in rest["items"]] == ["Purchasing", "Opportunity Analysis"] and rest["next"] is None
    assert api.get("workflow-definitions", active="true").status_code == 400


def test_an_administrator_creates_reshapes_and_deletes_a_workflow(personas, api_for):
    api = api_for(personas.admin)
    created = api.post("workflow-definitions", {"name": "Support", "description": "After the sale",
                                                "types": [{"name": "Visit", "children": [{"name": "Repair"}]},
                                                          {"name": "Call"}]})
    assert created.status_code == 201, created.json()
    body = created.json()
    visit, call = body["types"]
    repair = visit["children"][0]
    assert (visit["name"], repair["name"], call["name"], call["children"]) == ("Visit", "Repair", "Call", [])
    # Reshape: the call moves under the visit (kept by its id), the repair is dropped, a branch is added.
    changed = api.patch(f"workflow-definitions/{body['id']}", {"types": [
        {"id": visit["id"], "name": "Site visit",
         "children": [{"id": call["id"], "name": "Call"}, {"name": "Audit"}]}]})
    assert changed.status_code == 200, changed.json()
    tree = changed.json()["types"]
    assert [(t["id"], t["name"]) for t in tree] == [(visit["id"], "Site visit")]
    assert [(c["id"], c["name"]) for c in tree[0]["children"]][:1] == [(call["id"], "Call")]
    assert [c["name"] for c in tree[0]["children"]] == ["Call", "Audit"]
    assert not CommunicationType.objects.filter(public_id=repair["id"]).exists()
    renamed = api.patch(f"workflow-definitions/{body['id']}", {"is_active": False, "position": 9})
    assert renamed.json()["types"] == tree and renamed.json()["is_active"] is False
    assert api.delete(f"workflow-definitions/{body['id']}").status_code == 204
    assert not WorkflowDefinition.objects.filter(name="Support").exists()


def test_a_tree_that_repeats_a_branch_is_refused_naming_its_place(personas, api_for):
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    meeting = CommunicationType.objects.get(workflow=workflow, name="Meeting")
    review = CommunicationType.objects.get(workflow=workflow, name="Quarterly review")
    api = api_for(personas.admin)
    before = workflows_stored()
    # The meeting under its own review: a cycle.
    cycle = [{"id": meeting.public_id, "name": "Meeting", "children": [
        {"id": review.public_id, "name": "Quarterly review", "children": []},
        {"name": "Again", "children": [{"id": meeting.public_id, "name": "Meeting"}]}]}]
    answer = api.patch(f"workflow-definitions/{workflow.public_id}", {"types": cycle})
    assert answer.status_code == 422, answer.json()
    assert list(answer.json()["errors"]) == ["types.0.children.1.children.0.id"]
    twice = [{"id": review.public_id, "name": "A"}, {"name": "B", "children": [{"id": review.public_id,
                                                                                "name": "C"}]}]
    answer = api.patch(f"workflow-definitions/{workflow.public_id}", {"types": twice})
    assert list(answer.json()["errors"]) == ["types.1.children.0.id"]
    assert workflows_stored() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Customer Relationship"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "X", "types": [{"name": ""}]}, "types.0.name"),
    ({"name": "X", "types": [{"name": "A"}, {"name": "a"}]}, "types.1.name"),
    ({"name": "X", "types": [{"name": "A", "children": [{"name": "B", "colour": "red"}]}]},
     "types.0.children.0.colour"),
    ({"name": "X", "types": [{"name": "A", "children": [{}]}]}, "types.0.children.0.name"),
    ({"name": "X", "types": {"name": "A"}}, "types"),
    ({"name": "X", "types": None}, "types"),
    ({"name": "X", "position": "first"}, "position"),
])
def test_bad_workflows_are_refused_naming_the_field(personas, api_for, body, field):
    before = workflows_stored()
    answer = api_for(personas.admin).post("workflow-definitions", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert workflows_stored() == before


def test_a_tree_too_deep_is_refused(personas, api_for):
    node: dict = {"name": "Leaf"}
    for depth in range(40):
        node = {"name": f"Level {depth}", "children": [node]}
    before = workflows_stored()
    answer = api_for(personas.admin).post("workflow-definitions", {"name": "Deep", "types": [node]})
    assert answer.status_code == 422 and answer.json()["detail"]
    assert workflows_stored() == before


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_only_administrators_change_workflows(personas, api_for, persona):
    api = api_for(getattr(personas, persona))
    workflow = WorkflowDefinition.objects.get(name="Purchasing")
    before = workflows_stored()
    for answer in (api.post("workflow-definitions", {"name": "Mine"}),
                   api.patch(f"workflow-definitions/{workflow.public_id}", {"types": []}),
                   api.delete(f"workflow-definitions/{workflow.public_id}")):
        assert answer.status_code == 403 and answer.json()["detail"]
    assert workflows_stored() == before
