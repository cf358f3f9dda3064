"""The request cycle: assign, accept, decline, pass on, reassign; the mail it queues and the history it keeps."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import resolve, reverse
from django.utils import timezone

from rapport.activities import selectors as activity_selectors
from rapport.activities.ical.feed import feed_load
from rapport.activities.models import Activity, ActivityStatus, ActivityType
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.history import history_for
from rapport.core.models import Visibility
from rapport.mail.models import OutboxMessage
from rapport.support import selectors, services
from rapport.support.models import PrivateCopy, RequestState, SupportItem, SupportRequest, SupportStatus
from tests.factories import UserFactory
from tests.support import Desk, build_desk, fresh, no_support_user, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


@pytest.fixture
def item(desk) -> SupportItem:
    return open_item(desk, description="Smoke everywhere.")


def assign(actor, item, recipient, **kwargs) -> SupportRequest:
    return services.support_assign(actor=actor, item=fresh(item), recipient=recipient, **kwargs)


def accept(actor, request) -> SupportRequest:
    return services.support_accept(actor=actor, request=SupportRequest.objects.get(pk=request.pk))


def decline(actor, request, reason) -> SupportRequest:
    return services.support_decline(actor=actor, request=SupportRequest.objects.get(pk=request.pk), reason=reason)


def copy_task(item, holder) -> Activity:
    return PrivateCopy.objects.select_related("task").get(item=item, holder=holder).task


def mails(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=kind).order_by("id"))


def unchanged(item: SupportItem, before: SupportItem) -> None:
    after = fresh(item)
    assert (after.assignee_id, after.status, after.version) == (before.assignee_id, before.status, before.version)


# --- Assign -----------------------------------------------------------------------------------------


def test_assigning_sends_a_request_in_the_app_and_by_email(desk, item):
    request = assign(desk.owner, item, desk.asa, message="Can you take this?")
    assert request.state == RequestState.PENDING and request.recipient == desk.asa
    assert request.requested_by == desk.owner and request.message == "Can you take this?"
    item = fresh(item)
    assert item.assignee == desk.asa and item.status == SupportStatus.ASSIGNED and item.owner == desk.owner
    assert selectors.pending_request(item) == request
    assert selectors.awaiting_answer(user=desk.asa) == [request]
    assert selectors.awaiting_answer_count(desk.asa) == 1 and selectors.awaiting_answer_count(desk.bo) == 0
    [mail] = mails("support_request")
    assert mail.to == [desk.asa.email]
    assert item.reference in mail.subject and item.subject in mail.subject
    assert "Can you take this?" in mail.body and "Smoke everywhere." in mail.body
    links = [link for link in re.findall(r"\S+://\S+", mail.body) if link.startswith(settings.RAPPORT_BASE_URL)]
    answers = [resolve(urlsplit(link).path) for link in links]
    answers = [found for found in answers if found.url_name == "support_answer"]
    assert sorted(found.kwargs["action"] for found in answers) == sorted(services.LINK_ACTIONS)
    for found in answers:  # each link names the request, for its recipient alone
        assert services.request_from_link(found.kwargs["token"], user=desk.asa) == request
    assert settings.RAPPORT_BASE_URL + reverse("support_detail", args=[item.public_id]) in mail.body


def test_assigning_at_create(desk):
    item = services.support_item_create(actor=desk.owner, data={"subject": "At once"}, assignee=desk.asa,
                                        message="Yours")
    assert item.assignee == desk.asa and item.status == SupportStatus.ASSIGNED
    assert SupportRequest.objects.get(item=item).message == "Yours"
    assert len(mails("support_request")) == 1


def test_a_recipient_without_an_email_still_gets_the_request_in_the_app(desk, item):
    desk.asa.email = ""
    desk.asa.save()
    request = assign(desk.owner, item, desk.asa)
    assert request.state == RequestState.PENDING and not OutboxMessage.objects.exists()


def test_assigning_to_an_inactive_user_changes_nothing(desk, item):
    desk.asa.is_active = False
    desk.asa.save()
    with pytest.raises(ValidationError) as caught:
        assign(desk.owner, item, desk.asa)
    assert "assignee" in caught.value.message_dict
    unchanged(item, item)
    assert not SupportRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_assigning_to_someone_who_may_not_read_support_items_is_refused(desk, item):
    with pytest.raises(ValidationError) as caught:
        assign(desk.owner, item, no_support_user())
    assert "assignee" in caught.value.message_dict
    unchanged(item, item)
    assert not SupportRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_assigning_to_oneself_accepts_at_once(desk, item):
    request = assign(desk.owner, item, desk.owner)
    assert request.state == RequestState.ACCEPTED and request.answered_by == desk.owner
    item = fresh(item)
    assert item.assignee == desk.owner and item.status == SupportStatus.IN_PROGRESS
    assert PrivateCopy.objects.filter(item=item).count() == 1  # the owner's one copy, not two
    assert not OutboxMessage.objects.exists()


def test_a_closed_item_cannot_be_assigned(desk, item):
    item = services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                        version=item.version)
    with pytest.raises(ValidationError) as caught:
        assign(desk.owner, item, desk.asa)
    assert "status" in caught.value.message_dict
    unchanged(item, fresh(item))
    assert not SupportRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_assigning_to_the_current_assignee_is_refused(desk, item):
    request = assign(desk.owner, item, desk.asa)
    accept(desk.asa, request)
    before = fresh(item)
    with pytest.raises(ValidationError) as caught:
        assign(desk.owner, item, desk.asa)
    assert "assignee" in caught.value.message_dict
    unchanged(item, before)


@pytest.mark.parametrize("who", ["owner", "manager", "admin"])
def test_the_owner_their_manager_and_an_admin_may_assign(desk, item, who):
    request = assign(getattr(desk, who), item, desk.bo)
    assert request.requested_by == getattr(desk, who) and fresh(item).assignee == desk.bo


@pytest.mark.parametrize("who", ["outsider", "bo", "viewer"])
def test_others_may_not_assign(desk, item, who):
    with pytest.raises(PermissionDenied):
        assign(getattr(desk, who), item, desk.cy)
    unchanged(item, item)
    assert not SupportRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_a_manager_of_another_team_may_not_assign(desk, item):
    other_manager = UserFactory(role_slugs="manager")
    desk.outsider.team.manager = other_manager
    desk.outsider.team.save()
    with pytest.raises(PermissionDenied):
        assign(other_manager, item, desk.cy)


def test_the_pending_recipient_passes_it_on_and_nobody_else_may(desk, item):
    first = assign(desk.owner, item, desk.asa)
    with pytest.raises(PermissionDenied):
        assign(desk.bo, item, desk.cy)
    assert SupportRequest.objects.get(pk=first.pk).state == RequestState.PENDING
    onward = assign(desk.asa, item, desk.bo)
    assert onward.requested_by == desk.asa and fresh(item).assignee == desk.bo


def test_a_recipient_who_has_not_answered_may_not_change_the_item(desk, item):
    assign(desk.owner, item, desk.asa)
    with pytest.raises(PermissionDenied):
        services.support_item_update(actor=desk.asa, item=fresh(item), data={"priority": "high"},
                                     version=fresh(item).version)
    assert fresh(item).priority == "normal"


def test_the_accepted_assignee_passes_it_on(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    onward = assign(desk.asa, item, desk.bo)
    assert onward.state == RequestState.PENDING and fresh(item).assignee == desk.bo


def test_assign_refuses_an_item_someone_holds_and_reassign_one_nobody_holds(desk, item):
    with pytest.raises(Conflict):
        assign(desk.owner, item, desk.asa, reassign=True)
    assert not SupportRequest.objects.exists()
    assign(desk.owner, item, desk.asa, reassign=False)
    before = fresh(item)
    with pytest.raises(Conflict) as caught:
        assign(desk.owner, item, desk.bo, reassign=False)
    assert desk.asa.display_name in str(caught.value)
    unchanged(item, before)
    assert assign(desk.owner, item, desk.bo, reassign=True).recipient == desk.bo


def test_a_stale_version_is_refused(desk, item):
    version = item.version
    services.support_item_update(actor=desk.owner, item=item, data={"subject": "Changed"}, version=version)
    with pytest.raises(StaleVersion):
        assign(desk.owner, item, desk.asa, version=version)
    assert not SupportRequest.objects.exists()


def test_a_message_too_long_is_refused(desk, item):
    with pytest.raises(ValidationError) as caught:
        assign(desk.owner, item, desk.asa, message="x" * 2001)
    assert "message" in caught.value.message_dict
    assert not SupportRequest.objects.exists()


# --- Accept -----------------------------------------------------------------------------------------


def test_accepting_puts_the_item_in_progress_and_on_the_assignees_task_list(desk, item):
    request = assign(desk.owner, item, desk.asa)
    accepted = accept(desk.asa, request)
    assert accepted.state == RequestState.ACCEPTED and accepted.answered_by == desk.asa
    assert accepted.answered_at is not None
    item = fresh(item)
    assert item.status == SupportStatus.IN_PROGRESS and item.assignee == desk.asa and item.owner == desk.owner
    task = copy_task(item, desk.asa)
    assert task.activity_type == ActivityType.TASK and task.status == ActivityStatus.OPEN
    assert task.owner == desk.asa and task.visibility == Visibility.PRIVATE
    assert task in activity_selectors.current_tasks(user=desk.asa)
    assert task in feed_load(user=desk.asa).activities
    assert selectors.awaiting_answer_count(desk.asa) == 0
    # the owner keeps theirs; each sees only their own
    assert selectors.private_copy_for(user=desk.asa, item=item).task == task
    assert selectors.private_copy_for(user=desk.owner, item=item).task != task
    assert selectors.private_copy_for(user=desk.manager, item=item) is None


@pytest.mark.parametrize("who", ["owner", "bo", "manager", "admin"])
def test_only_the_recipient_accepts(desk, item, who):
    request = assign(desk.owner, item, desk.asa)
    before = fresh(item)
    with pytest.raises(PermissionDenied):
        accept(getattr(desk, who), request)
    unchanged(item, before)
    assert SupportRequest.objects.get(pk=request.pk).state == RequestState.PENDING


def test_a_second_accept_is_a_conflict(desk, item):
    request = assign(desk.owner, item, desk.asa)
    accept(desk.asa, request)
    before = fresh(item)
    with pytest.raises(Conflict):
        accept(desk.asa, request)
    unchanged(item, before)
    assert PrivateCopy.objects.filter(item=item, holder=desk.asa).count() == 1


def test_accepting_a_request_reassigned_meanwhile_names_the_new_recipient(desk, item):
    first = assign(desk.owner, item, desk.asa)
    assign(desk.manager, item, desk.bo)
    assert SupportRequest.objects.get(pk=first.pk).state == RequestState.WITHDRAWN
    before = fresh(item)
    with pytest.raises(Conflict) as caught:
        accept(desk.asa, first)
    assert desk.bo.display_name in str(caught.value)
    unchanged(item, before)
    assert fresh(item).assignee == desk.bo
    assert not PrivateCopy.objects.filter(item=item, holder=desk.asa).exists()


def test_declining_after_accepting_is_a_conflict(desk, item):
    request = assign(desk.owner, item, desk.asa)
    accept(desk.asa, request)
    with pytest.raises(Conflict):
        decline(desk.asa, request, "Changed my mind")
    assert fresh(item).assignee == desk.asa and fresh(item).status == SupportStatus.IN_PROGRESS


# --- Decline ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_decline_needs_a_reason(desk, item, reason):
    request = assign(desk.owner, item, desk.asa)
    before = fresh(item)
    with pytest.raises(ValidationError) as caught:
        decline(desk.asa, request, reason)
    assert "reason" in caught.value.message_dict
    unchanged(item, before)
    assert SupportRequest.objects.get(pk=request.pk).state == RequestState.PENDING
    assert not mails("support_declined")


def test_declining_returns_the_item_to_its_owner_who_is_told(desk, item):
    request = assign(desk.owner, item, desk.asa)
    declined = decline(desk.asa, request, "  On holiday next week.  ")
    assert declined.state == RequestState.DECLINED and declined.reason == "On holiday next week."
    item = fresh(item)
    assert item.assignee is None and item.status == SupportStatus.NEW and item.returned_at is not None
    assert item.owner == desk.owner
    [mail] = mails("support_declined")
    assert mail.to == [desk.owner.email]
    assert "On holiday next week." in mail.body and item.reference in mail.subject
    assert set(selectors.support_item_list(user=desk.owner, params={"view": "returned"})) == {item}
    assert not PrivateCopy.objects.filter(item=item, holder=desk.asa).exists()


def test_only_the_recipient_declines(desk, item):
    request = assign(desk.owner, item, desk.asa)
    with pytest.raises(PermissionDenied):
        decline(desk.bo, request, "Not me")
    assert SupportRequest.objects.get(pk=request.pk).state == RequestState.PENDING


def test_assigning_a_returned_item_again_takes_it_off_the_returned_list(desk, item):
    decline(desk.asa, assign(desk.owner, item, desk.asa), "Busy")
    assign(desk.owner, item, desk.bo)
    assert fresh(item).returned_at is None
    assert not selectors.support_item_list(user=desk.owner, params={"view": "returned"}).exists()


# --- Chains and history -----------------------------------------------------------------------------


def test_a_chain_of_two_reassignments(desk, item):
    to_asa = assign(desk.owner, item, desk.asa)
    to_bo = assign(desk.asa, item, desk.bo, message="Bo knows printers")
    to_cy = assign(desk.bo, item, desk.cy)
    accept(desk.cy, to_cy)
    to_asa.refresh_from_db()
    to_bo.refresh_from_db()
    to_cy.refresh_from_db()
    assert to_asa.state == RequestState.PASSED_ON and to_asa.answered_by == desk.asa
    assert to_bo.state == RequestState.PASSED_ON and to_bo.previous == to_asa
    assert to_cy.state == RequestState.ACCEPTED and to_cy.previous == to_bo
    assert selectors.request_chain(fresh(item)) == [to_asa, to_bo, to_cy]
    item = fresh(item)
    assert item.assignee == desk.cy and item.status == SupportStatus.IN_PROGRESS and item.owner == desk.owner
    assert [m.to for m in mails("support_request")] == [[desk.asa.email], [desk.bo.email], [desk.cy.email]]
    # the ones who only passed it on never took it on
    assert set(PrivateCopy.objects.filter(item=item).values_list("holder", flat=True)) == {desk.owner.pk, desk.cy.pk}
    # an old link of a passed-on request no longer works
    with pytest.raises(Conflict):
        accept(desk.asa, to_asa)


def history_lines(item, user) -> list[tuple[str, str]]:
    """(actor username, what happened) of each history entry, oldest first."""
    lines = []
    for entry in reversed(history_for(item, user=user)):
        assert entry.at is not None
        text = " | ".join(f"{label}: {old} → {new}" for label, old, new in entry.rows)
        lines.append((entry.actor.username if entry.actor else "", text))
    return lines


def test_history_names_every_request_answer_and_status_change_with_who(desk, item):
    to_asa = assign(desk.owner, item, desk.asa, message="Please")
    decline(desk.asa, to_asa, "Not my area")
    to_bo = assign(desk.owner, item, desk.bo)
    to_cy = assign(desk.bo, item, desk.cy)
    accept(desk.cy, to_cy)
    services.support_item_update(actor=desk.cy, item=fresh(item), data={"status": SupportStatus.RESOLVED},
                                 version=fresh(item).version)
    assert to_bo
    lines = history_lines(item, desk.owner)
    actors = [actor for actor, _text in lines]
    assert actors == ["owner", "owner", "asa", "owner", "bo", "cy", "cy"]
    _created, asked_asa, declined, asked_bo, asked_cy, accepted, resolved = (text for _a, text in lines)
    assert desk.asa.display_name in asked_asa and "Please" in asked_asa and "Assigned" in asked_asa
    assert "Not my area" in declined and desk.asa.display_name in declined and "New" in declined
    assert desk.bo.display_name in asked_bo
    assert desk.cy.display_name in asked_cy
    assert "Accepted" in accepted and "In progress" in accepted
    assert "Resolved" in resolved
    # the assignee, who sees the item, reads the same story
    assert len(history_lines(item, desk.cy)) == len(lines)
    detail = selectors.support_item_detail(user=desk.cy, public_id=item.public_id)
    assert [r.pk for r in detail["requests"]] == [to_asa.pk, to_bo.pk, to_cy.pk]
    assert len(detail["history"]) == len(lines)


# --- Private copies through the cycle ---------------------------------------------------------------


def test_replacing_the_assignee_cancels_their_copy_and_giving_it_back_reopens_it(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    asa_task = copy_task(item, desk.asa)
    assign(desk.manager, item, desk.bo, reassign=True)
    asa_task.refresh_from_db()
    assert asa_task.status == ActivityStatus.CANCELLED
    accept(desk.bo, selectors.pending_request(fresh(item)))
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    asa_task.refresh_from_db()
    assert asa_task.status == ActivityStatus.OPEN and asa_task.completed_at is None
    assert copy_task(item, desk.asa) == asa_task  # the same copy, with its notes
    assert copy_task(item, desk.bo).status == ActivityStatus.CANCELLED


def test_a_copy_that_ends_leaves_the_task_list_and_comes_back_when_reopened(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    asa_task = copy_task(item, desk.asa)
    assert asa_task in activity_selectors.current_tasks(user=desk.asa)
    assign(desk.manager, item, desk.bo, reassign=True)
    assert asa_task not in activity_selectors.current_tasks(user=desk.asa)
    accept(desk.bo, selectors.pending_request(fresh(item)))
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    assert asa_task in activity_selectors.current_tasks(user=desk.asa)
    services.support_item_update(actor=desk.asa, item=fresh(item), data={"status": SupportStatus.CLOSED},
                                 version=fresh(item).version)
    for holder in (desk.owner, desk.asa, desk.bo):
        assert copy_task(item, holder) not in activity_selectors.current_tasks(user=holder)


def test_passing_on_an_accepted_item_cancels_the_passers_copy(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    assign(desk.asa, item, desk.bo)
    assert copy_task(item, desk.asa).status == ActivityStatus.CANCELLED
    assert copy_task(item, desk.owner).status == ActivityStatus.OPEN


def test_closing_completes_the_open_copies_and_keeps_the_assignee(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    services.support_item_update(actor=desk.asa, item=fresh(item), data={"status": SupportStatus.CLOSED},
                                 version=fresh(item).version)
    assert copy_task(item, desk.asa).status == ActivityStatus.COMPLETED
    assert copy_task(item, desk.owner).status == ActivityStatus.COMPLETED
    assert fresh(item).assignee == desk.asa


def test_the_assignees_private_item_and_copy_are_theirs_alone(desk):
    item = open_item(desk, visibility=Visibility.PRIVATE)
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    assert item in SupportItem.objects.visible_to(desk.asa)
    assert item not in SupportItem.objects.visible_to(desk.bo)
    copy = selectors.private_copy_for(user=desk.asa, item=item)
    services.private_copy_update(actor=desk.asa, copy=copy, data={"notes": "Customer is grumpy"},
                                 version=copy.task.version)
    for other in (desk.owner, desk.manager, desk.admin):
        assert selectors.private_copy_for(user=other, item=item) is None or (
            selectors.private_copy_for(user=other, item=item).holder == other)
        with pytest.raises(PermissionDenied):
            services.private_copy_update(actor=other, copy=copy, data={"notes": "x"}, version=None)
    assert selectors.private_copy_for(user=desk.owner, item=item).notes == ""


def test_the_assignee_works_on_the_item_they_were_given(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    updated = services.support_item_update(actor=desk.asa, item=fresh(item),
                                           data={"status": SupportStatus.WAITING, "priority": "high"},
                                           version=fresh(item).version)
    assert updated.status == SupportStatus.WAITING and updated.priority == "high"
    assert selectors.support_item_get(user=desk.asa, public_id=item.public_id, action="update") == fresh(item)
    with pytest.raises(PermissionDenied):
        selectors.support_item_get(user=desk.bo, public_id=item.public_id, action="update")


# --- Links ------------------------------------------------------------------------------------------


def test_a_link_for_someone_else_or_forged_does_not_work(desk, item):
    request = assign(desk.owner, item, desk.asa)
    token = services.link_token(request)
    with pytest.raises(PermissionDenied):
        services.request_from_link(token, user=desk.bo)
    with pytest.raises(ValidationError):
        services.request_from_link(token[:-3] + "abc", user=desk.asa)
    assert services.request_from_link(token, user=desk.asa) == request


def test_an_expired_link_does_not_work(desk, item):
    request = assign(desk.owner, item, desk.asa)
    SupportRequest.objects.filter(pk=request.pk).update(links_expire_at=request.created_at)
    with pytest.raises(ValidationError):
        services.request_from_link(services.link_token(request), user=desk.asa)


# --- Edges a user would hit -------------------------------------------------------------------------


def test_the_owners_copy_stays_when_the_item_they_held_goes_to_someone_else(desk, item):
    assign(desk.owner, item, desk.owner)  # the owner takes it on first
    assign(desk.manager, item, desk.asa, reassign=True)
    assert copy_task(item, desk.owner).status == ActivityStatus.OPEN


def test_an_item_closed_while_a_request_waits_cannot_be_accepted(desk, item):
    request = assign(desk.owner, item, desk.asa)
    services.support_item_update(actor=desk.owner, item=fresh(item), data={"status": SupportStatus.CLOSED},
                                 version=fresh(item).version)
    before = fresh(item)
    with pytest.raises((Conflict, ValidationError)):
        accept(desk.asa, request)
    after = fresh(item)
    assert after.status == SupportStatus.CLOSED and after.closed_at is not None
    assert after.version == before.version


def test_work_cannot_start_while_the_request_waits_for_an_answer(desk, item):
    assign(desk.owner, item, desk.asa)
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.owner, item=fresh(item), data={"status": SupportStatus.IN_PROGRESS},
                                     version=fresh(item).version)
    assert "status" in caught.value.message_dict
    assert fresh(item).status == SupportStatus.ASSIGNED


@pytest.mark.parametrize("field", ["assignee", "returned_at", "closed_at"])
def test_the_cycles_fields_cannot_be_set_by_an_update(desk, item, field):
    value = desk.asa if field == "assignee" else timezone.now()
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.owner, item=item, data={field: value}, version=item.version)
    assert field in caught.value.message_dict
    assert fresh(item).assignee is None and fresh(item).version == item.version


def test_the_cycles_fields_cannot_be_set_at_create(desk):
    with pytest.raises(ValidationError) as caught:
        open_item(desk, assignee=desk.asa)
    assert "assignee" in caught.value.message_dict


def test_reopening_puts_the_item_back_on_its_holders_lists(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    services.support_item_update(actor=desk.asa, item=fresh(item), data={"status": SupportStatus.CLOSED},
                                 version=fresh(item).version)
    services.support_item_update(actor=desk.asa, item=fresh(item), data={"status": SupportStatus.IN_PROGRESS},
                                 version=fresh(item).version)
    assert copy_task(item, desk.asa).status == ActivityStatus.OPEN
    assert copy_task(item, desk.owner).status == ActivityStatus.OPEN


def test_deleting_takes_the_item_off_every_task_list(desk, item):
    accept(desk.asa, assign(desk.owner, item, desk.asa))
    services.support_item_delete(actor=desk.owner, item=fresh(item), version=fresh(item).version)
    assert copy_task(item, desk.asa) not in activity_selectors.current_tasks(user=desk.asa)
    assert copy_task(item, desk.owner) not in activity_selectors.current_tasks(user=desk.owner)


def test_an_item_deleted_while_a_request_waits_comes_back_with_nobody_asked(desk, item):
    request = assign(desk.owner, item, desk.asa)
    services.support_item_delete(actor=desk.owner, item=fresh(item), version=fresh(item).version)
    assert SupportRequest.objects.get(pk=request.pk).state == RequestState.WITHDRAWN
    with pytest.raises(Conflict):
        accept(desk.asa, request)
    services.support_item_restore(actor=desk.owner, item=SupportItem.objects.get(pk=item.pk))
    restored = fresh(item)
    # no request waits, so nobody can be shown as asked
    assert selectors.pending_request(restored) is None
    assert (restored.assignee, restored.status) == (None, SupportStatus.NEW)
    assert not selectors.support_item_list(user=desk.asa, params={"view": "awaiting"}).exists()
