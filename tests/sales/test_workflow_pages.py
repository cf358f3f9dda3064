"""The Communications pane of an account and the administrators' pipeline and workflow settings.
What a user sees; who may open which page is the permission matrix's."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from rapport.activities.models import Activity, ActivityKind, ActivityType
from rapport.core.models import Visibility
from rapport.sales import services
from rapport.sales.forms.workflows import keep_branch_ids, parse_outline, tree_outline
from rapport.sales.models import Communication, CommunicationType, Opportunity, PipelineStage, WorkflowDefinition
from rapport.sales.selectors import workflow_tree
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def branch(*path: str, workflow: str = "Customer Relationship") -> CommunicationType:
    node = None
    for name in path:
        node = CommunicationType.objects.get(workflow__name=workflow, parent=node, name=name)
    return node


def pane_url(account) -> str:
    return f"/communications/about/{account.ref}/"


def register(actor, account, node, *, contact=None, subject="", day=dt.date(2027, 3, 4), **data):
    values = {"activity_type": ActivityType.TASK, "due_on": day, "kind": ActivityKind.objects.get(key="meeting"),
              **data}
    if subject:
        values["subject"] = subject
    return services.communication_register(actor=actor, account=account, communication_type=node, contact=contact,
                                           data=values)


def form_data(node, **fields) -> dict:
    return {"contact": "", "communication_type": node.public_id, "kind": "meeting", "date": "2027-03-04",
            "time": "", "subject": "", "notes": "", **fields}


def branch_block(page: str, name: str) -> str:
    """The <details> of a branch, from its summary to the end of its own list of communications."""
    start = page.index(f"<summary>{name} ")
    end = page.find("</ul>", start)
    return page[start:end]


@pytest.fixture
def acme(personas):
    return AccountFactory(name="Acme", owner=personas.owner)


@pytest.fixture
def pat(personas, acme):
    return ContactFactory(first_name="Pat", last_name="Lee", owner=personas.owner, account=acme)


# --- The pane --------------------------------------------------------------------------------------


def test_the_pane_groups_communications_by_branch_and_shows_only_visible_ones(personas, acme, pat):
    review, complaint = branch("Meeting", "Quarterly review"), branch("Phone call", "Complaint")
    register(personas.owner, acme, review, contact=pat, subject="Q1 review")
    register(personas.owner, acme, review, subject="Q2 review", day=dt.date(2027, 6, 3))
    register(personas.owner, acme, complaint, subject="Late delivery")
    register(personas.teammate, acme, complaint, subject="Private grumble", visibility=Visibility.PRIVATE)

    response = client_for(personas.owner).get(pane_url(acme), headers=HTMX)
    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page  # the pane alone, for htmx
    assert "(3)" in page  # the communications the owner may see
    review_block = branch_block(page, "Quarterly review")
    assert "Q1 review" in review_block and "Q2 review" in review_block and "Late delivery" not in review_block
    assert review_block.index("Q2 review") < review_block.index("Q1 review")  # newest first
    assert "Pat Lee" in review_block and "4 Mar 2027" in review_block
    assert re.search(r'<summary>Meeting <span class="badge">2<', page)
    assert re.search(r'<summary>Phone call <span class="badge">1<', page)
    assert "Late delivery" in branch_block(page, "Complaint")
    assert "Private grumble" not in page
    communication = Communication.objects.get(activity__subject="Q1 review")
    assert f'href="/activities/{communication.activity.public_id}/"' in page
    # Every active workflow's tree is there, with branches nobody used yet.
    assert "Lead Acquisition" in page and "Trade fair" in page


def test_the_pane_without_javascript_is_a_page_of_its_own(personas, acme):
    response = client_for(personas.owner).get(pane_url(acme))
    assert response.status_code == 200
    assert "<html" in text(response) and "Acme" in text(response) and f'href="/accounts/{acme.public_id}/"' in \
        text(response)


def test_the_branch_picker_groups_branches_by_workflow_and_names_their_path(personas, acme, pat):
    WorkflowDefinition.objects.filter(name="Purchasing").update(is_active=False)
    page = text(client_for(personas.owner).get(pane_url(acme), headers=HTMX))
    picker = page[page.index('name="communication_type"'):]
    picker = picker[:picker.index("</select>")]
    assert '<optgroup label="Customer Relationship">' in picker
    assert "Meeting → Quarterly review" in picker
    assert "Purchasing" not in picker and "Delivery note" not in picker
    contacts = page[page.index('name="contact"'):]
    assert f'<option value="{pat.public_id}">Pat Lee</option>' in contacts


def test_registering_a_communication_creates_an_activity_about_the_account_and_the_person(personas, acme, pat):
    review = branch("Meeting", "Quarterly review")
    client = client_for(personas.owner)
    response = client.post(pane_url(acme), form_data(review, contact=pat.public_id, notes="Went well"), headers=HTMX)
    assert response.status_code == 200
    assert "was registered" in text(response)
    communication = Communication.objects.get()
    activity = communication.activity
    assert (communication.account, communication.contact, communication.communication_type) == (acme, pat, review)
    assert activity.subject == "Customer Relationship: Meeting → Quarterly review"
    assert activity.is_task and activity.due_on == dt.date(2027, 3, 4) and activity.description == "Went well"
    assert list(activity.attendees.all()) == [pat]
    assert "Customer Relationship: Meeting → Quarterly review" in branch_block(text(response), "Quarterly review")
    # The activity regards the account and the person: it shows on both their Activities panels.
    for record in (acme, pat):
        assert activity.subject in text(client.get(f"/activities/about/{record.ref}/"))


def test_a_communication_with_a_time_is_an_hour_long_event_in_the_users_time_zone(personas, acme):
    personas.owner.time_zone = "Europe/Berlin"
    personas.owner.save(update_fields=["time_zone"])
    client = client_for(personas.owner)
    response = client.post(pane_url(acme), form_data(branch("Meeting", "Kick-off"), time="14:30",
                                                     subject="Kick-off with Acme"))
    assert response.status_code == 302 and response["Location"] == f"/accounts/{acme.public_id}/"
    activity = Activity.objects.get(subject="Kick-off with Acme")
    assert activity.activity_type == ActivityType.EVENT
    assert activity.starts_at == dt.datetime(2027, 3, 4, 13, 30, tzinfo=dt.UTC)
    assert activity.ends_at - activity.starts_at == dt.timedelta(hours=1)
    assert "was registered" in text(client.get(f"/accounts/{acme.public_id}/"))


def test_a_contact_of_another_account_is_refused_and_nothing_is_saved(personas, acme):
    elsewhere = ContactFactory(first_name="Sam", last_name="Other", owner=personas.owner,
                               account=AccountFactory(name="Globex", owner=personas.owner))
    response = client_for(personas.owner).post(
        pane_url(acme), form_data(branch("Meeting", "Site visit"), contact=elsewhere.public_id), headers=HTMX)
    page = text(response)
    assert response.status_code == 400
    assert "Sam Other does not work at Acme" in page
    assert re.search(r'has-error">\s*<label for="id_contact"', page)
    assert not Communication.objects.exists() and not Activity.objects.exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"communication_type": ""}, "communication_type", "Choose the branch"),
    ({"communication_type": "zzzzzzzzzzzzzzzz"}, "communication_type", "Choose one of the branches offered"),
    ({"date": ""}, "date", "This field is required"),
    ({"date": "2027-03-28", "time": "02:30"}, "time", "does not exist on 2027-03-28"),
    ({"contact": "zzzzzzzzzzzzzzzz"}, "contact", "No such contact"),
])
def test_a_mistake_is_shown_on_its_field_and_nothing_is_saved(personas, acme, fields, field, message):
    personas.owner.time_zone = "Europe/Berlin"
    personas.owner.save(update_fields=["time_zone"])
    response = client_for(personas.owner).post(pane_url(acme), form_data(branch("Meeting"), **fields), headers=HTMX)
    page = text(response)
    assert response.status_code == 400
    assert message in page
    assert re.search(rf'has-error">\s*<label for="id_{field}"', page)
    assert "<details class=\"comm-register\" open>" in page  # the form stays open with what was typed
    assert not Activity.objects.exists()


def test_a_branch_of_an_inactive_workflow_cannot_be_chosen(personas, acme):
    WorkflowDefinition.objects.filter(name="Purchasing").update(is_active=False)
    response = client_for(personas.owner).post(
        pane_url(acme), form_data(branch("Delivery", workflow="Purchasing")), headers=HTMX)
    assert response.status_code == 400 and not Activity.objects.exists()


def test_a_contact_ref_or_an_invisible_account_answers_404(personas, acme, pat):
    hidden = AccountFactory(name="Secret", owner=personas.outsider, visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    assert client.get(f"/communications/about/{pat.ref}/").status_code == 404
    assert client.get(pane_url(hidden)).status_code == 404
    assert client.post(pane_url(hidden), form_data(branch("Meeting"))).status_code == 404


def test_a_read_only_user_sees_the_pane_without_the_form_and_may_not_register(personas, acme):
    client = client_for(personas.viewer)
    page = text(client.get(pane_url(acme), headers=HTMX))
    assert "Quarterly review" in page and "Register a communication" not in page
    assert client.post(pane_url(acme), form_data(branch("Meeting"))).status_code == 403
    assert not Activity.objects.exists()


def test_the_account_page_loads_the_pane(personas, acme):
    page = text(client_for(personas.owner).get(f"/accounts/{acme.public_id}/"))
    assert f'hx-get="{pane_url(acme)}"' in page


# --- Settings: pipeline stages ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/settings/pipeline/", "/settings/workflows/", "/settings/workflows/new/"])
def test_the_settings_of_pipelines_and_workflows_are_for_administrators(personas, url):
    assert client_for(personas.owner).get(url).status_code == 403
    assert client_for(personas.manager).get(url).status_code == 403
    assert client_for(personas.admin).get(url).status_code == 200


def test_settings_link_to_pipeline_and_workflows_for_administrators_only(personas):
    assert "/settings/pipeline/" in text(client_for(personas.admin).get("/settings/"))
    assert "/settings/workflows/" in text(client_for(personas.admin).get("/settings/"))
    assert "/settings/pipeline/" not in text(client_for(personas.owner).get("/settings/"))


def test_the_pipeline_page_lists_stages_in_order_with_their_deals(personas):
    proposal = PipelineStage.objects.get(name="Proposal")
    services.opportunity_create(actor=personas.owner, data={
        "name": "Big deal", "account": AccountFactory(owner=personas.owner), "stage": proposal})
    page = text(client_for(personas.admin).get("/settings/pipeline/"))
    names = re.findall(r'href="/settings/pipeline/stages/[a-z2-7]{16}/">([^<]+)</a>', page)
    assert names == ["Prospecting", "Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    row = page[page.index(">Proposal</a>"):]
    row = row[:row.index("</tr>")]
    assert '"Place">4<' in row and "60 %" in row and "Open" in row and '"Deals in it">1<' in row


def stage_names(client) -> list[str]:
    return re.findall(r'href="/settings/pipeline/stages/[a-z2-7]{16}/">([^<]+)</a>',
                      text(client.get("/settings/pipeline/")))


def test_an_administrator_adds_a_stage_last_or_at_a_place(personas):
    client = client_for(personas.admin)
    pipeline = PipelineStage.objects.get(name="Proposal").pipeline
    response = client.post("/settings/pipeline/", {
        "pipeline": pipeline.public_id, "name": "Dormant", "probability": "5", "outcome": "open",
        "place": "", "is_active": "on"})
    assert response.status_code == 302
    stage = PipelineStage.objects.get(name="Dormant")
    assert (stage.probability, stage.is_active) == (5, True)
    assert "The stage Dormant was added" in text(client.get("/settings/pipeline/"))
    assert stage_names(client)[-1] == "Dormant"
    client.post("/settings/pipeline/", {"pipeline": pipeline.public_id, "name": "Legal review",
                                        "probability": "70", "outcome": "open", "place": "5", "is_active": "on"})
    assert stage_names(client)[3:6] == ["Proposal", "Legal review", "Negotiation"]
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == list(range(9))


def test_a_stage_name_twice_in_a_pipeline_is_refused_on_the_name(personas):
    pipeline = PipelineStage.objects.get(name="Proposal").pipeline
    before = PipelineStage.objects.count()
    response = client_for(personas.admin).post("/settings/pipeline/", {
        "pipeline": pipeline.public_id, "name": "Proposal", "probability": "50", "outcome": "open"})
    assert response.status_code == 400
    assert re.search(r'has-error">\s*<label for="id_name"', text(response))
    assert PipelineStage.objects.count() == before


def test_an_administrator_edits_a_stage_and_moves_it(personas):
    stage = PipelineStage.objects.get(name="Negotiation")
    deal = services.opportunity_create(actor=personas.owner, data={
        "name": "Deal", "account": AccountFactory(owner=personas.owner), "stage": stage})
    client = client_for(personas.admin)
    page = text(client.get(f"/settings/pipeline/stages/{stage.public_id}/"))
    assert 'value="Negotiation"' in page and "1 deal is in this stage" in page and 'value="5"' in page
    response = client.post(f"/settings/pipeline/stages/{stage.public_id}/", {
        "name": "Final negotiation", "probability": "85", "outcome": "won", "place": "1"})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.outcome, stage.is_active) == ("Final negotiation", 85, "won", False)
    deal.refresh_from_db()
    assert not deal.is_open  # a stage that became won closes the deals in it
    assert stage_names(client)[:3] == ["Final negotiation", "Prospecting", "Qualification"]
    client.post(f"/settings/pipeline/stages/{stage.public_id}/", {
        "name": "Final negotiation", "probability": "85", "outcome": "open", "place": "99", "is_active": "on"})
    assert stage_names(client)[-1] == "Final negotiation"
    client.post(f"/settings/pipeline/stages/{stage.public_id}/", {
        "name": "Negotiation", "probability": "80", "outcome": "open", "place": "", "is_active": "on"})
    assert stage_names(client)[-2:] == ["Lost", "Negotiation"]  # no place given: it stays where it is


def test_a_stage_with_deals_is_not_deleted_and_says_why(personas):
    stage = PipelineStage.objects.get(name="Proposal")
    services.opportunity_create(actor=personas.owner, data={
        "name": "Deal", "account": AccountFactory(owner=personas.owner), "stage": stage})
    client = client_for(personas.admin)
    response = client.post(f"/settings/pipeline/stages/{stage.public_id}/", {"action": "delete"})
    assert response.status_code == 302
    assert PipelineStage.objects.filter(pk=stage.pk).exists()
    assert "deactivate it instead" in text(client.get(response["Location"]))


def test_an_unused_stage_is_deleted(personas):
    stage = PipelineStage.objects.get(name="Needs analysis")
    response = client_for(personas.admin).post(f"/settings/pipeline/stages/{stage.public_id}/", {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == "/settings/pipeline/"
    assert not PipelineStage.objects.filter(pk=stage.pk).exists()
    assert Opportunity.objects.count() == 0


def test_a_sales_user_may_not_change_a_stage(personas):
    stage = PipelineStage.objects.get(name="Proposal")
    client = client_for(personas.owner)
    assert client.post(f"/settings/pipeline/stages/{stage.public_id}/", {"action": "delete"}).status_code == 403
    assert client.post(f"/settings/pipeline/stages/{stage.public_id}/", {
        "name": "Mine", "probability": "1", "outcome": "open"}).status_code == 403
    assert PipelineStage.objects.filter(pk=stage.pk, name="Proposal").exists()


# --- Settings: workflows and their outline ---------------------------------------------------------


OUTLINE = "Meeting\n  Quarterly review\n    Agenda\n  Kick-off\nCall\n"


def test_an_outline_becomes_a_tree_and_back():
    tree = parse_outline(OUTLINE)
    assert tree == [
        {"name": "Meeting", "children": [
            {"name": "Quarterly review", "children": [{"name": "Agenda", "children": []}]},
            {"name": "Kick-off", "children": []}]},
        {"name": "Call", "children": []}]
    assert tree_outline(tree) == OUTLINE.rstrip("\n")
    assert parse_outline("\n\n") == []


@pytest.mark.parametrize(("outline", "message"), [
    ("Meeting\n    Too deep", "Line 2: indented too deep"),
    ("  Starts indented", "Line 1: indented too deep"),
    ("Meeting\n Odd", "Line 2: indent with two spaces per level"),
    ("Meeting\n  Review\n  review", "Line 3: “review” is already on this level (line 2)"),
    ("Call\n\nCall", "Line 3: “Call” is already on this level (line 1)"),
    ("A\n  B\n    C\n      D\n        E\n          F\n            G", "Line 7: a workflow is at most 6 levels deep"),
    ("x" * 101, "Line 1: a branch's name is at most 100 characters"),
])
def test_a_bad_outline_is_an_error_naming_the_line(outline, message):
    with pytest.raises(Exception) as raised:
        parse_outline(outline)
    assert any(message in text for text in raised.value.messages)


def test_the_same_name_on_different_levels_or_branches_is_fine():
    tree = parse_outline("Meeting\n  Follow-up\nCall\n  Follow-up\n    Follow-up")
    assert [node["name"] for node in tree] == ["Meeting", "Call"]


def test_branch_ids_are_kept_by_path_by_a_unique_name_and_by_place():
    existing = [{"id": "m", "name": "Meeting", "children": [{"id": "q", "name": "Quarterly review", "children": []},
                                                           {"id": "k", "name": "Kick-off", "children": []}]},
                {"id": "c", "name": "Call", "children": []}]
    tree = keep_branch_ids(parse_outline("meeting\n  Kickoff meeting\nCall\n  Quarterly review\nEmail"), existing)
    assert tree[0]["id"] == "m"  # same path, case aside
    assert tree[1]["children"][0]["id"] == "q"  # moved, its name unique
    # Its place was Quarterly review's, which moved away: it is a new branch (and Kick-off goes).
    assert tree[0]["children"][0].get("id") is None
    assert "id" not in tree[2]
    renamed = keep_branch_ids(parse_outline("Meeting\n  Quarterly business review\n  Kick-off\nCall"), existing)
    assert renamed[0]["children"][0]["id"] == "q"  # renamed where it stands


def test_the_workflows_page_shows_each_tree(personas):
    page = text(client_for(personas.admin).get("/settings/workflows/"))
    for name in ("Customer Relationship", "Quarterly review", "Purchasing", "Delivery note"):
        assert name in page


def test_an_administrator_creates_a_workflow_from_an_outline(personas):
    client = client_for(personas.admin)
    response = client.post("/settings/workflows/new/", {
        "name": "Support", "description": "After the sale", "is_active": "on", "outline": OUTLINE})
    assert response.status_code == 302
    workflow = WorkflowDefinition.objects.get(name="Support")
    assert workflow.position > WorkflowDefinition.objects.exclude(pk=workflow.pk).order_by("-position")[0].position \
        - 1
    assert tree_outline(workflow_tree(workflow)) == OUTLINE.rstrip("\n")


def test_a_bad_outline_on_the_page_names_the_line_and_saves_nothing(personas):
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    before = workflow_tree(workflow)
    response = client_for(personas.admin).post(f"/settings/workflows/{workflow.public_id}/", {
        "name": "Customer Relationship", "description": "", "is_active": "on",
        "outline": "Meeting\n  Review\n      Deep"})
    page = text(response)
    assert response.status_code == 400
    assert "Line 3: indented too deep" in page
    assert re.search(r'has-error">\s*<label for="id_outline"', page)
    assert "Meeting\n  Review\n      Deep" in page  # what was typed stays
    assert workflow_tree(workflow) == before


def test_editing_the_outline_keeps_registered_communications_attached(personas, acme):
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    review = branch("Meeting", "Quarterly review")
    register(personas.owner, acme, review, subject="Q1 review")
    client = client_for(personas.admin)
    page = text(client.get(f"/settings/workflows/{workflow.public_id}/"))
    assert "Meeting\n  Quarterly review\n  Kick-off" in page
    outline = "Meetings\n  Quarterly review\n  Workshop\nPhone call\n  Follow-up call\n  Complaint"
    response = client.post(f"/settings/workflows/{workflow.public_id}/", {
        "name": "Customer Relationship", "description": "Changed", "is_active": "on", "outline": outline})
    assert response.status_code == 302
    assert tree_outline(workflow_tree(workflow)) == outline
    communication = Communication.objects.get()
    assert communication.communication_type_id == review.pk
    assert services.communication_type_path(communication.communication_type) == "Meetings → Quarterly review"


def test_removing_a_branch_with_communications_is_refused_on_the_outline(personas, acme):
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    register(personas.owner, acme, branch("Meeting", "Quarterly review"), subject="Q1 review")
    before = workflow_tree(workflow)
    response = client_for(personas.admin).post(f"/settings/workflows/{workflow.public_id}/", {
        "name": "Customer Relationship", "description": "", "is_active": "on", "outline": "Phone call"})
    assert response.status_code == 400
    assert "cannot be removed" in text(response)
    assert re.search(r'has-error">\s*<label for="id_outline"', text(response))
    assert workflow_tree(workflow) == before


def test_a_workflow_name_twice_is_refused_on_the_name(personas):
    response = client_for(personas.admin).post("/settings/workflows/new/", {
        "name": "Purchasing", "outline": "A"})
    assert response.status_code == 400
    assert re.search(r'has-error">\s*<label for="id_name"', text(response))


def test_deleting_a_workflow_in_use_is_refused_with_a_message(personas, acme):
    workflow = WorkflowDefinition.objects.get(name="Customer Relationship")
    register(personas.owner, acme, branch("Meeting"), subject="Hello")
    client = client_for(personas.admin)
    response = client.post(f"/settings/workflows/{workflow.public_id}/delete/")
    assert response.status_code == 302
    assert WorkflowDefinition.objects.filter(pk=workflow.pk).exists()
    assert "deactivate it instead" in text(client.get(response["Location"]))


def test_an_unused_workflow_is_deleted(personas):
    workflow = WorkflowDefinition.objects.get(name="Purchasing")
    client = client_for(personas.admin)
    assert client.get(f"/settings/workflows/{workflow.public_id}/delete/").status_code == 405
    response = client.post(f"/settings/workflows/{workflow.public_id}/delete/")
    assert response.status_code == 302 and response["Location"] == "/settings/workflows/"
    assert not WorkflowDefinition.objects.filter(pk=workflow.pk).exists()
    assert not CommunicationType.objects.filter(workflow_id=workflow.pk).exists()
