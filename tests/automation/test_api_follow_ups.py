"""The automation API's follow-ups and overrides: who sees them, their stages, rerouting and reverting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.automation import services
from rapport.automation.models import FollowUp, Override, Rule
from rapport.directory.models import Account
from tests.factories import AccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rule(manager, name: str = "New accounts") -> Rule:
    definition = services.definition_save(actor=manager, definition=None, data={
        "name": f"{name} package", "contact_message": "Send the welcome package.",
        "pending_message": "Waiting for the courier.", "complete_message": "Package delivered.",
        "instructions": "Use the blue box."})
    rule = services.rule_save(actor=manager, rule=None, data={
        "name": name, "definition": definition, "trigger": "created", "record_type": "account",
        "assign_to": "owner"})
    return services.rule_activate(actor=manager, rule=rule)


def _follow_up(rule: Rule, account: Account) -> FollowUp:
    services.create_follow_ups(rule, [services.Match(account.pk, account.owner_id, "created")])
    return FollowUp.objects.get(rule=rule, record_id=account.pk)


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def world(personas):
    """A rule with a follow-up each for the owner (about their private account), the teammate (about an
    account everyone sees) and the outsider (about their private account, in team B)."""
    rule = _rule(personas.manager)
    secret = AccountFactory(owner=personas.owner, visibility="private", name="Owner's secret account")
    shared = AccountFactory(owner=personas.teammate, name="Shared account")
    other = AccountFactory(owner=personas.outsider, visibility="private", name="Team B's secret account")
    return {"rule": rule, "owner": _follow_up(rule, secret), "teammate": _follow_up(rule, shared),
            "outsider": _follow_up(rule, other), "secret": secret, "shared": shared, "other": other}


def test_a_follow_up_names_its_rule_record_assignee_and_stage(personas, api_for, world):
    follow_up = world["owner"]
    response = api_for(personas.owner).get(f"follow-ups/{follow_up.public_id}")
    assert response.status_code == 200
    item = response.json()
    assert item["rule"] == {"id": world["rule"].public_id, "name": "New accounts"}
    assert item["regarding"] == {"type": "account", "id": world["secret"].public_id, "name": "Owner's secret account"}
    assert item["assignee"] == {"id": personas.owner.public_id, "name": personas.owner.display_name}
    assert (item["stage"], item["message"], item["instructions"]) == ("contact", "Send the welcome package.",
                                                                      "Use the blue box.")
    assert item["task"] == follow_up.task.public_id and item["due_on"] == timezone.localdate().isoformat()
    assert item["rerouted_from"] is None and item["version"] == follow_up.task.version and item["created_at"]


def test_each_sees_the_follow_ups_whose_task_they_may_see_and_only_the_records_they_may_see(
        personas, api_for, world):
    everyone = {world[name].public_id for name in ("owner", "teammate", "outsider")}
    team_a = {world["owner"].public_id, world["teammate"].public_id}
    # The owner's follow-up is about a private account, so its task is private too: the owner, their
    # manager and admins see it; the teammate's (about a shared account) is the team's.
    mate = {world["teammate"].public_id}
    expected = {"owner": team_a, "teammate": mate, "viewer": mate, "marketer": mate, "manager": team_a,
                "outsider": {world["outsider"].public_id}, "admin": everyone}
    for persona, ids in expected.items():
        response = api_for(getattr(personas, persona)).get("follow-ups")
        assert _ids(response) == ids, persona
        text = response.content.decode()
        if persona not in ("admin", "outsider"):
            assert "Team B's secret account" not in text and world["other"].public_id not in text, persona
        if persona == "outsider":
            assert "Owner's secret account" not in text and "Shared account" not in text
    # The manager sees the owner's follow-up and, managing the owner, the private account it is about;
    # a teammate does not see it at all, so the account's name never reaches them through its subject.
    seen = api_for(personas.manager).get(f"follow-ups/{world['owner'].public_id}").json()
    assert seen["regarding"]["name"] == "Owner's secret account"
    assert api_for(personas.teammate).get(f"follow-ups/{world['owner'].public_id}").status_code == 404
    tasks = api_for(personas.teammate).get("activities").content.decode()
    assert "Owner's secret account" not in tasks
    # Hidden looks exactly like missing.
    hidden = api_for(personas.outsider).get(f"follow-ups/{world['owner'].public_id}")
    missing = api_for(personas.outsider).get("follow-ups/aaaaaaaaaaaaaaaa")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json()) == (404, missing.json())


def test_follow_up_filters(personas, api_for, world):
    api = api_for(personas.admin)
    other_rule = _rule(personas.manager, "Other rule")
    extra = _follow_up(other_rule, world["shared"])
    services.follow_up_set_stage(actor=personas.teammate, follow_up=world["teammate"], status="pending",
                                 note="Courier booked")
    services.follow_up_set_stage(actor=personas.outsider, follow_up=world["outsider"], status="completed")
    assert _ids(api.get("follow-ups", status="pending")) == {world["teammate"].public_id}
    assert _ids(api.get("follow-ups", status="open")) == {world["owner"].public_id, world["teammate"].public_id,
                                                          extra.public_id}
    assert _ids(api.get("follow-ups", status="completed")) == _ids(api.get("follow-ups", status="closed")) == {
        world["outsider"].public_id}
    assert _ids(api.get("follow-ups", rule=other_rule.public_id)) == {extra.public_id}
    assert _ids(api.get("follow-ups", assignee=personas.owner.public_id)) == {world["owner"].public_id}
    assert _ids(api_for(personas.owner).get("follow-ups", assignee="me")) == {world["owner"].public_id}
    assert _ids(api.get("follow-ups", record=f"account:{world['shared'].public_id}")) == {
        world["teammate"].public_id, extra.public_id}
    oldest = api.get("follow-ups", ordering="created_at").json()["items"][0]
    assert oldest["id"] == world["owner"].public_id
    for params, field in (({"status": "sleeping"}, "status"), ({"rule": "nosuchrule"}, "rule"),
                          ({"assignee": "nosuchuser"}, "assignee"), ({"record": "account"}, "record"),
                          ({"record": f"account:{world['other'].public_id}"}, "record"),
                          ({"ordering": "period"}, "ordering"), ({"period": "created"}, "period")):
        who = api_for(personas.owner) if field == "record" else api
        response = who.get("follow-ups", **params)
        assert response.status_code == 400 and field in response.json()["errors"], params


def test_the_assignee_sets_a_follow_up_pending_with_a_note_then_completed(personas, api_for, world):
    url = f"follow-ups/{world['owner'].public_id}"
    owner = api_for(personas.owner)
    version = world["owner"].task.version
    no_note = owner.post(f"{url}/pending", {"note": " ", "version": version})
    assert no_note.status_code == 422 and "note" in no_note.json()["errors"]
    assert owner.post(f"{url}/pending", {"version": version}).status_code == 422
    assert api_for(personas.teammate).post(f"{url}/pending", {"note": "Mine now"}).status_code == 404
    assert api_for(personas.viewer).post(f"{url}/complete").status_code == 404
    assert api_for(personas.outsider).post(f"{url}/complete").status_code == 404
    pending = owner.post(f"{url}/pending", {"note": "Courier booked", "version": version})
    assert pending.status_code == 200, pending.json()
    assert (pending.json()["stage"], pending.json()["message"]) == ("pending", "Waiting for the courier.")
    assert "Courier booked" in FollowUp.objects.get(pk=world["owner"].pk).task.description
    stale = owner.post(f"{url}/complete", {"version": version})
    assert stale.status_code == 409 and stale.json()["current_version"] == pending.json()["version"]
    done = owner.post(f"{url}/complete", {"version": pending.json()["version"]})
    assert done.status_code == 200
    assert (done.json()["stage"], done.json()["message"]) == ("completed", "Package delivered.")
    # The manager of team A may close the teammate's; with no version, the current one.
    assert api_for(personas.manager).post(f"follow-ups/{world['teammate'].public_id}/complete").json()["stage"] == \
        "completed"


# --- Overrides -------------------------------------------------------------------------------------


def _override_body(personas, **changes):
    today = timezone.localdate()
    return {"absent": personas.teammate.public_id, "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=5)).isoformat(), "to_user": personas.owner.public_id,
            "note": "Out sick", **changes}


def test_an_override_reroutes_open_follow_ups_and_reverting_gives_them_back(personas, api_for, world):
    manager = api_for(personas.manager)
    created = manager.post("overrides", _override_body(personas))
    assert created.status_code == 201, created.json()
    override = created.json()
    assert override["absent"]["id"] == personas.teammate.public_id
    assert override["to_user"]["id"] == personas.owner.public_id and override["to_team"] is None
    assert (override["moved"], override["note"], override["reverted_at"]) == (1, "Out sick", None)
    moved = api_for(personas.owner).get(f"follow-ups/{world['teammate'].public_id}").json()
    assert moved["assignee"]["id"] == personas.owner.public_id
    assert moved["rerouted_from"]["id"] == personas.teammate.public_id

    assert api_for(personas.owner).post(f"overrides/{override['id']}/revert").status_code == 403
    assert api_for(personas.viewer).post(f"overrides/{override['id']}/revert").status_code == 404
    reverted = manager.post(f"overrides/{override['id']}/revert")
    assert reverted.status_code == 200 and reverted.json()["reverted_at"]
    assert reverted.json()["reverted_by"]["id"] == personas.manager.public_id
    back = FollowUp.objects.get(pk=world["teammate"].pk)
    assert (back.assignee, back.rerouted_from) == (personas.teammate, None)
    again = api_for(personas.admin).post(f"overrides/{override['id']}/revert")
    assert again.status_code == 409 and again.json()["detail"]


def test_overrides_are_refused_naming_the_field(personas, api_for):
    manager = api_for(personas.manager)
    gone = UserFactory(is_active=False)
    today = timezone.localdate()
    cases = [
        (_override_body(personas, ends_on=(today - dt.timedelta(days=1)).isoformat()), "ends_on"),
        (_override_body(personas, to_user=gone.public_id), "to_user"),
        (_override_body(personas, to_user=personas.teammate.public_id), "to_user"),  # to themselves
        (_override_body(personas, to_user=None), "to_user"),  # nobody
        (_override_body(personas, to_user="nosuchuser"), "to_user"),
        (_override_body(personas, absent="nosuchuser"), "absent"),
        (_override_body(personas, to_user=None, to_team="nosuchteam"), "to_team"),
        (_override_body(personas, to_team=TeamFactory().public_id), "to_user"),  # both
        (_override_body(personas, starts_on="soon"), "starts_on"),
        (_override_body(personas, colour="red"), "colour"),
    ]
    for body, field in cases:
        response = manager.post("overrides", body)
        assert response.status_code == 422, (body, response.status_code)
        assert field in response.json()["errors"], (body, response.json())
    assert not Override.objects.exists()
    # Only the absent user's manager, or an administrator.
    for persona in ("owner", "teammate", "outsider", "viewer"):
        assert api_for(getattr(personas, persona)).post("overrides", _override_body(personas)).status_code == 403
    outsider_away = _override_body(personas, absent=personas.outsider.public_id)
    assert manager.post("overrides", outsider_away).status_code == 403
    assert not Override.objects.exists()
    assert api_for(personas.admin).post("overrides", outsider_away).status_code == 201
    overlapping = api_for(personas.admin).post("overrides", outsider_away)
    assert overlapping.status_code == 422 and "starts_on" in overlapping.json()["errors"]


def test_overrides_are_seen_by_administrators_managers_and_the_two_users(personas, api_for):
    today = timezone.localdate()
    team_a = services.override_create(actor=personas.manager, absent=personas.teammate, starts_on=today,
                                      ends_on=today + dt.timedelta(days=3), to_user=personas.owner)
    team_b = services.override_create(actor=personas.admin, absent=personas.outsider, starts_on=today,
                                      ends_on=today + dt.timedelta(days=3),
                                      to_user=UserFactory(team=personas.outsider.team))
    expected = {"owner": {team_a.public_id}, "teammate": {team_a.public_id}, "manager": {team_a.public_id},
                "admin": {team_a.public_id, team_b.public_id}, "outsider": {team_b.public_id}, "viewer": set(),
                "marketer": set()}
    for persona, ids in expected.items():
        api = api_for(getattr(personas, persona))
        assert _ids(api.get("overrides")) == ids, persona
        for override in (team_a, team_b):
            status = api.get(f"overrides/{override.public_id}").status_code
            assert status == (200 if override.public_id in ids else 404), (persona, override)
    admin = api_for(personas.admin)
    assert _ids(admin.get("overrides", absent=personas.outsider.public_id)) == {team_b.public_id}
    assert _ids(api_for(personas.teammate).get("overrides", absent="me")) == {team_a.public_id}
    services.override_revert(actor=personas.admin, override=team_b)
    assert _ids(admin.get("overrides", current="true")) == {team_a.public_id}
    assert _ids(admin.get("overrides", current="false")) == {team_b.public_id}
    for params, field in (({"current": "sometimes"}, "current"), ({"absent": "nobody"}, "absent"),
                          ({"ordering": "note"}, "ordering")):
        response = admin.get("overrides", **params)
        assert response.status_code == 400 and field in response.json()["errors"], params


def test_an_override_spread_over_a_team(personas, api_for, world):
    team = TeamFactory(name="Cover")
    helpers = [UserFactory(team=team) for _ in range(2)]
    created = api_for(personas.admin).post("overrides", _override_body(personas, to_user=None,
                                                                       to_team=team.public_id))
    assert created.status_code == 201, created.json()
    assert created.json()["to_team"] == {"id": team.public_id, "name": "Cover"}
    assert FollowUp.objects.get(pk=world["teammate"].pk).assignee in helpers
