"""Follow-up overrides: an absent user's open follow-ups, and those created for them during the range,
go to a colleague or are spread over a team; reverting gives back those still open and still there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.activities.models import ActivityAssignee
from rapport.automation import services
from rapport.automation.models import FollowUp, Override, OverrideMove
from rapport.core.errors import Conflict
from rapport.core.models import User
from tests.automation import build_office, follow_ups, rule, set_created, today
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def day(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def office():
    return build_office(accounts=0)


@pytest.fixture
def quiet(office):
    """An inactivity rule for the owner; the absent seller (sellers[0]) has three open follow-ups and one
    completed, the other seller one."""
    absent, other = office.sellers
    accounts = [AccountFactory(owner=absent) for _ in range(4)] + [AccountFactory(owner=other)]
    set_created(accounts, day(-100))
    quiet = rule(office.manager, name="Quiet", trigger="inactivity", record_type="account", inactivity_of="order",
                 days=60)
    assert services.sweep_rule(quiet, today=today()) == 5
    done = follow_ups(quiet)[3]
    services.follow_up_set_stage(actor=absent, follow_up=done, status="completed")
    return quiet


def open_of(user: User) -> list[FollowUp]:
    return [fu for fu in FollowUp.objects.filter(assignee=user).select_related("task").order_by("id")
            if fu.task.status in ("open", "pending")]


def assert_held_by(fu: FollowUp, user: User) -> None:
    fu = FollowUp.objects.select_related("task").get(pk=fu.pk)
    assert fu.assignee == user and fu.task.owner == user
    assert list(ActivityAssignee.objects.filter(activity=fu.task).values_list("user_id", flat=True)) == [user.pk]


def test_open_follow_ups_move_to_the_substitute_when_the_range_covers_today(office, quiet):
    absent, other = office.sellers
    substitute = office.helpers[0]
    moving = open_of(absent)
    assert len(moving) == 3
    override = services.override_create(actor=office.manager, absent=absent, starts_on=day(-1), ends_on=day(5),
                                        to_user=substitute, note="  Out sick ")
    assert (override.created_by, override.note) == (office.manager, "Out sick")
    for fu in moving:
        assert_held_by(fu, substitute)
        stored = FollowUp.objects.get(pk=fu.pk)
        assert (stored.rerouted_from, stored.override) == (absent, override)
    assert open_of(absent) == []
    assert FollowUp.objects.filter(assignee=absent).count() == 1  # the completed one stays
    assert len(open_of(other)) == 1
    moves = OverrideMove.objects.filter(override=override)
    assert sorted(moves.values_list("follow_up_id", "from_user_id", "to_user_id")) == [
        (fu.pk, absent.pk, substitute.pk) for fu in moving]


def test_open_follow_ups_are_spread_over_a_team(office, quiet):
    absent = office.sellers[0]
    moving = open_of(absent)
    services.override_create(actor=office.manager, absent=absent, starts_on=day(0), ends_on=day(0),
                             to_team=office.support_team)
    assert [FollowUp.objects.get(pk=fu.pk).assignee for fu in moving] == office.helpers


def test_the_team_spread_skips_the_absent_user_and_anyone_inactive(office, quiet):
    absent = office.sellers[0]
    teammate = office.sellers[1]
    office.sellers.append(UserFactory(team=office.sales_team, is_active=False))
    moving = open_of(absent)
    services.override_create(actor=office.manager, absent=absent, starts_on=day(0), ends_on=day(3),
                             to_team=office.sales_team)
    assert {FollowUp.objects.get(pk=fu.pk).assignee for fu in moving} == {teammate}


def test_a_future_override_moves_nothing_until_its_range_begins(office, quiet):
    absent, substitute = office.sellers[0], office.sellers[1]
    moving = open_of(absent)
    services.override_create(actor=office.manager, absent=absent, starts_on=day(2), ends_on=day(5),
                             to_user=substitute)
    assert open_of(absent) == moving
    assert services.apply_overrides(today=day(1)) == 0
    assert services.apply_overrides(today=day(2)) == 3
    assert services.apply_overrides(today=day(3)) == 0
    for fu in moving:
        assert_held_by(fu, substitute)


def test_follow_ups_created_during_the_range_go_to_the_substitute(office, quiet):
    absent, substitute = office.sellers[0], office.helpers[2]
    override = services.override_create(actor=office.manager, absent=absent, starts_on=day(10), ends_on=day(20),
                                        to_user=substitute)
    during, before, after = (AccountFactory(owner=absent) for _ in range(3))
    set_created([during], day(-50))
    set_created([before], day(-51))
    set_created([after], day(-40))
    services.sweep_rule(quiet, today=day(9))  # before the range: the owner's
    services.sweep_rule(quiet, today=day(10))  # in it
    services.sweep_rule(quiet, today=day(21))  # after it
    by_record = {fu.record_id: fu for fu in follow_ups(quiet)}
    assert (by_record[before.pk].assignee, by_record[before.pk].rerouted_from) == (absent, None)
    assert (by_record[during.pk].assignee, by_record[during.pk].rerouted_from) == (substitute, absent)
    assert by_record[during.pk].override == override and by_record[during.pk].task.owner == substitute
    assert (by_record[after.pk].assignee, by_record[after.pk].rerouted_from) == (absent, None)
    assert OverrideMove.objects.filter(override=override, follow_up=by_record[during.pk],
                                       from_user=absent, to_user=substitute).exists()


def test_event_follow_ups_created_during_the_range_go_to_the_team_in_turn(
        office, settings, django_capture_on_commit_callbacks):
    from rapport.directory.services import account_create

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    absent = office.sellers[0]
    created = rule(office.manager, name="Created", trigger="created", record_type="account")
    services.override_create(actor=office.manager, absent=absent, starts_on=day(0), ends_on=day(3),
                             to_team=office.support_team)
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            account_create(actor=absent, data={"name": f"New {n}"})
    assert [fu.assignee for fu in follow_ups(created)] == [*office.helpers, office.helpers[0]]
    assert {fu.rerouted_from for fu in follow_ups(created)} == {absent}


def test_revert_gives_back_those_still_open_and_still_with_the_substitute(office, quiet):
    absent, substitute = office.sellers[0], office.sellers[1]
    first, second, third = open_of(absent)
    override = services.override_create(actor=office.manager, absent=absent, starts_on=day(-2), ends_on=day(2),
                                        to_user=substitute)
    new = AccountFactory(owner=absent)
    set_created([new], day(-70))
    services.sweep_rule(quiet, today=today())
    [made] = [fu for fu in follow_ups(quiet) if fu.record_id == new.pk]
    assert made.assignee == substitute
    services.follow_up_set_stage(actor=substitute, follow_up=FollowUp.objects.get(pk=first.pk), status="completed")
    services.follow_up_set_stage(actor=substitute, follow_up=FollowUp.objects.get(pk=second.pk), status="pending",
                                 note="Waiting for a reply")
    services._move(FollowUp.objects.get(pk=third.pk), office.helpers[0].pk, office.manager)  # passed on again
    assert services.override_revert(actor=office.manager, override=override) == 2
    assert_held_by(first, substitute)  # completed: stays where it was done
    assert_held_by(second, absent)  # pending is still open: back
    assert_held_by(third, office.helpers[0])  # no longer with the substitute
    assert_held_by(made, absent)
    for fu in (second, made):
        stored = FollowUp.objects.get(pk=fu.pk)
        assert (stored.rerouted_from, stored.override) == (None, None)
    override.refresh_from_db()
    assert override.reverted_by == office.manager and override.reverted_at is not None
    with pytest.raises(Conflict, match="reverted already"):
        services.override_revert(actor=office.manager, override=override)
    # Reverted: new follow-ups are the owner's again, and a new override may cover the range.
    services.override_create(actor=office.manager, absent=absent, starts_on=day(-2), ends_on=day(2),
                             to_user=office.helpers[1])


# --- Refused ----------------------------------------------------------------------------------------------


def refused(office, field, **kwargs) -> None:
    before = (Override.objects.count(), OverrideMove.objects.count(),
              list(FollowUp.objects.order_by("id").values_list("assignee_id", flat=True)))
    data = {"actor": office.manager, "absent": office.sellers[0], "starts_on": day(0), "ends_on": day(3)}
    data.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        services.override_create(**data)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert before == (Override.objects.count(), OverrideMove.objects.count(),
                      list(FollowUp.objects.order_by("id").values_list("assignee_id", flat=True)))


def test_a_range_ending_before_it_starts(office, quiet):
    refused(office, "ends_on", starts_on=day(3), ends_on=day(1), to_user=office.sellers[1])


def test_to_an_inactive_user(office, quiet):
    refused(office, "to_user", to_user=UserFactory(team=office.sales_team, is_active=False))


def test_to_the_absent_user_themself(office, quiet):
    refused(office, "to_user", to_user=office.sellers[0])


def test_to_nobody_or_to_both_a_user_and_a_team(office, quiet):
    refused(office, "to_user")
    refused(office, "to_user", to_user=office.sellers[1], to_team=office.support_team)


def test_to_a_team_with_nobody_active(office, quiet):
    empty = TeamFactory(name="Empty", manager=office.manager)
    UserFactory(team=empty, is_active=False)
    refused(office, "to_team", to_team=empty)
    alone = TeamFactory(name="Only the absent", manager=office.manager)
    fresh = User.objects.get(pk=office.manager.pk)  # rights are cached on the user object
    refused(office, "to_team", to_team=alone, absent=UserFactory(team=alone), actor=fresh)


def test_overlapping_overrides(office, quiet):
    services.override_create(actor=office.manager, absent=office.sellers[0], starts_on=day(5), ends_on=day(10),
                             to_user=office.sellers[1])
    refused(office, "starts_on", starts_on=day(10), ends_on=day(12), to_user=office.helpers[0])
    refused(office, "starts_on", starts_on=day(0), ends_on=day(30), to_user=office.helpers[0])
    services.override_create(actor=office.manager, absent=office.sellers[0], starts_on=day(11), ends_on=day(12),
                             to_user=office.helpers[0])


def test_only_their_manager_or_an_admin(office, quiet):
    absent = office.sellers[0]
    other_manager = UserFactory(role_slugs="manager")
    TeamFactory(name="Other", manager=other_manager)
    for actor in (office.sellers[1], office.helpers[0], other_manager):
        with pytest.raises(PermissionDenied):
            services.override_create(actor=actor, absent=absent, starts_on=day(0), ends_on=day(1),
                                     to_user=office.sellers[1])
    assert not Override.objects.exists()
    override = services.override_create(actor=office.admin, absent=absent, starts_on=day(0), ends_on=day(1),
                                        to_user=office.sellers[1])
    assert override.created_by == office.admin
    with pytest.raises(PermissionDenied):
        services.override_revert(actor=office.sellers[1], override=override)
    assert Override.objects.get(pk=override.pk).reverted_at is None


def test_a_substitute_outside_the_managers_teams_is_refused_by_name_or_works(office, quiet):
    absent = office.sellers[0]
    narrow = UserFactory(role_slugs="manager")
    office.sales_team.manager = narrow
    office.sales_team.save()
    outsider = UserFactory(team=TeamFactory(name="Far away"), role_slugs="sales")
    moving = open_of(absent)
    try:
        services.override_create(actor=narrow, absent=absent, starts_on=day(1), ends_on=day(3), to_user=outsider)
    except ValidationError as exc:
        assert "to_user" in exc.message_dict
        return
    services.sweep_rules(today=day(1))
    for fu in moving:
        assert_held_by(fu, outsider)
