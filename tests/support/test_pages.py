"""The support pages as a user uses them: the list and its views, the form, the item's page with its
actions (assign, accept, decline, pass on), one's private copy, delete and undo, the panels on account,
contact and opportunity pages and on My Home. Who may open which page is the permission matrix's."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.mail.models import OutboxMessage
from rapport.support import services
from rapport.support.models import PrivateCopy, RequestState, SupportItem, SupportRequest, SupportStatus
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory
from tests.support import Desk, build_desk, fresh, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


def text(response) -> str:
    return html.unescape(response.content.decode())


def listed(response) -> list[str]:
    """References of the items a list page links, in page order."""
    ids = re.findall(r'href="/support/([a-z2-7]{16})/"', response.content.decode())
    by_id = dict(SupportItem.objects.filter(public_id__in=ids).values_list("public_id", "reference"))
    return [by_id[i] for i in ids]


def item_form(**fields) -> dict:
    return {"subject": "Printer on fire", "category": "", "priority": "normal", "due_on": "", "account": "",
            "contact": "", "opportunity": "", "visibility": "everyone", "description": "", "assign_to": "",
            "message": "", **fields}


def edit_form(item: SupportItem, **fields) -> dict:
    return {"subject": item.subject, "category": "", "priority": item.priority, "status": item.status,
            "due_on": item.due_on.isoformat() if item.due_on else "",
            "account": item.account.public_id if item.account else "",
            "contact": item.contact.public_id if item.contact else "", "opportunity": "",
            "visibility": item.visibility, "description": item.description, "version": str(item.version), **fields}


def pending(item: SupportItem) -> SupportRequest:
    return SupportRequest.objects.get(item=item, state=RequestState.PENDING)


# --- Create and edit -------------------------------------------------------------------------------


def test_new_item_assigned_on_create_asks_the_assignee(desk):
    client = client_for(desk.owner)
    page = client.get(reverse("support_new"))
    assert page.status_code == 200
    assert 'name="assign_to"' in page.content.decode()
    response = client.post(reverse("support_new"), item_form(
        account=desk.account.public_id, contact=desk.contact.public_id, priority="high", due_on="2030-01-31",
        assign_to=desk.asa.public_id, message="Can you take this?"))
    item = SupportItem.objects.get(subject="Printer on fire")
    assert response.status_code == 302 and response["Location"] == reverse("support_detail", args=[item.public_id])
    assert (item.owner, item.assignee, item.status, item.priority) == (desk.owner, desk.asa, "assigned", "high")
    assert item.reference.startswith("SUP-")
    request = pending(item)
    assert (request.recipient, request.message) == (desk.asa, "Can you take this?")
    assert [mail.to for mail in OutboxMessage.objects.filter(kind="support_request")] == [[desk.asa.email]]
    page = client.get(response["Location"])
    assert f"{item.reference} was created." in text(page)
    assert "asked, awaiting an answer" in text(page)


def test_new_item_from_a_contact_page_starts_with_the_contact_and_account(desk):
    page = client_for(desk.owner).get(reverse("support_new") + f"?contact={desk.contact.public_id}")
    body = page.content.decode()
    assert f'<option value="{desk.contact.public_id}" selected>' in body
    assert f'<option value="{desk.account.public_id}" selected>' in body


def test_a_new_item_needs_a_subject_and_shows_why(desk):
    response = client_for(desk.owner).post(reverse("support_new"), item_form(subject=""))
    assert response.status_code == 400
    assert "Please correct the fields marked below." in text(response)
    assert not SupportItem.objects.exists()


def test_the_contact_must_work_for_the_account(desk):
    other = AccountFactory(owner=desk.owner, name="Other")
    response = client_for(desk.owner).post(reverse("support_new"), item_form(
        account=other.public_id, contact=desk.contact.public_id))
    assert response.status_code == 400
    assert "works for another account" in text(response)
    assert not SupportItem.objects.exists()


def test_edit_changes_status_and_a_stale_version_is_refused(desk):
    item = open_item(desk)
    services.support_assign(actor=desk.owner, item=item, recipient=desk.owner)  # take it on oneself
    item = fresh(item)
    client = client_for(desk.owner)
    page = client.get(reverse("support_edit", args=[item.public_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="assigned"' not in body and 'value="new"' not in body  # set by the cycle only
    response = client.post(reverse("support_edit", args=[item.public_id]), edit_form(item, status="waiting"))
    assert response.status_code == 302
    assert fresh(item).status == SupportStatus.WAITING
    stale = client.post(reverse("support_edit", args=[item.public_id]),
                        edit_form(item, status="resolved", subject="Mine"))
    assert stale.status_code == 409
    assert "changed by someone else" in text(stale)
    assert (fresh(item).status, fresh(item).subject) == (SupportStatus.WAITING, "Printer on fire")


def test_a_cycle_status_cannot_be_chosen(desk):
    item = open_item(desk)
    response = client_for(desk.owner).post(reverse("support_edit", args=[item.public_id]),
                                           edit_form(item, status="assigned"))
    assert response.status_code == 400
    assert fresh(item).status == SupportStatus.NEW


def test_delete_offers_undo_and_restore_brings_it_back(desk):
    item = open_item(desk)
    client = client_for(desk.owner)
    response = client.post(reverse("support_delete", args=[item.public_id]), {"version": item.version})
    assert response.status_code == 302 and response["Location"] == reverse("support_list")
    page = client.get(reverse("support_list"))
    assert f"{item.reference} is in the trash." in text(page)
    assert item.reference not in listed(page)
    response = client.post(reverse("support_restore", args=[item.public_id]))
    assert response["Location"] == reverse("support_detail", args=[item.public_id])
    assert item.reference in listed(client.get(reverse("support_list")))


# --- The list --------------------------------------------------------------------------------------


def test_views_of_the_list(desk):
    mine = open_item(desk, subject="Mine")
    asked = open_item(desk, subject="Asked")
    held = open_item(desk, subject="Held")
    returned = open_item(desk, subject="Returned")
    services.support_assign(actor=desk.owner, item=asked, recipient=desk.asa)
    request = services.support_assign(actor=desk.owner, item=held, recipient=desk.asa)
    services.support_accept(actor=desk.asa, request=request)
    request = services.support_assign(actor=desk.owner, item=returned, recipient=desk.asa)
    services.support_decline(actor=desk.asa, request=request, reason="On leave")
    others = open_item(desk, actor=desk.outsider, subject="Other team's")

    owner, asa = client_for(desk.owner), client_for(desk.asa)
    url = reverse("support_list")
    assert set(listed(owner.get(url, {"view": "mine"}))) == {mine.reference, asked.reference, held.reference,
                                                             returned.reference}
    assert listed(owner.get(url, {"view": "returned"})) == [returned.reference]
    assert listed(asa.get(url, {"view": "awaiting"})) == [asked.reference]
    assert listed(asa.get(url, {"view": "assigned"})) == [held.reference]
    assert others.reference not in listed(owner.get(url, {"view": "team"}))
    assert others.reference in listed(owner.get(url))
    page = asa.get(url)
    assert re.search(r'Awaiting my answer <span class="count" aria-hidden="true">1</span>', page.content.decode())
    current = asa.get(url, {"view": "awaiting"}).content.decode()
    assert re.search(r'aria-current="page">Awaiting my answer', current)


def test_filters_status_priority_category_account_age_and_overdue(desk):
    today = timezone.localdate()
    late = open_item(desk, subject="Late", due_on=today - dt.timedelta(days=2), priority="urgent")
    later = open_item(desk, subject="Later", due_on=today + dt.timedelta(days=5))
    other = AccountFactory(owner=desk.owner, name="Other Co")
    closed = open_item(desk, subject="Closed", account=other, due_on=today - dt.timedelta(days=9))
    services.support_item_update(actor=desk.owner, item=fresh(closed), data={"status": "closed"},
                                  version=fresh(closed).version)
    SupportItem.objects.filter(pk=later.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    client = client_for(desk.owner)
    url = reverse("support_list")

    page = client.get(url)
    row = re.search(rf"<tr class=\"overdue\">.*?{late.reference}.*?</tr>", page.content.decode(), re.S)
    assert row is not None and "Overdue" in row.group(0)  # said in words, not by colour only
    assert len(re.findall(r'class="overdue-flag"', page.content.decode())) == 1  # a closed item is not overdue
    assert set(listed(client.get(url, {"status": "open"}))) == {late.reference, later.reference}
    assert listed(client.get(url, {"status": "closed"})) == [closed.reference]
    assert listed(client.get(url, {"priority": "urgent"})) == [late.reference]
    assert listed(client.get(url, {"overdue": "true"})) == [late.reference]
    assert listed(client.get(url, {"account": other.public_id})) == [closed.reference]
    assert listed(client.get(url, {"older_than": "30"})) == [later.reference]
    assert listed(client.get(url, {"q": late.reference.lower()})) == [late.reference]
    assert listed(client.get(url, {"ordering": "due_on"})) == [closed.reference, late.reference, later.reference]
    assert client.get(url, {"category": "Question"}).status_code == 200
    bad = client.get(url, {"older_than": "soon"})
    assert bad.status_code == 400 and "Enter a number of days." in text(bad)


def test_results_alone_for_htmx_and_the_count(desk):
    open_item(desk)
    client = client_for(desk.owner)
    part = client.get(reverse("support_list"), headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in part.content.decode() and "Printer on fire" in text(part)
    count = client.get(reverse("support_list"), {"part": "count"})
    assert count.status_code == 200 and "1" in text(count)


# --- The request cycle on the item's page ----------------------------------------------------------


def test_assign_then_the_recipient_sees_the_request_and_accepts(desk):
    item = open_item(desk)
    owner = client_for(desk.owner)
    page = owner.get(reverse("support_detail", args=[item.public_id]))
    assert 'action="/support/' in page.content.decode() and ">Assign</button>" in page.content.decode()
    response = owner.post(reverse("support_assign", args=[item.public_id]),
                          {"assignee": desk.asa.public_id, "message": "Yours?", "version": fresh(item).version})
    assert response.status_code == 302
    request = pending(item)

    asa = client_for(desk.asa)
    page = asa.get(reverse("support_detail", args=[item.public_id]))
    body = text(page)
    assert "Awaiting your answer" in body and "Yours?" in body
    assert "Olga Owner asked you to handle this item" in body
    assert "Awaiting your answer" not in text(owner.get(reverse("support_detail", args=[item.public_id])))
    response = asa.post(reverse("support_accept", args=[item.public_id]), {"request": request.public_id})
    assert response.status_code == 302
    assert fresh(item).status == SupportStatus.IN_PROGRESS
    page = asa.get(response["Location"])
    assert "You accepted" in text(page) and "My copy" in text(page)
    copy = PrivateCopy.objects.get(item=item, holder=desk.asa)
    assert copy.task.owner == desk.asa and copy.task.is_open


def test_decline_needs_a_reason_and_sends_the_item_back(desk):
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    before = fresh(item)
    asa = client_for(desk.asa)
    url = reverse("support_decline", args=[item.public_id])
    response = asa.post(url, {"request": request.public_id, "reason": "  "})
    assert response.status_code == 400
    assert "Say why you decline" in text(response)
    after = fresh(item)
    assert (after.status, after.assignee_id, after.version) == (before.status, before.assignee_id, before.version)
    assert pending(item) == request

    response = asa.post(url, {"request": request.public_id, "reason": "On leave all week"})
    assert response.status_code == 302
    after = fresh(item)
    assert (after.status, after.assignee, after.returned_at is not None) == ("new", None, True)
    owner_page = text(client_for(desk.owner).get(reverse("support_detail", args=[item.public_id])))
    assert "Declined" in owner_page and "On leave all week" in owner_page
    assert item.reference in listed(client_for(desk.owner).get(reverse("support_list"), {"view": "returned"}))


def test_pass_on_keeps_the_chain(desk):
    item = open_item(desk)
    first = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    response = client_for(desk.asa).post(reverse("support_assign", args=[item.public_id]), {
        "request": first.public_id, "assignee": desk.bo.public_id, "message": "Bo knows printers"})
    assert response.status_code == 302
    second = pending(item)
    response = client_for(desk.bo).post(reverse("support_assign", args=[item.public_id]), {
        "request": second.public_id, "assignee": desk.cy.public_id, "message": "Cy is closer"})
    assert response.status_code == 302
    chain = list(SupportRequest.objects.filter(item=item).order_by("created_at", "id"))
    assert [(r.recipient, r.state) for r in chain] == [
        (desk.asa, RequestState.PASSED_ON), (desk.bo, RequestState.PASSED_ON), (desk.cy, RequestState.PENDING)]
    assert chain[2].previous == chain[1] and chain[1].previous == chain[0]
    page = text(client_for(desk.owner).get(reverse("support_detail", args=[item.public_id])))
    for line in ("Olga Owner asked Åsa Ask", "Åsa Ask asked Bo Berg", "Bo Berg asked Cy Clark", "Bo knows printers"):
        assert line in page


def test_an_answered_request_answers_409_and_changes_nothing(desk):
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    services.support_assign(actor=desk.owner, item=fresh(item), recipient=desk.bo)  # reassigned meanwhile
    before = fresh(item)
    response = client_for(desk.asa).post(reverse("support_accept", args=[item.public_id]),
                                         {"request": request.public_id})
    assert response.status_code == 409
    assert "reassigned" in text(response)
    assert (fresh(item).assignee, fresh(item).version) == (desk.bo, before.version)


def test_someone_else_cannot_answer_a_request(desk):
    item = open_item(desk)
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    response = client_for(desk.bo).post(reverse("support_accept", args=[item.public_id]),
                                        {"request": request.public_id})
    assert response.status_code == 403
    assert pending(item) == request


def test_assigning_without_choosing_anyone_says_so(desk):
    item = open_item(desk)
    response = client_for(desk.owner).post(reverse("support_assign", args=[item.public_id]), {"assignee": ""})
    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert not SupportRequest.objects.exists()


# --- Private copies --------------------------------------------------------------------------------


def test_the_private_copy_is_its_holders_alone(desk):
    item = open_item(desk)
    copy = PrivateCopy.objects.select_related("task").get(item=item, holder=desk.owner)
    owner = client_for(desk.owner)
    response = owner.post(reverse("support_copy_edit", args=[item.public_id]), {
        "copy-due_on": "2030-02-01", "copy-reminder_minutes": "1440", "copy-status": "pending",
        "copy-notes": "Customer is touchy", "copy-version": copy.task.version})
    assert response.status_code == 302
    copy.refresh_from_db()
    copy.task.refresh_from_db()
    assert (copy.notes, copy.task.due_on, copy.task.reminder_minutes, copy.task.status) == (
        "Customer is touchy", dt.date(2030, 2, 1), 1440, "pending")
    page = text(owner.get(reverse("support_detail", args=[item.public_id])))
    assert "My copy" in page and "Customer is touchy" in page

    for other in (desk.asa, desk.manager, desk.admin):
        page = text(client_for(other).get(reverse("support_detail", args=[item.public_id])))
        assert "My copy" not in page and "Customer is touchy" not in page
    # Someone without a copy has none to change.
    response = client_for(desk.asa).post(reverse("support_copy_edit", args=[item.public_id]), {
        "copy-status": "completed", "copy-notes": "mine now"})
    assert response.status_code == 404
    copy.refresh_from_db()
    assert copy.notes == "Customer is touchy"


def test_a_stale_copy_version_is_refused(desk):
    item = open_item(desk)
    copy = PrivateCopy.objects.select_related("task").get(item=item, holder=desk.owner)
    response = client_for(desk.owner).post(reverse("support_copy_edit", args=[item.public_id]), {
        "copy-status": "open", "copy-notes": "x", "copy-version": copy.task.version - 1})
    assert response.status_code == 409
    assert "changed by someone else" in text(response)


# --- Panels, My Home, the badge --------------------------------------------------------------------


def test_support_panels_on_account_contact_and_opportunity_pages(desk):
    deal = OpportunityFactory(owner=desk.owner, account=desk.account, name="Big deal")
    item = open_item(desk, contact=desk.contact, opportunity=deal)
    stranger_account = AccountFactory(owner=desk.owner)
    client = client_for(desk.asa)
    for record in (desk.account, desk.contact, deal):
        panel = client.get(reverse("record_support_items", args=[record.ref]))
        assert panel.status_code == 200
        assert item.reference in text(panel)
        assert f"{reverse('support_new')}?{record.record_type}={record.public_id}" in panel.content.decode()
    assert item.reference not in text(client.get(reverse("record_support_items", args=[stranger_account.ref])))
    page = client.get(reverse("opportunity_detail", args=[deal.public_id])).content.decode()
    assert reverse("record_support_items", args=[deal.ref]) in page
    contact = ContactFactory(owner=desk.owner)
    assert client.get(reverse("record_support_items", args=["support_item:" + item.public_id])).status_code == 404
    assert client.get(reverse("record_support_items", args=[f"contact:{contact.public_id}x"])).status_code == 404


def test_my_home_shows_what_awaits_my_answer(desk):
    item = open_item(desk)
    asa = client_for(desk.asa)
    assert reverse("support_awaiting") in asa.get(reverse("my_home")).content.decode()
    assert asa.get(reverse("support_awaiting")).content == b""
    services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    panel = text(asa.get(reverse("support_awaiting")))
    assert "Awaiting my answer" in panel and item.reference in panel and "from Olga Owner" in panel


def test_the_top_bar_counts_requests_awaiting_my_answer(desk):
    for subject in ("One", "Two"):
        services.support_assign(actor=desk.owner, item=open_item(desk, subject=subject), recipient=desk.asa)
    page = client_for(desk.asa).get(reverse("support_list")).content.decode()
    assert '<span aria-hidden="true">2</span><span class="visually-hidden">(2 awaiting your answer)</span>' in page
    assert "nav-badge" not in client_for(desk.bo).get(reverse("support_list")).content.decode()
