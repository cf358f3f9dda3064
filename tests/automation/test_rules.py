"""Saving rules (bad input refused, field by field, nothing saved), whom follow-ups go to, and the
stages of a follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.automation import services
from rapport.automation.models import FollowUp, Rule, TaskDefinition
from rapport.core.errors import StaleVersion
from rapport.core.models import Role
from tests.automation import build_office, definition, follow_ups, rule, set_created
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

T = dt.date(2027, 3, 1)


@pytest.fixture
def office():
    return build_office(accounts=0)


def quiet_accounts(office, n: int, owner=None) -> list:
    accounts = [AccountFactory(owner=owner or office.sellers[i % 2]) for i in range(n)]
    set_created(accounts, T - dt.timedelta(days=100))
    return accounts


# --- Bad input ---------------------------------------------------------------------------------------


def good(office, **changes):
    call = TaskDefinition.objects.filter(name="Call").first() or definition(office.manager)
    data = {"name": "Quiet accounts", "definition": call, "trigger": "inactivity",
            "record_type": "account", "inactivity_of": "order", "days": 60, "assign_to": "owner"}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def refused(office, data, field, *, rule_=None, version=None) -> str:
    before = Rule.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.rule_save(actor=office.manager, rule=rule_, data=data, version=version)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert Rule.objects.count() == before
    return " ".join(caught.value.message_dict[field])


def test_a_good_rule_saves(office):
    saved = services.rule_save(actor=office.manager, rule=None, data=good(office))
    assert (saved.trigger, saved.days, saved.is_active, saved.created_by) == ("inactivity", 60, False, office.manager)


@pytest.mark.parametrize(("changes", "field"), [
    ({"definition": None}, "definition"),
    ({"days": -5}, "days"),
    ({"days": 0}, "days"),
    ({"days": None}, "days"),
    ({"inactivity_of": "activity"}, "activity_kind"),
    ({"record_type": "contact"}, "record_type"),
    ({"record_type": "planet"}, "record_type"),
    ({"trigger": "whenever"}, "trigger"),
    ({"colour": "red"}, "colour"),
    ({"condition": {"fields": {"colour": "red"}}}, "condition"),
    ({"condition": {"colour": "red"}}, "condition"),
    ({"condition": {"fields": {"stage": "sideways"}}}, "condition"),
    ({"condition": {"owner_team": "nosuchteam"}}, "condition"),
    ({"condition": "stage=mature"}, "condition"),
    ({"trigger": "changed", "field": "colour", "value": "red"}, "field"),
    ({"trigger": "changed", "field": "", "value": "declining"}, "field"),
    ({"trigger": "changed", "field": "stage", "value": "sideways"}, "value"),
    ({"trigger": "date", "field": "name", "days": 7}, "field"),
    ({"trigger": "date", "field": "created_at", "days": 7}, "field"),
    ({"trigger": "date", "field": "expected_close_on", "days": -7}, "field"),  # not an account's
    ({"trigger": "date", "field": "stage_changed_on", "days": 99999}, "days"),
    ({"trigger": "recurrence", "rrule": "FREQ=SOMETIMES", "starts_on": dt.date(2027, 1, 1)}, "rrule"),
    ({"trigger": "recurrence", "rrule": "FREQ=WEEKLY;BYDAY=XX", "starts_on": dt.date(2027, 1, 1)}, "rrule"),
    ({"trigger": "recurrence", "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=2;UNTIL=20270101",
      "starts_on": dt.date(2027, 1, 1)}, "rrule"),
    ({"trigger": "recurrence", "rrule": "", "starts_on": dt.date(2027, 1, 1)}, "rrule"),
    ({"trigger": "recurrence", "rrule": "FREQ=WEEKLY", "starts_on": None}, "starts_on"),
    ({"trigger": "recurrence", "rrule": "FREQ=WEEKLY", "starts_on": dt.date(2027, 1, 1),
      "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"assign_to": "user"}, "assign_user"),
    ({"assign_to": "team"}, "assign_team"),
    ({"assign_to": "role"}, "assign_role"),
    ({"assign_to": "everybody"}, "assign_to"),
    ({"name": ""}, "name"),
])
def test_bad_input_is_refused_by_field_and_nothing_is_saved(office, changes, field):
    refused(office, good(office, **changes), field)


def test_a_condition_on_an_impossible_stage_is_refused(office):
    refused(office, good(office, condition={"stage": "sideways"}), "condition")


def test_a_condition_value_of_the_wrong_type_is_refused_before_it_breaks_a_sweep(office):
    quiet_accounts(office, 1)
    refused(office, good(office, condition={"fields": {"stage_changed_on": "someday"}}), "condition")


def test_attributes_only_for_accounts_and_contacts(office):
    refused(office, good(office, trigger="created", record_type="order", condition={"attributes": {"a": "b"}}),
            "condition")


def test_a_user_who_is_not_active_or_a_team_with_nobody_active_is_refused(office):
    gone = UserFactory(is_active=False)
    assert "not an active user" in refused(office, good(office, assign_to="user", assign_user=gone), "assign_user")
    empty = TeamFactory(name="Empty")
    UserFactory(team=empty, is_active=False)
    assert "no active members" in refused(office, good(office, assign_to="team", assign_team=empty), "assign_team")
    nobody = Role.objects.get(slug="marketing")
    refused(office, good(office, assign_to="role", assign_role=nobody), "assign_role")


def test_a_rule_with_several_mistakes_names_each(office):
    with pytest.raises(ValidationError) as caught:
        services.rule_save(actor=office.manager, rule=None, data=good(
            office, days=0, condition={"fields": {"colour": "x"}}, assign_to="user"))
    assert {"days", "condition", "assign_user"} <= set(caught.value.message_dict)


def test_a_bad_change_to_a_saved_rule_leaves_it_as_it_was(office):
    saved = services.rule_save(actor=office.manager, rule=None, data=good(office))
    refused(office, {"days": -1, "name": "Renamed"}, "days", rule_=saved, version=saved.version)
    refused(office, {"rrule": "FREQ=SOMETIMES", "trigger": "recurrence", "starts_on": T}, "rrule",
            rule_=Rule.objects.get(pk=saved.pk), version=saved.version)
    stored = Rule.objects.get(pk=saved.pk)
    assert (stored.name, stored.days, stored.trigger, stored.version) == ("Quiet accounts", 60, "inactivity", 1)


def test_a_stale_version_is_refused(office):
    saved = services.rule_save(actor=office.manager, rule=None, data=good(office))
    services.rule_save(actor=office.manager, rule=saved, data={"days": 90}, version=1)
    with pytest.raises(StaleVersion):
        services.rule_save(actor=office.manager, rule=Rule.objects.get(pk=saved.pk), data={"days": 30}, version=1)
    assert Rule.objects.get(pk=saved.pk).days == 90


def test_only_managers_and_admins_set_up_rules(office):
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=office.seller, rule=None, data=good(office))
    saved = services.rule_save(actor=office.admin, rule=None, data=good(office))
    with pytest.raises(PermissionDenied):
        services.rule_activate(actor=office.seller, rule=saved)
    assert not Rule.objects.get(pk=saved.pk).is_active


def test_a_rule_whose_definition_is_out_of_use_cannot_be_activated(office):
    saved = services.rule_save(actor=office.manager, rule=None, data=good(office))
    services.definition_save(actor=office.manager, definition=saved.definition, data={"is_active": False},
                             version=saved.definition.version)
    with pytest.raises(ValidationError) as caught:
        services.rule_activate(actor=office.manager, rule=Rule.objects.get(pk=saved.pk))
    assert "definition" in caught.value.message_dict


# --- Whom a follow-up goes to --------------------------------------------------------------------------


def test_a_named_user(office):
    quiet_accounts(office, 3)
    named = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 assign_to="user", assign_user=office.helpers[1])
    assert services.sweep_rule(named, today=T) == 3
    assert {fu.assignee for fu in follow_ups(named)} == {office.helpers[1]}
    assert {fu.task.owner for fu in follow_ups(named)} == {office.helpers[1]}


def test_a_team_in_turn_evenly_and_the_turn_kept_from_one_sweep_to_the_next(office):
    quiet_accounts(office, 4)
    turns = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 assign_to="team", assign_team=office.support_team)
    assert services.sweep_rule(turns, today=T) == 4
    later = quiet_accounts(office, 2)
    set_created(later, T - dt.timedelta(days=70))
    assert services.sweep_rule(Rule.objects.get(pk=turns.pk), today=T + dt.timedelta(days=1)) == 2
    assert [fu.assignee for fu in follow_ups(turns)] == office.helpers * 2
    assert Rule.objects.get(pk=turns.pk).turn == 6


def test_a_team_member_who_left_is_skipped(office):
    office.helpers[1].is_active = False
    office.helpers[1].save()
    quiet_accounts(office, 4)
    turns = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 assign_to="team", assign_team=office.support_team)
    services.sweep_rule(turns, today=T)
    helpers = [office.helpers[0], office.helpers[2]]
    assert [fu.assignee for fu in follow_ups(turns)] == helpers * 2


def test_a_role_in_turn(office):
    quiet_accounts(office, 6)
    support = Role.objects.get(slug="support")
    turns = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 assign_to="role", assign_role=support)
    assert services.sweep_rule(turns, today=T) == 6
    assert [fu.assignee for fu in follow_ups(turns)] == office.helpers * 2


def test_an_owner_who_left_falls_back_to_the_rules_creator(office):
    leaver = UserFactory(team=office.sales_team)
    account = quiet_accounts(office, 1, owner=leaver)[0]
    quiet = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60)
    leaver.is_active = False
    leaver.save()
    assert services.sweep_rule(quiet, today=T) == 1
    [fu] = follow_ups(quiet)
    assert (fu.record_id, fu.assignee, fu.task.owner) == (account.pk, office.manager, office.manager)


def test_a_named_user_who_left_after_the_rule_was_saved_falls_back_to_the_rules_creator(office):
    quiet_accounts(office, 1)
    named = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 assign_to="user", assign_user=office.helpers[0])
    office.helpers[0].is_active = False
    office.helpers[0].save()
    services.sweep_rule(named, today=T)
    assert [fu.assignee for fu in follow_ups(named)] == [office.manager]


# --- Stages -------------------------------------------------------------------------------------------


@pytest.fixture
def follow_up(office) -> FollowUp:
    quiet_accounts(office, 1, owner=office.seller)
    quiet = rule(office.manager, trigger="inactivity", record_type="account", inactivity_of="order", days=60,
                 definition=definition(office.manager, name="Call"))
    services.sweep_rule(quiet, today=T)
    return follow_ups(quiet)[0]


def test_pending_needs_a_note(office, follow_up):
    with pytest.raises(ValidationError) as caught:
        services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="pending", note="  ")
    assert "note" in caught.value.message_dict
    follow_up.task.refresh_from_db()
    assert follow_up.task.status == "open"


def test_the_stages_and_their_messages(office, follow_up):
    assert services.stage_message(follow_up) == "Call: do it."
    services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="pending",
                                 note="Left a voicemail", version=follow_up.task.version)
    assert follow_up.task.status == "pending"
    assert "Left a voicemail" in follow_up.task.description and follow_up.task.description.startswith("Call: do it.")
    assert services.stage_message(follow_up) == "Call: waiting."
    services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="completed")
    task = FollowUp.objects.get(pk=follow_up.pk).task
    assert task.status == "completed" and task.is_task
    assert services.stage_message(FollowUp.objects.get(pk=follow_up.pk)) == "Call: done."


def test_a_stage_without_its_message_shows_the_contact_message(office, follow_up):
    bare = definition(office.manager, name="Bare", pending_message="", complete_message="")
    follow_up.rule.definition = bare
    services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="pending", note="Waiting")
    assert services.stage_message(follow_up) == "Bare: do it."


def test_an_unknown_stage_is_refused(office, follow_up):
    with pytest.raises(ValidationError) as caught:
        services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="sideways")
    assert "status" in caught.value.message_dict


def test_only_who_may_update_the_task_changes_its_stage(office, follow_up):
    stranger = UserFactory(team=TeamFactory(name="Elsewhere"), role_slugs="sales")
    for actor in (stranger, office.sellers[1], office.helpers[0]):
        with pytest.raises(PermissionDenied):
            services.follow_up_set_stage(actor=actor, follow_up=follow_up, status="completed")
        with pytest.raises(PermissionDenied):
            services.follow_up_set_stage(actor=actor, follow_up=follow_up, status="pending", note="Me")
    assert FollowUp.objects.get(pk=follow_up.pk).task.status == "open"
    services.follow_up_set_stage(actor=office.manager, follow_up=follow_up, status="completed")  # the team's manager
    assert FollowUp.objects.get(pk=follow_up.pk).task.status == "completed"


def test_a_stale_stage_change_is_refused(office, follow_up):
    version = follow_up.task.version
    services.follow_up_set_stage(actor=office.seller, follow_up=follow_up, status="pending", note="A", version=version)
    with pytest.raises(StaleVersion):
        services.follow_up_set_stage(actor=office.seller, follow_up=FollowUp.objects.get(pk=follow_up.pk),
                                     status="completed", version=version)

