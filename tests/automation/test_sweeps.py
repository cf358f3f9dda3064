"""Swept rules: inactivity (no order, no activity of a kind), dates, recurrences; idempotent sweeps, a
sweep killed half-way, previews, and a sweep's cost over many accounts."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.activities.models import ActivityKind
from rapport.activities.selectors import current_tasks
from rapport.automation import services
from rapport.automation.models import FollowUp
from rapport.core.models import HistoryEntry
from rapport.directory.models import Account
from rapport.sales.services import order_create
from tests.automation import build_office, follow_ups, per_record, rule, set_created
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

T = dt.date(2027, 3, 1)


def days(n: int, since: dt.date = T) -> dt.date:
    return since - dt.timedelta(days=n)


@pytest.fixture
def office():
    office = build_office(accounts=0)
    return office


def order(office, account, on: dt.date):
    return order_create(actor=office.manager, data={"account": account, "amount": "10", "ordered_on": on})


def quiet_rule(office, *, active=True, n=60, **data):
    return rule(office.manager, name=data.pop("name", "No order in two months"), trigger="inactivity",
                record_type="account", inactivity_of="order", days=n, active=active, **data)


# --- Inactivity ----------------------------------------------------------------------------------------


def test_no_order_in_two_months_alerts_the_account_executive_to_call(office):
    seller, other = office.sellers
    old_order = AccountFactory(owner=seller, name="Old order")
    recent = AccountFactory(owner=other, name="Recent order")
    never_old = AccountFactory(owner=other, name="Never ordered, long known")
    never_new = AccountFactory(owner=seller, name="Never ordered, new")
    set_created([old_order, recent, never_old], days(400))
    set_created([never_new], days(20))
    order(office, old_order, days(90))
    order(office, old_order, days(61))
    order(office, recent, days(200))
    order(office, recent, days(59))
    call = services.definition_save(actor=office.manager, definition=None, data={
        "name": "Call", "contact_message": "Call the customer about their next order."})
    quiet = quiet_rule(office, definition=call, due_in_days=1)
    assert services.sweep_rule(quiet, today=T) == 2
    found = {fu.record_id: fu for fu in follow_ups(quiet)}
    assert set(found) == {old_order.pk, never_old.pk}
    assert found[old_order.pk].assignee == seller and found[never_old.pk].assignee == other  # the owner
    assert found[old_order.pk].period == f"since:{days(61).isoformat()}"
    assert found[never_old.pk].period == f"since:{days(400).isoformat()}"
    task = found[old_order.pk].task
    assert task.description == "Call the customer about their next order."
    assert task.due_on == T + dt.timedelta(days=1) and task.owner == seller
    assert task.subject == "Call: Old order" and task.is_task and task.created_at == task.updated_at
    assert len({fu.public_id for fu in found.values()} | {fu.task.uid for fu in found.values()}) == 4
    assert (task.links.get().record_type, task.links.get().record_id) == ("account", old_order.pk)
    # Written set-based, the task is still on the seller's list and its history names the rule.
    assert task.pk in [t.pk for t in current_tasks(user=seller, today=T)]
    history = HistoryEntry.objects.get(content_type=ContentType.objects.get_for_model(task), object_id=task.pk)
    assert (history.kind, history.actor, history.changes) == ("created", None, {"rule": [None, quiet.name]})


def test_a_swept_follow_up_task_is_found_by_global_search(office):
    from rapport.search.selectors import search

    quiet_account = AccountFactory(owner=office.seller, name="Quiet Quokka Ltd")
    set_created([quiet_account], days(400))
    call = services.definition_save(actor=office.manager, definition=None, data={
        "name": "Call", "contact_message": "Ring the zebrafish supplier about reordering."})
    assert services.sweep_rule(quiet_rule(office, definition=call), today=T) == 1
    found = search(user=office.seller, q="zebrafish", per_type=5)
    assert [group.key for group in found.groups if group.hits] == ["activity"]


def test_a_deleted_account_is_not_swept(office):
    gone = AccountFactory(owner=office.seller)
    set_created([gone], days(400))
    Account.objects.filter(pk=gone.pk).update(deleted_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    quiet = quiet_rule(office)
    assert services.sweep_rule(quiet, today=T) == 0


def test_inactivity_by_a_kind_of_activity_linked_to_the_account(office):
    call = ActivityKind.objects.get(key="call")
    meeting = ActivityKind.objects.get(key="meeting")
    called_long_ago, called_lately, met_lately, never = (AccountFactory(owner=office.seller) for _ in range(4))
    set_created([called_long_ago, called_lately, met_lately, never], days(300))

    def activity(kind, account, on):
        start = dt.datetime.combine(on, dt.time(10), tzinfo=dt.UTC)
        ActivityFactory(owner=office.seller, kind=kind, starts_at=start, ends_at=start + dt.timedelta(hours=1),
                        regarding=[account])

    activity(call, called_long_ago, days(45))
    activity(call, called_lately, days(10))
    activity(meeting, met_lately, days(5))
    ActivityFactory(owner=office.seller, kind=call, starts_at=dt.datetime(2027, 2, 25, 9, tzinfo=dt.UTC),
                    ends_at=dt.datetime(2027, 2, 25, 10, tzinfo=dt.UTC))  # a call about no account
    no_call = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="activity",
                   activity_kind=call, days=30)
    assert services.sweep_rule(no_call, today=T) == 3
    assert per_record(no_call) == {called_long_ago.pk: 1, met_lately.pk: 1, never.pk: 1}
    assert FollowUp.objects.get(rule=no_call, record_id=called_long_ago.pk).period == f"since:{days(45)}"


def test_the_inactivity_sweep_run_twice_leaves_one_follow_up_per_account(office):
    accounts = [AccountFactory(owner=office.sellers[i % 2]) for i in range(7)]
    set_created(accounts, days(100))
    quiet = quiet_rule(office)
    assert services.sweep_rule(quiet, today=T) == 7
    assert services.sweep_rule(quiet, today=T) == 0
    assert services.sweep_rule(quiet, today=T + dt.timedelta(days=1)) == 0
    assert services.sweep_rules(today=T + dt.timedelta(days=2))[quiet.name] == 0
    assert per_record(quiet) == {a.pk: 1 for a in accounts}


def test_a_sweep_killed_half_way_and_run_again_leaves_one_per_account_none_missing(office, monkeypatch):
    accounts = [AccountFactory(owner=office.seller) for _ in range(7)]
    set_created(accounts, days(100))
    quiet = quiet_rule(office)
    monkeypatch.setattr(services, "BATCH", 2)
    write = services._write_batch
    calls = []

    def crash_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return write(*args, **kwargs)

    monkeypatch.setattr(services, "_write_batch", crash_on_second)
    with pytest.raises(RuntimeError):
        services.sweep_rule(quiet, today=T)
    assert FollowUp.objects.filter(rule=quiet).count() == 2  # the first batch, whole
    assert FollowUp.objects.filter(rule=quiet).count() == FollowUp.objects.filter(
        rule=quiet, task__links__record_type="account").count()
    monkeypatch.setattr(services, "_write_batch", write)
    assert services.sweep_rule(quiet, today=T) == 5
    assert services.sweep_rule(quiet, today=T) == 0
    assert per_record(quiet) == {a.pk: 1 for a in accounts}
    from rapport.activities.models import ActivityLink
    assert ActivityLink.objects.filter(record_type="account", record_id__in=[a.pk for a in accounts]).count() == 7


def test_a_new_order_ends_the_quiet_spell_and_a_later_spell_makes_a_new_follow_up(office):
    account = AccountFactory(owner=office.seller)
    set_created([account], dt.date(2026, 6, 1))
    order(office, account, dt.date(2026, 12, 1))
    quiet = quiet_rule(office)
    assert services.sweep_rule(quiet, today=dt.date(2027, 2, 5)) == 1
    order(office, account, dt.date(2027, 2, 10))
    for day in (dt.date(2027, 2, 11), dt.date(2027, 3, 15), dt.date(2027, 4, 10)):
        assert services.sweep_rule(quiet, today=day) == 0
    assert services.sweep_rule(quiet, today=dt.date(2027, 4, 11)) == 1
    assert services.sweep_rule(quiet, today=dt.date(2027, 4, 12)) == 0
    assert [fu.period for fu in follow_ups(quiet)] == ["since:2026-12-01", "since:2027-02-10"]


def test_a_deactivated_swept_rule_creates_nothing(office):
    account = AccountFactory(owner=office.seller)
    set_created([account], days(100))
    quiet = quiet_rule(office, active=False)
    assert services.sweep_rule(quiet, today=T) == 0
    assert services.sweep_rules(today=T) == {}
    assert not FollowUp.objects.exists()


def test_one_broken_rule_does_not_stop_the_others(office):
    account = AccountFactory(owner=office.seller)
    set_created([account], days(100))
    broken = quiet_rule(office, name="A broken one")
    quiet = quiet_rule(office, name="Z fine one")
    from rapport.automation.models import Rule

    Rule.objects.filter(pk=broken.pk).update(condition={"fields": {"stage_changed_on": "someday"}})
    with contextlib.suppress(Exception):  # the point is what happens to the other rule
        services.sweep_rules(today=T)
    assert per_record(quiet) == {account.pk: 1}


# --- Preview ----------------------------------------------------------------------------------------------


def test_preview_says_what_activation_then_creates(office):
    accounts = [AccountFactory(owner=office.sellers[i % 2]) for i in range(25)]
    set_created(accounts[:23], days(100))
    set_created(accounts[23:], days(10))
    quiet = quiet_rule(office, active=False)
    preview = services.rule_preview(actor=office.manager, rule=quiet, today=T)
    assert preview.count == 23 and len(preview.records) == 20
    assert {r.pk for r in preview.records} <= {a.pk for a in accounts[:23]}
    everything = services.rule_preview(actor=office.manager, rule=quiet, limit=100, today=T)
    services.rule_activate(actor=office.manager, rule=quiet)
    assert services.sweep_rule(quiet, today=T) == everything.count
    assert set(per_record(quiet)) == {r.pk for r in everything.records}
    assert services.rule_preview(actor=office.manager, rule=quiet, today=T).count == 0


def test_preview_is_for_managers(office):
    from django.core.exceptions import PermissionDenied

    quiet = quiet_rule(office, active=False)
    with pytest.raises(PermissionDenied):
        services.rule_preview(actor=office.seller, rule=quiet, today=T)


# --- Dates ------------------------------------------------------------------------------------------------


def test_a_week_before_an_opportunitys_expected_close(office):
    today = dt.date(2027, 3, 1)
    in_a_week = OpportunityFactory(owner=office.seller, expected_close_on=today + dt.timedelta(days=7))
    in_eight = OpportunityFactory(owner=office.seller, expected_close_on=today + dt.timedelta(days=8))
    passed = OpportunityFactory(owner=office.seller, expected_close_on=today - dt.timedelta(days=1))
    before_close = rule(office.manager, trigger="date", record_type="opportunity", field="expected_close_on",
                        days=-7)
    assert services.sweep_rule(before_close, today=today) == 1
    [fu] = follow_ups(before_close)
    assert (fu.record_id, fu.period) == (in_a_week.pk, f"date:{in_a_week.expected_close_on}")
    assert services.sweep_rule(before_close, today=today) == 0
    assert services.sweep_rule(before_close, today=today + dt.timedelta(days=1)) == 1
    assert per_record(before_close) == {in_a_week.pk: 1, in_eight.pk: 1}
    assert passed.pk not in per_record(before_close)


def test_days_after_a_date(office):
    account = AccountFactory(owner=office.seller, stage="mature", stage_changed_on=dt.date(2027, 2, 1))
    after = rule(office.manager, trigger="date", record_type="account", field="stage_changed_on", days=28)
    assert services.sweep_rule(after, today=dt.date(2027, 2, 28)) == 0
    assert services.sweep_rule(after, today=dt.date(2027, 3, 1)) == 1
    assert services.sweep_rule(after, today=dt.date(2027, 3, 2)) == 0
    assert per_record(after) == {account.pk: 1}


# --- Recurrences ------------------------------------------------------------------------------------------


def sweep_days(rule_, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        services.sweep_rule(rule_, today=day)
        day += dt.timedelta(days=1)


def test_a_weekly_rule_across_the_change_to_winter_time_makes_one_follow_up_a_week_on_mondays(office):
    accounts = [AccountFactory(owner=office.seller) for _ in range(2)]
    weekly = rule(office.manager, trigger="recurrence", record_type="account", rrule="FREQ=WEEKLY;BYDAY=MO",
                  starts_on=dt.date(2026, 10, 1), time_zone="Europe/Berlin")
    sweep_days(weekly, dt.date(2026, 10, 1), dt.date(2026, 11, 10))
    mondays = ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"]
    for account in accounts:
        found = FollowUp.objects.filter(rule=weekly, record_id=account.pk).order_by("period")
        assert [fu.period for fu in found] == [f"on:{day}" for day in mondays]
        assert [fu.task.due_on.isoformat() for fu in found] == mondays


def test_the_scheduler_sweeps_on_the_rules_local_monday_on_both_sides_of_the_change(office, monkeypatch):
    account = AccountFactory(owner=office.seller)
    weekly = rule(office.manager, trigger="recurrence", record_type="account", rrule="FREQ=WEEKLY;BYDAY=MO",
                  starts_on=dt.date(2026, 10, 1), time_zone="Europe/Berlin")
    services.sweep_rule(weekly, today=dt.date(2026, 10, 13))
    # Before the change Berlin is UTC+2, after it UTC+1: 00:30 on Monday in Berlin is Sunday in UTC.
    for moment, made in ((dt.datetime(2026, 10, 18, 21, 30, tzinfo=dt.UTC), 0),  # Sunday 23:30 CEST
                         (dt.datetime(2026, 10, 18, 22, 30, tzinfo=dt.UTC), 1),  # Monday 00:30 CEST
                         (dt.datetime(2026, 10, 25, 22, 30, tzinfo=dt.UTC), 0),  # Sunday 23:30 CET
                         (dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC), 1)):  # Monday 00:30 CET
        monkeypatch.setattr(services.timezone, "now", lambda moment=moment: moment)
        before = FollowUp.objects.filter(rule=weekly).count()
        services.sweep_rules()
        assert FollowUp.objects.filter(rule=weekly).count() - before == made, moment
    assert [fu.period for fu in follow_ups(weekly)] == ["on:2026-10-12", "on:2026-10-19", "on:2026-10-26"]
    assert per_record(weekly) == {account.pk: 3}


def test_every_first_monday_each_mature_account(office):
    mature = [AccountFactory(owner=office.seller, stage="mature") for _ in range(3)]
    AccountFactory(owner=office.seller, stage="growing")
    AccountFactory(owner=office.seller, stage="declining")
    monthly = rule(office.manager, trigger="recurrence", record_type="account", rrule="FREQ=MONTHLY;BYDAY=1MO",
                   starts_on=dt.date(2026, 9, 1), condition={"stage": "mature"}, time_zone="Europe/Berlin")
    sweep_days(monthly, dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert per_record(monthly) == {a.pk: 4 for a in mature}
    assert sorted({fu.period for fu in follow_ups(monthly)}) == [
        "on:2026-09-07", "on:2026-10-05", "on:2026-11-02", "on:2026-12-07"]


def test_a_missed_occurrence_is_made_within_the_grace_days_only(office):
    AccountFactory(owner=office.seller)
    weekly = rule(office.manager, trigger="recurrence", record_type="account", rrule="FREQ=WEEKLY;BYDAY=MO",
                  starts_on=dt.date(2026, 10, 1))
    assert services.sweep_rule(weekly, today=dt.date(2026, 10, 11)) == 1  # Sunday: last Monday's, late
    assert [fu.period for fu in follow_ups(weekly)] == ["on:2026-10-05"]
    assert services.sweep_rule(weekly, today=dt.date(2026, 10, 3)) == 0  # before the first occurrence


# --- Scale ------------------------------------------------------------------------------------------------


def many_accounts(office, n: int) -> None:
    Account.objects.bulk_create(
        Account(name=f"Bulk {i:05d}", name_key=f"bulk {i:05d}", owner=office.sellers[i % 2]) for i in range(n))
    Account.objects.update(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def sweep_queries(office, n: int) -> int:
    FollowUp.objects.all().delete()
    Account.objects.all().delete()
    many_accounts(office, n)
    quiet = quiet_rule(office, name=f"Quiet {n}")
    with CaptureQueriesContext(connection) as queries:
        assert services.sweep_rule(quiet, today=T) == n
    return len(queries)


def test_a_sweep_over_three_thousand_accounts_runs_in_a_bounded_number_of_queries(
        office, django_assert_max_num_queries):
    small = sweep_queries(office, 300)
    large = sweep_queries(office, 3000)
    # Set-based: no query per account. The cost grows with the batches (BATCH accounts each, one
    # transaction apiece) and, on SQLite, with bulk inserts split at 999 parameters, never per account.
    assert large <= small * (3000 // 300), (small, large)
    FollowUp.objects.all().delete()
    Account.objects.all().delete()
    many_accounts(office, 3000)
    quiet = quiet_rule(office, name="Quiet again")
    with django_assert_max_num_queries(300):  # one query per ten accounts at most
        services.sweep_rule(quiet, today=T)
    assert FollowUp.objects.filter(rule=quiet).count() == 3000


@pytest.mark.parametrize("record_type", sorted(services.SUBJECT_FIELDS))
def test_a_follow_ups_subject_reads_no_column_the_sweep_left_unloaded(office, record_type, django_assert_num_queries):
    """The sweep loads only SUBJECT_FIELDS of each record: naming it and checking whether a colleague may see
    it must not fetch another column row by row (a query per follow-up)."""
    from rapport.core.access import access_for, record_visible
    from rapport.core.models import Visibility
    from tests.factories import ContactFactory, OrderFactory, SupportItemFactory

    made = {"account": AccountFactory, "contact": ContactFactory, "opportunity": OpportunityFactory,
            "order": OrderFactory, "support_item": SupportItemFactory}[record_type](
        owner=office.seller, visibility=Visibility.PRIVATE)  # so that a colleague reaches the type's own rule
    model = services.model_of(record_type)
    record = model._default_manager.only("owner_id", "visibility", "deleted_at",
                                         *services.SUBJECT_FIELDS[record_type]).get(pk=made.pk)
    stranger = office.helpers[0]  # another team: only the type's own rule could show it to them
    access_for(stranger)  # the colleague's rights: read once per sweep, not per row
    with django_assert_num_queries(0):
        assert str(record) == str(made)
        record_visible(stranger, record)
