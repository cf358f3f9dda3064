"""What a rule may reach and show: records its creator may see, names only to assignees who may see
them, follow-ups that follow their task when it is handed on, and conditions that are checked before
they can break a sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from rapport.activities.services import activity_update
from rapport.automation import services
from rapport.automation.models import FollowUp, Rule
from rapport.core.models import Visibility
from tests.automation import build_office, definition, rule
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _quiet(account) -> None:
    type(account).objects.filter(pk=account.pk).update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))


def test_a_managers_rule_never_reaches_a_record_the_manager_may_not_see():
    office = build_office(accounts=0)
    stranger = UserFactory(team=TeamFactory(name="Elsewhere"), role_slugs="sales")
    secret = AccountFactory(owner=stranger, visibility=Visibility.PRIVATE, name="Merger target")
    _quiet(secret)
    probe = rule(office.manager, active=False, trigger="inactivity", record_type="account", inactivity_of="order",
                 days=30, condition={"fields": {"name": "Merger target"}}, assign_to="user",
                 assign_user=office.manager)
    assert services.rule_preview(actor=office.manager, rule=probe).count == 0
    services.rule_activate(actor=office.manager, rule=probe)
    assert services.sweep_rule(Rule.objects.get(pk=probe.pk)) == 0


def test_a_follow_up_names_its_record_only_to_an_assignee_who_may_see_it():
    office = build_office(accounts=0)
    seller = office.seller
    team_only = AccountFactory(owner=seller, visibility=Visibility.TEAM, name="Zeta Team Ltd")
    shared = AccountFactory(owner=seller, visibility=Visibility.EVERYONE, name="Open Ltd")
    for account in (team_only, shared):
        _quiet(account)
    helper = office.helpers[0]  # in another team: cannot see the team-only account
    quiet = rule(office.admin, trigger="inactivity", record_type="account", inactivity_of="order", days=30,
                 assign_to="user", assign_user=helper)
    services.sweep_rule(quiet)
    tasks = {fu.record_id: fu.task for fu in FollowUp.objects.filter(rule=quiet).select_related("task")}
    assert "Zeta" not in tasks[team_only.pk].subject
    assert tasks[team_only.pk].visibility == Visibility.PRIVATE
    assert tasks[shared.pk].subject.endswith("Open Ltd")
    assert tasks[shared.pk].visibility == Visibility.TEAM


def test_a_follow_up_handed_on_goes_with_its_task_and_an_override_moves_it_from_its_holder():
    office = build_office(accounts=1)
    account = office.accounts[0]
    _quiet(account)
    quiet = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=30)
    services.sweep_rule(quiet)
    follow_up = FollowUp.objects.get(rule=quiet)
    first, second = office.sellers
    assert follow_up.assignee == first
    activity_update(actor=office.manager, activity=follow_up.task, data={"owner": second}, assignees=[second],
                    version=follow_up.task.version)
    follow_up.refresh_from_db()
    assert follow_up.assignee == second
    override = services.override_create(actor=office.manager, absent=second, starts_on=dt.date.today(),
                                        ends_on=dt.date.today(), to_user=office.helpers[0])
    assert [(m.from_user, m.to_user) for m in override.moves.all()] == [(second, office.helpers[0])]


@pytest.mark.parametrize("condition", [
    {"fields": ["name"]}, {"attributes": "region=north"}, {"stage": ["mature"]},
    {"fields": {"name": {"nested": 1}}}, {"fields": {"parent": "5"}}, {"fields": {"stage_changed_on": "someday"}},
])
def test_a_malformed_condition_is_refused_naming_the_condition(condition):
    office = build_office(accounts=0)
    with pytest.raises(ValidationError) as caught:
        rule(office.manager, active=False, trigger="created", record_type="account", condition=condition)
    assert "condition" in caught.value.message_dict
    assert not Rule.objects.exists()


@pytest.mark.parametrize(("record_type", "field", "value"), [
    ("opportunity", "stage", "Won"), ("order", "account", "abc"), ("opportunity", "expected_close_on", "notadate"),
    ("opportunity", "amount", "abc"),
])
def test_a_change_rule_on_a_link_or_with_a_value_of_the_wrong_kind_is_refused(record_type, field, value):
    office = build_office(accounts=0)
    with pytest.raises(ValidationError) as caught:
        rule(office.manager, active=False, trigger="changed", record_type=record_type, field=field, value=value)
    assert set(caught.value.message_dict) & {"field", "value"}


@pytest.mark.parametrize("starts_on", [dt.date(1, 1, 1), dt.date(9999, 12, 31)])
def test_a_schedule_starting_centuries_away_is_refused_at_its_start(starts_on):
    office = build_office(accounts=0)
    with pytest.raises(ValidationError) as caught:
        rule(office.manager, active=False, trigger="recurrence", record_type="account", rrule="FREQ=DAILY",
             starts_on=starts_on, time_zone="UTC")
    assert "starts_on" in caught.value.message_dict


def test_one_broken_event_rule_does_not_keep_the_others_from_a_record():
    office = build_office(accounts=0)
    broken = rule(office.manager, name="Aaa broken", trigger="created", record_type="account",
                  definition=definition(office.manager, "First"))
    Rule.objects.filter(pk=broken.pk).update(condition={"fields": {"created_at": "not a time"}})
    fine = rule(office.manager, name="Zzz fine", trigger="created", record_type="account",
                definition=definition(office.manager, "Second"))
    account = AccountFactory(owner=office.seller)
    assert services.run_event_rules("account", account.pk, "created", [], 1) == 1
    assert FollowUp.objects.get().rule == fine
