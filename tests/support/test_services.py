"""The rules of support items outside the request cycle: create, change, status, private copies, reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from rapport.activities import selectors as activity_selectors
from rapport.activities.ical.feed import feed_load, feed_text
from rapport.activities.models import Activity, ActivityLink, ActivityStatus, ActivityType
from rapport.core.errors import StaleVersion
from rapport.core.models import Visibility
from rapport.support import selectors, services
from rapport.support.models import PrivateCopy, SupportCategory, SupportItem, SupportStatus
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, SupportItemFactory
from tests.support import Desk, build_desk, fresh, no_support_user, open_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db) -> Desk:
    return build_desk()


def held_by(desk: Desk, holder, **data) -> SupportItem:
    """An item of the owner's, taken on by `holder` (assigned and accepted) without the request cycle's
    email, so that these tests do not depend on the email's links: the cycle is tested in
    test_request_cycle.py."""
    item = open_item(desk, **data)
    SupportItem.objects.filter(pk=item.pk).update(assignee=holder, status=SupportStatus.IN_PROGRESS)
    return fresh(item)


# --- Create -----------------------------------------------------------------------------------------


def test_references_increase_and_are_unique(desk):
    items = [open_item(desk, subject=f"Case {n}") for n in range(3)]
    numbers = [int(item.reference.removeprefix("SUP-")) for item in items]
    assert all(item.reference.startswith("SUP-") for item in items)
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert numbers[1] == numbers[0] + 1


def test_a_reference_taken_by_another_item_is_skipped(desk):
    first = open_item(desk)
    taken = f"SUP-{int(first.reference[4:]) + 1}"
    SupportItemFactory(owner=desk.owner, reference=taken)
    second = open_item(desk)
    assert second.reference not in (first.reference, taken)
    assert int(second.reference[4:]) > int(taken[4:])


def test_the_creator_owns_the_item_and_cannot_name_another_owner(desk):
    item = open_item(desk)
    assert item.owner == desk.owner and item.status == SupportStatus.NEW and item.assignee is None
    with pytest.raises(ValidationError) as caught:
        open_item(desk, owner=desk.asa)
    assert "owner" in caught.value.message_dict
    assert open_item(desk, owner=desk.owner).owner == desk.owner  # naming oneself is fine


def test_an_update_cannot_change_the_owner(desk):
    item = open_item(desk)
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.manager, item=item, data={"owner": desk.asa}, version=item.version)
    assert "owner" in caught.value.message_dict
    assert fresh(item).owner == desk.owner and fresh(item).version == item.version


def test_creating_makes_the_owners_private_copy_a_private_task_regarding_the_item(desk):
    item = open_item(desk, due_on=dt.date(2031, 5, 6))
    copy = PrivateCopy.objects.get(item=item)
    assert copy.holder == desk.owner
    task = copy.task
    assert task.activity_type == ActivityType.TASK and task.status == ActivityStatus.OPEN
    assert task.owner == desk.owner and task.visibility == Visibility.PRIVATE
    assert task.due_on == dt.date(2031, 5, 6)
    assert item.reference in task.subject
    assert ActivityLink.objects.filter(activity=task, record_type="support_item", record_id=item.pk).exists()


def test_a_contact_without_an_account_fills_in_the_account(desk):
    item = services.support_item_create(actor=desk.owner, data={"subject": "Call me", "contact": desk.contact})
    assert item.account == desk.account and item.contact == desk.contact


def test_a_contact_of_another_account_is_refused(desk):
    elsewhere = ContactFactory(owner=desk.owner, account=AccountFactory(owner=desk.owner))
    with pytest.raises(ValidationError) as caught:
        open_item(desk, contact=elsewhere)
    assert "contact" in caught.value.message_dict
    assert not SupportItem.objects.exists()


def test_a_deal_with_another_account_is_refused(desk):
    deal = OpportunityFactory(owner=desk.owner, account=AccountFactory(owner=desk.owner))
    with pytest.raises(ValidationError) as caught:
        open_item(desk, opportunity=deal)
    assert "opportunity" in caught.value.message_dict
    ok = open_item(desk, opportunity=OpportunityFactory(owner=desk.owner, account=desk.account))
    assert ok.opportunity.account == desk.account


def test_an_update_to_a_contact_of_another_account_is_refused(desk):
    item = open_item(desk, contact=desk.contact)
    elsewhere = ContactFactory(owner=desk.owner, account=AccountFactory(owner=desk.owner))
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.owner, item=item, data={"contact": elsewhere}, version=item.version)
    assert "contact" in caught.value.message_dict
    assert fresh(item).contact == desk.contact


@pytest.mark.parametrize("status", [SupportStatus.ASSIGNED, SupportStatus.IN_PROGRESS, SupportStatus.CLOSED])
def test_an_item_starts_as_new(desk, status):
    with pytest.raises(ValidationError) as caught:
        open_item(desk, status=status)
    assert "status" in caught.value.message_dict
    assert not SupportItem.objects.exists()


def test_a_read_only_user_cannot_open_an_item(desk):
    with pytest.raises(PermissionDenied):
        open_item(desk, actor=desk.viewer)
    assert not SupportItem.objects.exists() and not Activity.objects.exists()


# --- Status -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [SupportStatus.NEW, SupportStatus.ASSIGNED])
def test_the_cycle_statuses_cannot_be_chosen(desk, status):
    item = held_by(desk, desk.asa)
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.owner, item=item, data={"status": status}, version=item.version)
    assert "status" in caught.value.message_dict
    assert fresh(item).status == SupportStatus.IN_PROGRESS


@pytest.mark.parametrize("status", [SupportStatus.IN_PROGRESS, SupportStatus.WAITING])
def test_working_on_an_item_needs_an_assignee(desk, status):
    item = open_item(desk)
    with pytest.raises(ValidationError) as caught:
        services.support_item_update(actor=desk.owner, item=item, data={"status": status}, version=item.version)
    assert "status" in caught.value.message_dict
    assert fresh(item).status == SupportStatus.NEW


@pytest.mark.parametrize("status", [SupportStatus.RESOLVED, SupportStatus.CLOSED])
def test_resolving_or_closing_sets_closed_at_and_reopening_clears_it(desk, status):
    item = held_by(desk, desk.asa)
    item = services.support_item_update(actor=desk.owner, item=item, data={"status": status}, version=item.version)
    assert fresh(item).closed_at is not None and fresh(item).status == status
    item = services.support_item_update(actor=desk.owner, item=fresh(item), data={"status": SupportStatus.IN_PROGRESS},
                                        version=fresh(item).version)
    assert fresh(item).closed_at is None and fresh(item).status == SupportStatus.IN_PROGRESS


def test_a_new_item_nobody_holds_can_be_closed(desk):
    item = open_item(desk)
    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                 version=item.version)
    assert fresh(item).closed_at is not None


def test_the_assignee_may_change_the_status_of_an_item_owned_by_someone_else(desk):
    item = held_by(desk, desk.asa)
    updated = services.support_item_update(actor=desk.asa, item=item, data={"status": SupportStatus.WAITING},
                                           version=item.version)
    assert updated.status == SupportStatus.WAITING and fresh(item).status == SupportStatus.WAITING


def test_an_unrelated_user_may_not_change_the_status(desk):
    item = held_by(desk, desk.asa)
    for stranger in (desk.bo, desk.outsider, desk.viewer):
        with pytest.raises(PermissionDenied):
            services.support_item_update(actor=stranger, item=item, data={"status": SupportStatus.WAITING},
                                         version=item.version)
    assert fresh(item).status == SupportStatus.IN_PROGRESS


def test_an_update_naming_an_old_version_is_refused(desk):
    item = open_item(desk)
    services.support_item_update(actor=desk.owner, item=item, data={"subject": "First"}, version=item.version)
    with pytest.raises(StaleVersion):
        services.support_item_update(actor=desk.owner, item=fresh(item), data={"subject": "Second"}, version=1)
    assert fresh(item).subject == "First"


def test_closing_completes_every_open_private_copy(desk):
    item = held_by(desk, desk.asa)
    services._ensure_private_copy(item, desk.asa, actor=desk.asa)
    services.support_item_update(actor=desk.owner, item=item, data={"status": SupportStatus.CLOSED},
                                 version=item.version)
    tasks = Activity.objects.filter(support_copy__item=item)
    assert tasks.count() == 2
    assert set(tasks.values_list("status", flat=True)) == {ActivityStatus.COMPLETED}
    assert all(task.completed_at is not None for task in tasks)


# --- Private copies ---------------------------------------------------------------------------------


def test_the_holder_changes_their_copy(desk):
    item = open_item(desk)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    copy = services.private_copy_update(
        actor=desk.owner, copy=copy, version=copy.task.version,
        data={"due_on": dt.date(2032, 1, 2), "reminder_minutes": 30, "status": ActivityStatus.PENDING,
              "notes": "Call them after lunch."})
    copy = PrivateCopy.objects.select_related("task").get(pk=copy.pk)
    assert copy.task.due_on == dt.date(2032, 1, 2)
    assert copy.task.reminder_minutes == 30
    assert copy.task.status == ActivityStatus.PENDING
    assert copy.notes == "Call them after lunch."
    assert fresh(item).due_on is None  # the public copy keeps its own


def test_the_notes_alone_change_without_touching_the_task(desk):
    item = open_item(desk)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    version = copy.task.version
    services.private_copy_update(actor=desk.owner, copy=copy, data={"notes": "Mine"}, version=version)
    copy = PrivateCopy.objects.select_related("task").get(pk=copy.pk)
    assert copy.notes == "Mine" and copy.task.version == version


@pytest.mark.parametrize("who", ["admin", "manager", "asa", "outsider"])
def test_nobody_but_the_holder_changes_a_copy(desk, who):
    item = open_item(desk)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    with pytest.raises(PermissionDenied):
        services.private_copy_update(actor=getattr(desk, who), copy=copy, data={"notes": "Not mine"},
                                     version=copy.task.version)
    assert PrivateCopy.objects.get(pk=copy.pk).notes == ""


def test_a_copy_changed_meanwhile_is_refused(desk):
    item = open_item(desk)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    old = copy.task.version
    services.private_copy_update(actor=desk.owner, copy=copy, data={"reminder_minutes": 10}, version=old)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    with pytest.raises(StaleVersion):
        services.private_copy_update(actor=desk.owner, copy=copy, data={"reminder_minutes": 20}, version=old)
    with pytest.raises(StaleVersion):
        services.private_copy_update(actor=desk.owner, copy=copy, data={"notes": "late"}, version=old)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    assert copy.task.reminder_minutes == 10 and copy.notes == ""


def test_a_copy_takes_only_its_own_fields(desk):
    item = open_item(desk)
    copy = selectors.private_copy_for(user=desk.owner, item=item)
    with pytest.raises(ValidationError) as caught:
        services.private_copy_update(actor=desk.owner, copy=copy, data={"subject": "Renamed"},
                                     version=copy.task.version)
    assert "subject" in caught.value.message_dict


@pytest.mark.parametrize("who", ["admin", "manager", "asa", "viewer"])
def test_nobody_else_gets_the_owners_copy(desk, who):
    item = open_item(desk)
    assert selectors.private_copy_for(user=getattr(desk, who), item=item) is None
    detail = selectors.support_item_detail(user=getattr(desk, who), public_id=item.public_id)
    assert detail["private_copy"] is None
    mine = selectors.support_item_detail(user=desk.owner, public_id=item.public_id)["private_copy"]
    assert mine is not None and mine.holder == desk.owner


def test_the_copy_is_on_the_holders_task_list_and_calendar_feed(desk):
    item = open_item(desk, due_on=timezone.localdate() + dt.timedelta(days=3))
    task = selectors.private_copy_for(user=desk.owner, item=item).task
    assert task in activity_selectors.current_tasks(user=desk.owner)
    feed = feed_load(user=desk.owner)
    assert task in feed.activities
    text = feed_text(feed).decode()
    assert "BEGIN:VTODO" in text and item.reference in text
    assert task not in activity_selectors.current_tasks(user=desk.asa)
    assert task not in feed_load(user=desk.asa).activities


@pytest.mark.parametrize("who", ["asa", "outsider"])
def test_the_copy_task_is_hidden_from_colleagues(desk, who):
    task = selectors.private_copy_for(user=desk.owner, item=open_item(desk)).task
    with pytest.raises(Http404):
        activity_selectors.activity_get(user=getattr(desk, who), public_id=task.public_id)


# --- Visibility and lists ---------------------------------------------------------------------------


def test_a_private_item_is_visible_to_its_assignee_but_not_to_others(desk):
    item = held_by(desk, desk.asa, visibility=Visibility.PRIVATE)
    assert item in SupportItem.objects.visible_to(desk.asa)
    assert item in SupportItem.objects.visible_to(desk.owner)
    assert item not in SupportItem.objects.visible_to(desk.outsider)
    assert item not in SupportItem.objects.visible_to(desk.bo)
    with pytest.raises(Http404):
        selectors.support_item_get(user=desk.outsider, public_id=item.public_id)
    assert selectors.support_item_get(user=desk.asa, public_id=item.public_id) == item


def test_a_user_who_may_not_read_support_items_does_not_see_the_assigned_one(desk):
    stranger = no_support_user()
    item = held_by(desk, stranger)
    assert item not in SupportItem.objects.visible_to(stranger)


def listed(user, **params) -> set[str]:
    return set(selectors.support_item_list(user=user, params=params).values_list("subject", flat=True))


@pytest.fixture
def board(desk):
    """Items in every situation the list views tell apart."""
    own = open_item(desk, subject="own new")
    held = held_by(desk, desk.asa, subject="held by asa")
    waiting = open_item(desk, subject="awaiting asa")
    SupportItem.objects.filter(pk=waiting.pk).update(assignee=desk.asa, status=SupportStatus.ASSIGNED)
    returned = open_item(desk, subject="returned")
    SupportItem.objects.filter(pk=returned.pk).update(returned_at=timezone.now())
    bo_own = open_item(desk, actor=desk.bo, subject="bo's")
    outside = open_item(desk, actor=desk.outsider, subject="outsider's")
    return {"own": own, "held": held, "waiting": waiting, "returned": returned, "bo": bo_own, "outside": outside}


def test_the_list_views(desk, board):
    assert listed(desk.owner, view="mine") == {"own new", "held by asa", "awaiting asa", "returned"}
    assert listed(desk.asa, view="assigned") == {"held by asa"}
    assert listed(desk.asa, view="awaiting") == {"awaiting asa"}
    assert listed(desk.owner, view="returned") == {"returned"}
    assert listed(desk.asa, view="returned") == set()
    team = {"own new", "held by asa", "awaiting asa", "returned", "bo's"}
    assert listed(desk.manager, view="team") == team
    assert listed(desk.bo, view="team") == team
    assert listed(desk.outsider, view="team") == {"outsider's"}


def test_status_filters(desk, board):
    services.support_item_update(actor=desk.owner, item=board["held"], data={"status": SupportStatus.RESOLVED},
                                 version=board["held"].version)
    services.support_item_update(actor=desk.bo, item=board["bo"], data={"status": SupportStatus.CLOSED},
                                 version=board["bo"].version)
    assert listed(desk.admin, status="closed") == {"held by asa", "bo's"}
    assert listed(desk.admin, status="resolved") == {"held by asa"}
    assert listed(desk.admin, status="open") == {"own new", "awaiting asa", "returned", "outsider's"}
    assert listed(desk.admin, status="assigned") == {"awaiting asa"}


def test_overdue_age_priority_and_category_filters(desk):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    late = open_item(desk, subject="late", due_on=yesterday, priority="urgent")
    open_item(desk, subject="on time", due_on=timezone.localdate() + dt.timedelta(days=1))
    done_late = open_item(desk, subject="late but closed", due_on=yesterday)
    services.support_item_update(actor=desk.owner, item=done_late, data={"status": SupportStatus.CLOSED},
                                 version=done_late.version)
    category = SupportCategory.objects.create(name="Billing trouble")
    open_item(desk, subject="billing", category=category)
    old = open_item(desk, subject="old")
    SupportItem.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    assert listed(desk.owner, overdue="true") == {"late"}
    assert listed(desk.owner, overdue="true", status="open") == {"late"}
    assert listed(desk.owner, overdue="true", status="closed") == set()
    assert listed(desk.owner, overdue="true", status=SupportStatus.CLOSED) == set()
    assert listed(desk.owner, older_than="30") == {"old"}
    assert listed(desk.owner, priority="urgent") == {"late"}
    assert listed(desk.owner, category="billing TROUBLE") == {"billing"}
    assert selectors.support_item_detail(user=desk.owner, public_id=late.public_id)["overdue"] is True


OPEN = {"new", "assigned", "in_progress", "waiting"}


@pytest.mark.parametrize(("params", "statuses"), [
    ({"overdue": "true"}, OPEN), ({"overdue": "true", "status": "open"}, OPEN),
    ({"overdue": "true", "status": "new"}, {"new"}), ({"status": "closed"}, {"resolved", "closed"}),
])
def test_the_statuses_are_tested_once_however_they_are_narrowed(desk, params, statuses):
    # The same IN list twice made SQLite take "open and overdue" for rare and sort every overdue item.
    sql = str(selectors.support_item_list(user=desk.admin, params=params).query).split(" WHERE ", 1)[1]
    assert sql.count('"status"') == 1
    status_test = re.search(r'"status" (?:IN \(([^)]*)\)|= (\S+?)\)?(?: |$))', sql)
    assert status_test is not None
    assert set((status_test.group(1) or status_test.group(2)).split(", ")) == statuses


def test_overdue_and_a_closed_status_find_nothing(desk):
    late = open_item(desk, subject="late", due_on=timezone.localdate() - dt.timedelta(days=1))
    services.support_item_update(actor=desk.owner, item=late, data={"status": SupportStatus.RESOLVED},
                                 version=late.version)
    assert listed(desk.owner, status=SupportStatus.RESOLVED) == {"late"}
    assert listed(desk.owner, overdue="true", status=SupportStatus.RESOLVED) == set()


@pytest.mark.parametrize(("params", "field"), [
    ({"colour": "red"}, "colour"),
    ({"view": "everything"}, "view"),
    ({"status": "lost"}, "status"),
    ({"priority": "meh"}, "priority"),
    ({"category": "No such thing"}, "category"),
    ({"older_than": "a week"}, "older_than"),
    ({"older_than": "-3"}, "older_than"),
    ({"overdue": "maybe"}, "overdue"),
])
def test_bad_filters_name_the_filter(desk, params, field):
    with pytest.raises(ValidationError) as caught:
        list(selectors.support_item_list(user=desk.owner, params=params))
    assert field in caught.value.message_dict


def test_the_account_panel_lists_visible_items_newest_first(desk):
    first = open_item(desk, subject="first")
    second = open_item(desk, subject="second")
    hidden = open_item(desk, actor=desk.bo, subject="private", visibility=Visibility.PRIVATE)
    shown = selectors.record_support_items(user=desk.owner, record=desk.account)
    assert shown[:2] == [second, first] and hidden not in shown
