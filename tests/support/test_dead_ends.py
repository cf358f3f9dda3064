"""Situations that once left an item stuck or said the wrong thing: a holder deleting their copy's
task, reopening an item nobody holds, assigning to someone who could never accept, a stranger's
email naming a reference, sorting by due date, the answer page of a private item."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from rapport.activities.models import ActivityStatus
from rapport.activities.services import activity_delete
from rapport.core.errors import Conflict
from rapport.core.pagination import Ordering, keyset_page
from rapport.support import selectors, services
from rapport.support.models import PrivateCopy, SupportStatus
from tests.conftest import client_for
from tests.support import Desk, build_desk, fresh, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


def _held_by(desk: Desk, holder, **data):
    item = open_item(desk, **data)
    request = services.support_assign(actor=desk.owner, item=item, recipient=holder)
    services.support_accept(actor=holder, request=request)
    return fresh(item)


def test_a_holder_deleting_their_task_does_not_block_closing_or_reassigning(desk):
    item = _held_by(desk, desk.asa)
    copy = PrivateCopy.objects.get(item=item, holder=desk.asa)
    activity_delete(actor=desk.asa, activity=copy.task, version=copy.task.version)

    services.support_assign(actor=desk.owner, item=fresh(item), recipient=desk.bo)
    item = fresh(item)
    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                 version=item.version)

    assert fresh(item).status == SupportStatus.CLOSED


def test_taking_an_item_on_again_after_deleting_its_task_puts_a_new_task_on_the_list(desk):
    item = _held_by(desk, desk.asa)
    copy = PrivateCopy.objects.get(item=item, holder=desk.asa)
    copy.notes = "Customer prefers mornings"
    copy.save()
    activity_delete(actor=desk.asa, activity=copy.task, version=copy.task.version)
    request = services.support_assign(actor=desk.owner, item=fresh(item), recipient=desk.bo)
    request = services.support_assign(actor=desk.bo, item=fresh(item), recipient=desk.asa)
    services.support_accept(actor=desk.asa, request=request)

    copy.refresh_from_db()
    assert copy.task.deleted_at is None and copy.task.status == ActivityStatus.OPEN
    assert copy.notes == "Customer prefers mornings"


def test_a_closed_item_nobody_holds_reopens_as_new_and_can_be_assigned(desk):
    item = open_item(desk)
    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                 version=item.version)
    item = fresh(item)
    with pytest.raises(Exception, match="reopen it as new"):
        services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.IN_PROGRESS},
                                     version=item.version)

    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.NEW},
                                 version=item.version)
    item = fresh(item)
    assert (item.status, item.closed_at) == (SupportStatus.NEW, None)
    services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    assert fresh(item).status == SupportStatus.ASSIGNED


def test_the_edit_page_offers_to_reopen_a_closed_item_nobody_holds(desk):
    item = open_item(desk)
    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                 version=item.version)
    page = client_for(desk.owner).get(reverse("support_edit", args=[item.public_id])).content.decode()
    assert "New (reopen)" in page


def test_a_read_only_user_cannot_be_asked_to_handle_an_item(desk):
    item = open_item(desk)
    with pytest.raises(Exception, match="creates no tasks") as caught:
        services.support_assign(actor=desk.owner, item=item, recipient=desk.viewer)
    assert "assignee" in caught.value.message_dict
    item = fresh(item)
    assert (item.assignee_id, item.status, item.requests.count()) == (None, SupportStatus.NEW, 0)


def test_a_stranger_naming_a_reference_opens_their_own_item(desk, settings):
    settings.RAPPORT_SUPPORT_OWNER = desk.owner.username
    item = open_item(desk, contact=desk.contact)
    found = services.support_item_from_email(sender="stranger@evil.example",
                                             subject=f"Re: [{item.reference}] refund", body="Pay me")
    assert found.pk != item.pk
    same = services.support_item_from_email(sender="PAT@acme.example", subject=f"Re: [{item.reference}]",
                                            body="Any news?")
    assert same.pk == item.pk


def test_sorting_by_due_date_pages_past_undated_items(desk):
    for day in (None, 3, None, 1, 2):
        open_item(desk, subject=f"due {day}", due_on=dt.date(2027, 1, day) if day else None)
    qs = selectors.support_item_list(user=desk.owner, params={})
    ordering = Ordering(name="due_on", field="due_sort")
    first = keyset_page(qs, ordering=ordering, cursor=None, limit=2)
    second = keyset_page(qs, ordering=ordering, cursor=first.next_cursor, limit=2)
    third = keyset_page(qs, ordering=ordering, cursor=second.next_cursor, limit=2)
    subjects = [item.subject for page in (first, second, third) for item in page.items]
    assert subjects[:3] == ["due 1", "due 2", "due 3"]
    assert sorted(subjects[3:]) == ["due None", "due None"]


def test_accepting_a_private_item_opens_it(desk):
    item = open_item(desk, visibility="private")
    request = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    response = client_for(desk.asa).post(reverse("support_accept", args=[item.public_id]),
                                         {"request": request.public_id})
    assert response.status_code == 302
    assert response["Location"] == reverse("support_detail", args=[item.public_id])


def test_a_withdrawn_request_whose_successor_was_declined_says_it_was_withdrawn(desk):
    item = open_item(desk)
    first = services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    second = services.support_assign(actor=desk.owner, item=fresh(item), recipient=desk.bo)
    services.support_decline(actor=desk.bo, request=second, reason="Busy")
    with pytest.raises(Conflict, match="withdrew"):
        services.support_accept(actor=desk.asa, request=first)


def test_the_one_visibility_rule_lets_an_assignee_see_a_private_item_in_lists_and_on_its_own(desk):
    from rapport.core.access import record_visible
    from rapport.support.models import SupportItem

    item = open_item(desk, visibility="private")
    services.support_assign(actor=desk.owner, item=item, recipient=desk.asa)
    item = fresh(item)
    for user, sees in ((desk.asa, True), (desk.bo, False), (desk.owner, True)):
        assert record_visible(user, item) is sees
        assert SupportItem.objects.visible_to(user).filter(pk=item.pk).exists() is sees
