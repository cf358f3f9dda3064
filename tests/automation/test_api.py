"""The automation API: task definitions and rules (who may write them, the 409s and the 422s), the rule
actions (preview equals what activation and a sweep then create), follow-ups (who sees them, their
stages) and overrides."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.automation import services
from rapport.automation.models import FollowUp, Rule, TaskDefinition
from rapport.directory.models import Account
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _definition(manager, name: str = "Welcome package") -> TaskDefinition:
    return services.definition_save(actor=manager, definition=None, data={
        "name": name, "contact_message": "Send the welcome package.", "pending_message": "Waiting for the courier.",
        "complete_message": "Package delivered.", "instructions": "Use the blue box."})


def _event_rule(manager, definition: TaskDefinition, name: str = "New accounts") -> Rule:
    rule = services.rule_save(actor=manager, rule=None, data={
        "name": name, "definition": definition, "trigger": "created", "record_type": "account",
        "assign_to": "owner"})
    return services.rule_activate(actor=manager, rule=rule)


def _follow_up(rule: Rule, account: Account, period: str = "created") -> FollowUp:
    services.create_follow_ups(rule, [services.Match(account.pk, account.owner_id, period)])
    return FollowUp.objects.get(rule=rule, record_id=account.pk, period=period)


# --- Task definitions ----------------------------------------------------------------------------


def test_managers_and_administrators_write_task_definitions_everyone_reads_them(personas, api_for):
    body = {"name": "Call", "contact_message": "Call the customer."}
    for persona in ("owner", "viewer", "marketer", "outsider"):
        response = api_for(getattr(personas, persona)).post("task-definitions", body)
        assert response.status_code == 403, persona
        assert response.json()["detail"]
    assert not TaskDefinition.objects.exists()

    manager = api_for(personas.manager)
    created = manager.post("task-definitions", {**body, "instructions": "Ask about the next order."})
    assert created.status_code == 201, created.json()
    item = created.json()
    assert (item["name"], item["rule_count"], item["version"], item["is_active"]) == ("Call", 0, 1, True)

    listed = api_for(personas.viewer).get("task-definitions").json()
    assert [d["id"] for d in listed["items"]] == [item["id"]] and listed["next"] is None
    assert api_for(personas.outsider).get(f"task-definitions/{item['id']}").json()["name"] == "Call"

    changed = api_for(personas.admin).patch(f"task-definitions/{item['id']}",
                                            {"version": 1, "pending_message": "Waiting for them to call back."})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = manager.patch(f"task-definitions/{item['id']}", {"version": 1, "name": "Stale"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert "version" in stale.json()["errors"]
    denied = api_for(personas.owner).patch(f"task-definitions/{item['id']}", {"version": 2, "name": "Mine"})
    assert denied.status_code == 403
    assert TaskDefinition.objects.get().name == "Call"


def test_task_definition_bodies_are_checked_field_by_field(personas, api_for):
    manager = api_for(personas.manager)
    _definition(personas.manager, "Taken")
    cases = [
        ({"name": "X", "contact_message": "Y", "colour": "red"}, "colour"),  # unknown field
        ({"name": "X"}, "contact_message"),  # missing
        ({"name": "", "contact_message": "Y"}, "name"),
        ({"name": "Taken", "contact_message": "Y"}, "name"),  # taken
        ({"name": "X", "contact_message": "Y", "is_active": None}, "is_active"),
    ]
    for body, field in cases:
        response = manager.post("task-definitions", body)
        assert response.status_code == 422, (body, response.json())
        assert field in response.json()["errors"], (body, response.json())
    assert TaskDefinition.objects.count() == 1
    definition = TaskDefinition.objects.get()
    missing_version = manager.patch(f"task-definitions/{definition.public_id}", {"name": "New"})
    assert missing_version.status_code == 422 and "version" in missing_version.json()["errors"]


def test_a_task_definition_rules_use_cannot_be_deleted(personas, api_for):
    manager = api_for(personas.manager)
    used = _definition(personas.manager)
    _event_rule(personas.manager, used)
    unused = _definition(personas.manager, "Unused")

    refused = manager.delete(f"task-definitions/{used.public_id}")
    assert refused.status_code == 422 and "definition" in refused.json()["errors"]
    assert api_for(personas.owner).delete(f"task-definitions/{unused.public_id}").status_code == 403
    assert manager.delete(f"task-definitions/{unused.public_id}?version=7").status_code == 409
    assert manager.delete(f"task-definitions/{unused.public_id}").status_code == 204
    assert manager.get(f"task-definitions/{unused.public_id}").status_code == 404
    assert list(TaskDefinition.objects.values_list("name", flat=True)) == ["Welcome package"]


# --- Rules -----------------------------------------------------------------------------------------


def test_a_rule_shows_every_field_its_references_and_its_follow_up_counts(personas, api_for):
    definition = _definition(personas.manager)
    created = api_for(personas.manager).post("rules", {
        "name": "Welcome", "description": "Every new customer", "definition": definition.public_id,
        "trigger": "created", "record_type": "account", "condition": {"fields": {"industry": "Tools"}},
        "due_in_days": 3, "assign_to": "user", "assign_user": personas.teammate.public_id, "alert_email": True})
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["definition"] == {"id": definition.public_id, "name": "Welcome package"}
    assert rule["assign_user"] == {"id": personas.teammate.public_id, "name": personas.teammate.display_name}
    assert rule["condition"] == {"fields": {"industry": "Tools"}}
    assert (rule["is_active"], rule["due_in_days"], rule["alert_email"], rule["version"]) == (False, 3, True, 1)
    assert (rule["open_follow_ups"], rule["closed_follow_ups"]) == (0, 0)
    assert rule["created_by"]["id"] == personas.manager.public_id
    assert {"field", "value", "days", "inactivity_of", "activity_kind", "rrule", "starts_on", "time_zone",
            "assign_team", "assign_role", "activated_at", "trigger", "record_type"} <= set(rule)

    stored = Rule.objects.get()
    services.rule_activate(actor=personas.manager, rule=stored)
    first = _follow_up(stored, AccountFactory(owner=personas.owner))
    _follow_up(stored, AccountFactory(owner=personas.owner))
    services.follow_up_set_stage(actor=personas.teammate, follow_up=first, status="completed")
    shown = api_for(personas.viewer).get(f"rules/{rule['id']}").json()
    assert (shown["open_follow_ups"], shown["closed_follow_ups"], shown["is_active"]) == (1, 1, True)


def test_rule_bodies_are_refused_naming_the_field_and_nothing_is_saved(personas, api_for):
    manager = api_for(personas.manager)
    definition = _definition(personas.manager).public_id
    recurring = {"name": "Monthly", "definition": definition, "trigger": "recurrence", "record_type": "account",
                 "starts_on": "2026-01-05", "rrule": "FREQ=MONTHLY;BYDAY=1MO"}
    quiet = {"name": "Quiet", "definition": definition, "trigger": "inactivity", "record_type": "account",
             "inactivity_of": "order", "days": 60}
    cases = [
        ({**quiet, "colour": "red"}, "colour"),  # unknown field
        ({**recurring, "rrule": "FREQ=SOMETIMES"}, "rrule"),  # impossible RRULE
        ({**quiet, "days": -5}, "days"),  # negative days on an inactivity rule
        ({k: v for k, v in quiet.items() if k != "definition"}, "definition"),  # missing definition
        ({**quiet, "definition": "nosuchdefinition"}, "definition"),
        ({**quiet, "trigger": "sometimes"}, "trigger"),
        ({**quiet, "record_type": "planet"}, "record_type"),
        ({**recurring, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**quiet, "trigger": "changed", "field": "no_such_field", "value": "x"}, "field"),
        ({**quiet, "condition": {"fields": {"no_such_field": "x"}}}, "condition"),
        ({**quiet, "assign_to": "user"}, "assign_user"),
        ({**quiet, "assign_to": "user", "assign_user": "nosuchuser"}, "assign_user"),
        ({**quiet, "due_in_days": -1}, "due_in_days"),
        ({**quiet, "name": None}, "name"),
    ]
    for body, field in cases:
        response = manager.post("rules", body)
        assert response.status_code == 422, (body, response.status_code, response.content)
        answer = response.json()
        assert field in answer["errors"] and answer["detail"], (body, answer)
    assert not Rule.objects.exists()


def test_a_rule_for_an_inactive_user_is_refused(personas, api_for):
    gone = UserFactory(is_active=False)
    definition = _definition(personas.manager).public_id
    response = api_for(personas.manager).post("rules", {
        "name": "To someone gone", "definition": definition, "trigger": "created", "record_type": "account",
        "assign_to": "user", "assign_user": gone.public_id})
    assert response.status_code == 422 and "assign_user" in response.json()["errors"]


def test_rules_are_written_by_managers_changed_with_their_version_and_deleted_until_they_made_follow_ups(
        personas, api_for):
    definition = _definition(personas.manager)
    body = {"name": "New contacts", "definition": definition.public_id, "trigger": "created",
            "record_type": "contact"}
    for persona in ("owner", "viewer", "outsider", "marketer"):
        assert api_for(getattr(personas, persona)).post("rules", body).status_code == 403
    admin = api_for(personas.admin)
    rule = admin.post("rules", body).json()
    manager = api_for(personas.manager)

    assert api_for(personas.owner).patch(f"rules/{rule['id']}", {"version": 1, "due_in_days": 4}).status_code == 403
    changed = manager.patch(f"rules/{rule['id']}", {"version": 1, "due_in_days": 4, "description": None})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["due_in_days"], changed.json()["version"]) == (4, 2)
    stale = manager.patch(f"rules/{rule['id']}", {"version": 1, "due_in_days": 9})
    assert stale.status_code == 409
    unknown = manager.patch(f"rules/{rule['id']}", {"version": 2, "turn": 9})
    assert unknown.status_code == 422 and "turn" in unknown.json()["errors"]
    assert Rule.objects.get().due_in_days == 4

    used = _event_rule(personas.manager, definition, "Used")
    _follow_up(used, AccountFactory(owner=personas.owner))
    refused = manager.delete(f"rules/{used.public_id}")
    assert refused.status_code == 422 and "rule" in refused.json()["errors"]
    assert api_for(personas.owner).delete(f"rules/{rule['id']}").status_code == 403
    assert manager.delete(f"rules/{rule['id']}?version=1").status_code == 409
    assert manager.delete(f"rules/{rule['id']}?version=2").status_code == 204
    assert list(Rule.objects.values_list("name", flat=True)) == ["Used"]


def test_rule_filters_and_orderings_are_whitelisted(personas, api_for):
    definition = _definition(personas.manager)
    _event_rule(personas.manager, definition, "B active accounts")
    services.rule_save(actor=personas.manager, rule=None, data={
        "name": "A quiet accounts", "definition": definition, "trigger": "inactivity", "record_type": "account",
        "inactivity_of": "order", "days": 30})
    services.rule_save(actor=personas.manager, rule=None, data={
        "name": "C new contacts", "definition": definition, "trigger": "created", "record_type": "contact"})
    api = api_for(personas.owner)

    def names(**params):
        response = api.get("rules", **params)
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["items"]]

    assert names() == ["A quiet accounts", "B active accounts", "C new contacts"]
    assert names(active="true") == ["B active accounts"]
    assert names(active="false") == ["A quiet accounts", "C new contacts"]
    assert names(trigger="inactivity") == ["A quiet accounts"]
    assert names(record_type="contact") == ["C new contacts"]
    assert names(ordering="-name") == ["C new contacts", "B active accounts", "A quiet accounts"]
    first = api.get("rules", limit=2).json()
    assert len(first["items"]) == 2 and first["next"]
    assert [r["name"] for r in api.get("rules", limit=2, cursor=first["next"]).json()["items"]] == ["C new contacts"]
    for params, field in (({"active": "maybe"}, "active"), ({"trigger": "never"}, "trigger"),
                          ({"record_type": "planet"}, "record_type"), ({"ordering": "turn"}, "ordering"),
                          ({"colour": "red"}, "colour"), ({"limit": "0"}, "limit")):
        response = api.get("rules", **params)
        assert response.status_code == 400 and field in response.json()["errors"], params


# --- Rule actions ----------------------------------------------------------------------------------


def test_preview_counts_what_activation_and_a_sweep_then_create(personas, api_for):
    long_ago = timezone.now() - dt.timedelta(days=200)
    quiet = [AccountFactory(owner=personas.owner, visibility="private") for _ in range(3)]
    hidden = AccountFactory(owner=personas.outsider, visibility="private", name="Outsider's secret")
    recent = AccountFactory(owner=personas.owner)
    Account.objects.filter(pk__in=[a.pk for a in [*quiet, hidden]]).update(created_at=long_ago)
    definition = _definition(personas.manager, "Call")
    rule = services.rule_save(actor=personas.manager, rule=None, data={
        "name": "No order in 60 days", "definition": definition, "trigger": "inactivity", "record_type": "account",
        "inactivity_of": "order", "days": 60})
    manager = api_for(personas.manager)

    assert api_for(personas.owner).post(f"rules/{rule.public_id}/preview").status_code == 403
    preview = manager.post(f"rules/{rule.public_id}/preview")
    assert preview.status_code == 200, preview.json()
    answer = preview.json()
    # A rule acts on what its creator may see: the manager of team A's rule counts, and will create, the
    # owner's three quiet accounts, never the outsider's private one.
    assert answer["count"] == 3
    assert {r["id"] for r in answer["records"]} == {a.public_id for a in quiet}
    assert all(r["type"] == "account" and r["name"] for r in answer["records"])
    assert "Outsider's secret" not in preview.content.decode()
    assert recent.public_id not in preview.content.decode()
    assert not FollowUp.objects.exists()  # a preview creates nothing

    activated = manager.post(f"rules/{rule.public_id}/activate", {"version": rule.version})
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    created = services.sweep_rule(Rule.objects.get(pk=rule.pk))
    assert created == answer["count"] == FollowUp.objects.filter(rule=rule).count()
    assert manager.post(f"rules/{rule.public_id}/preview").json() == {"count": 0, "records": []}


def test_activate_and_deactivate_need_a_manager_and_a_fresh_version(personas, api_for):
    definition = _definition(personas.manager)
    rule = services.rule_save(actor=personas.manager, rule=None, data={
        "name": "Welcome", "definition": definition, "trigger": "created", "record_type": "account"})
    url = f"rules/{rule.public_id}"
    assert api_for(personas.owner).post(f"{url}/activate").status_code == 403
    assert api_for(personas.manager).post(f"{url}/activate", {"version": 9}).status_code == 409
    unknown = api_for(personas.manager).post(f"{url}/activate", {"version": 1, "is_active": False})
    assert unknown.status_code == 422 and "is_active" in unknown.json()["errors"]
    assert not Rule.objects.get().is_active
    on = api_for(personas.manager).post(f"{url}/activate")
    assert on.status_code == 200 and on.json()["is_active"] and on.json()["activated_at"]
    off = api_for(personas.admin).post(f"{url}/deactivate", {"version": on.json()["version"]})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert api_for(personas.viewer).post(f"{url}/deactivate").status_code == 403
    services.definition_save(actor=personas.manager, definition=definition, data={"is_active": False},
                             version=definition.version)
    refused = api_for(personas.manager).post(f"{url}/activate")
    assert refused.status_code == 422 and "definition" in refused.json()["errors"]
    assert api_for(personas.manager).post("rules/nosuchrule/activate").status_code == 404
