"""The automation pages as their users use them: task definitions, rules with their preview and
activation, a follow-up set Pending and Completed, the status dashboard, and overrides."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.automation import services
from rapport.automation.models import FollowUp, Override, Rule, TaskDefinition
from rapport.directory.services import account_create
from rapport.sales.services import order_create
from tests.conftest import client_for
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    manager = UserFactory(role_slugs="manager", username="boss")
    team = TeamFactory(name="Sales East", manager=manager)
    seller = UserFactory(team=team, role_slugs="sales", username="seller", first_name="Sam", last_name="Seller")
    colleague = UserFactory(team=team, role_slugs="sales", username="colleague", first_name="Cleo",
                            last_name="Colleague")
    outsider = UserFactory(team=TeamFactory(name="Sales West"), role_slugs="sales", username="outsider")
    admin = UserFactory(role_slugs="admin", username="root")
    return {"manager": manager, "team": team, "seller": seller, "colleague": colleague, "outsider": outsider,
            "admin": admin}


def _definition(manager, name="Call", **extra) -> TaskDefinition:
    return services.definition_save(actor=manager, definition=None, data={
        "name": name, "contact_message": "Call the customer about their next order.",
        "pending_message": "Waiting for them to call back.", "complete_message": "They ordered.",
        "instructions": "Ask about the spring catalogue.", **extra})


def _quiet_rule(manager, definition) -> Rule:
    return services.rule_save(actor=manager, rule=None, data={
        "name": "No order in 60 days", "definition": definition, "trigger": "inactivity", "record_type": "account",
        "inactivity_of": "order", "days": 60, "assign_to": "owner"})


def _quiet_accounts(owner, n: int) -> list:
    accounts = []
    for i in range(n):
        account = account_create(actor=owner, data={"name": f"Quiet {i:02d}"})
        order_create(actor=owner, data={"account": account, "amount": "10",
                                        "ordered_on": timezone.localdate() - dt.timedelta(days=90)})
        accounts.append(account)
    return accounts


# --- Who may set up automation ------------------------------------------------------------------------


def test_sales_users_get_403_on_the_set_up_pages_and_see_no_settings_link(people):
    definition = _definition(people["manager"])
    rule = _quiet_rule(people["manager"], definition)
    client = client_for(people["seller"])
    for name, args in (("definition_list", []), ("definition_new", []), ("definition_edit", [definition.public_id]),
                       ("rule_list", []), ("rule_new", []), ("rule_detail", [rule.public_id]),
                       ("rule_edit", [rule.public_id]), ("rule_preview", [rule.public_id]),
                       ("override_list", []), ("override_new", [])):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    for name in ("rule_activate", "rule_delete"):
        assert client.post(reverse(name, args=[rule.public_id])).status_code == 403
    assert not Rule.objects.get(pk=rule.pk).is_active
    settings_page = client.get(reverse("settings_index")).content.decode()
    assert reverse("rule_list") not in settings_page
    manager_settings = client_for(people["manager"]).get(reverse("settings_index")).content.decode()
    assert reverse("rule_list") in manager_settings
    # Everyone has follow-ups: the dashboard is in the main navigation.
    assert reverse("follow_up_dashboard") in settings_page


# --- Task definitions --------------------------------------------------------------------------------


def test_a_manager_creates_edits_and_deletes_a_task_definition(people):
    client = client_for(people["manager"])
    response = client.post(reverse("definition_new"), {
        "name": "Welcome package", "contact_message": "Send the welcome package.", "pending_message": "",
        "complete_message": "Delivered.", "instructions": "Use the blue box.", "is_active": "on"})
    assert response.status_code == 302
    definition = TaskDefinition.objects.get(name="Welcome package")
    assert f"{definition.public_id}/\">Welcome package<" in client.get(reverse("definition_list")).content.decode()
    page = client.get(reverse("definition_edit", args=[definition.public_id])).content.decode()
    assert 'name="version" value="1"' in page
    response = client.post(reverse("definition_edit", args=[definition.public_id]), {
        "name": "Welcome package", "contact_message": "Send the welcome package today.", "is_active": "on",
        "version": "1"})
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.contact_message, definition.version) == ("Send the welcome package today.", 2)
    response = client.post(reverse("definition_delete", args=[definition.public_id]))
    assert response.status_code == 302 and not TaskDefinition.objects.exists()


def test_a_definition_form_with_mistakes_shows_them_per_field_and_saves_nothing(people):
    client = client_for(people["manager"])
    _definition(people["manager"], name="Taken")
    response = client.post(reverse("definition_new"), {"name": "Taken", "contact_message": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert "contact_message" in form.errors
    response = client.post(reverse("definition_new"), {"name": "Taken", "contact_message": "Hello"})
    assert response.status_code == 400 and "name" in response.context["form"].errors
    assert TaskDefinition.objects.count() == 1


def test_saving_a_definition_someone_changed_meanwhile_shows_the_conflict(people):
    definition = _definition(people["manager"])
    services.definition_save(actor=people["admin"], definition=definition, data={"contact_message": "Theirs"},
                             version=1)
    client = client_for(people["manager"])
    response = client.post(reverse("definition_edit", args=[definition.public_id]), {
        "name": "Call", "contact_message": "Mine", "is_active": "on", "version": "1"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Saved meanwhile by someone else" in page and "Theirs" in page and "Mine" in page
    assert 'name="version" value="2"' in page  # saving again is deliberate
    definition.refresh_from_db()
    assert definition.contact_message == "Theirs"
    response = client.post(reverse("definition_edit", args=[definition.public_id]), {
        "name": "Call", "contact_message": "Mine", "is_active": "on", "version": "2"})
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.contact_message == "Mine"


def test_a_definition_rules_use_cannot_be_deleted(people):
    definition = _definition(people["manager"])
    _quiet_rule(people["manager"], definition)
    client = client_for(people["manager"])
    response = client.post(reverse("definition_delete", args=[definition.public_id]), follow=True)
    assert "Rules use this definition" in response.content.decode()
    assert TaskDefinition.objects.filter(pk=definition.pk).exists()


# --- Rules -------------------------------------------------------------------------------------------


def _rule_post(definition, /, **extra) -> dict:
    data = {"name": "Declining accounts", "description": "", "definition": definition.public_id,
            "trigger": "changed", "record_type": "account", "field": "stage", "value": "declining", "days": "",
            "inactivity_of": "", "activity_kind": "", "rrule": "", "starts_on": "", "time_zone": "UTC",
            "condition_fields": "", "condition_attributes": "", "condition_stage": "",
            "condition_owner_team": "", "due_in_days": "2", "assign_to": "owner", "assign_user": "",
            "assign_team": "", "assign_role": ""}
    data.update(extra)
    return data


def test_a_manager_creates_a_rule_with_a_condition_and_sees_it_in_words(people):
    definition = _definition(people["manager"])
    client = client_for(people["manager"])
    response = client.post(reverse("rule_new"), _rule_post(
        definition, condition_fields="industry=Tools", condition_attributes="region = north\n",
        condition_owner_team=people["team"].public_id, assign_to="user",
        assign_user=people["colleague"].public_id, assign_team=people["team"].public_id))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    rule = Rule.objects.get()
    assert rule.condition == {"fields": {"industry": "Tools"}, "attributes": {"region": "north"},
                              "owner_team": people["team"].public_id}
    # Only the chosen assignee is kept.
    assert (rule.assign_user, rule.assign_team, rule.is_active) == (people["colleague"], None, False)
    assert response["Location"] == reverse("rule_detail", args=[rule.public_id])
    listing = client.get(reverse("rule_list")).content.decode()
    assert "A account&#x27;s stage changes to declining" in listing or "stage changes to declining" in listing
    detail = client.get(reverse("rule_detail", args=[rule.public_id])).content.decode()
    assert "industry = Tools" in detail and "region=north" in detail and "owner in Sales East" in detail
    # The edit form shows the condition as it was typed.
    edit = client.get(reverse("rule_edit", args=[rule.public_id])).content.decode()
    assert "industry=Tools" in edit and "region=north" in edit


def test_rule_mistakes_are_shown_at_their_fields_and_nothing_is_saved(people):
    definition = _definition(people["manager"])
    client = client_for(people["manager"])
    cases = [
        ({"field": "colour"}, "field"),
        ({"value": "sleepy"}, "value"),
        ({"trigger": "inactivity", "days": "-3", "inactivity_of": "order"}, "days"),
        ({"trigger": "recurrence", "rrule": "FREQ=SOMETIMES", "starts_on": "2026-01-05"}, "rrule"),
        ({"trigger": "recurrence", "rrule": "FREQ=WEEKLY", "starts_on": ""}, "starts_on"),
        ({"trigger": "date", "field": "name", "days": "3"}, "field"),
        ({"definition": ""}, "definition"),
        ({"assign_to": "user", "assign_user": ""}, "assign_user"),
        ({"condition_fields": "no equals sign"}, "condition_fields"),
        ({"condition_fields": "colour=red"}, "condition"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ]
    for change, field in cases:
        response = client.post(reverse("rule_new"), _rule_post(definition, **change))
        assert response.status_code == 400, change
        errors = response.context["form"].errors
        assert field in errors, (change, errors)
        assert 'class="error"' in response.content.decode() or 'role="alert"' in response.content.decode()
    assert not Rule.objects.exists()


def test_a_rule_saved_meanwhile_answers_409(people):
    definition = _definition(people["manager"])
    rule = _quiet_rule(people["manager"], definition)
    services.rule_save(actor=people["admin"], rule=rule, data={"description": "theirs"}, version=1)
    response = client_for(people["manager"]).post(reverse("rule_edit", args=[rule.public_id]), _rule_post(
        definition, name=rule.name, trigger="inactivity", inactivity_of="order", days="30", version="1"))
    assert response.status_code == 409
    assert Rule.objects.get(pk=rule.pk).days == 60


def test_the_preview_count_equals_what_activation_then_creates(people):
    manager, seller = people["manager"], people["seller"]
    accounts = _quiet_accounts(seller, 23)
    account_create(actor=seller, data={"name": "Busy"})  # created today: not quiet
    rule = _quiet_rule(manager, _definition(manager))
    client = client_for(manager)
    preview = client.get(reverse("rule_preview", args=[rule.public_id]))
    page = preview.content.decode()
    assert "23 follow-ups" in page
    shown = re.findall(r'href="/accounts/([a-z2-7]{16})/"', page)
    assert len(shown) == 20 and set(shown) <= {a.public_id for a in accounts}
    assert "The first 20 are shown." in page
    # The htmx fragment on the rule page carries the same.
    fragment = client.get(reverse("rule_preview", args=[rule.public_id]), HTTP_HX_REQUEST="true")
    assert "23 follow-ups" in fragment.content.decode() and "<html" not in fragment.content.decode()

    assert client.post(reverse("rule_activate", args=[rule.public_id])).status_code == 302
    rule.refresh_from_db()
    assert rule.is_active
    assert services.sweep_rule(rule) == 23
    assert FollowUp.objects.filter(rule=rule).count() == 23
    assert "0 follow-ups" in client.get(reverse("rule_preview", args=[rule.public_id])).content.decode()

    assert client.post(reverse("rule_deactivate", args=[rule.public_id])).status_code == 302
    rule.refresh_from_db()
    assert not rule.is_active
    _quiet_accounts(seller, 1)
    assert services.sweep_rule(rule) == 0  # a deactivated rule creates nothing

    # It made follow-ups: deleting is refused with the service's reason.
    response = client.post(reverse("rule_delete", args=[rule.public_id]), follow=True)
    assert "deactivate it instead" in response.content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_an_event_rule_previews_nothing_and_an_unused_rule_is_deleted(people):
    manager = people["manager"]
    definition = _definition(manager)
    client = client_for(manager)
    client.post(reverse("rule_new"), _rule_post(definition))
    rule = Rule.objects.get()
    page = client.get(reverse("rule_preview", args=[rule.public_id])).content.decode()
    assert "waits for events" in page
    response = client.post(reverse("rule_delete", args=[rule.public_id]))
    assert response.status_code == 302 and not Rule.objects.exists()


def test_activating_a_rule_whose_definition_is_withdrawn_is_refused_with_the_reason(people):
    manager = people["manager"]
    definition = _definition(manager)
    rule = _quiet_rule(manager, definition)
    services.definition_save(actor=manager, definition=definition, data={"is_active": False}, version=1)
    response = client_for(manager).post(reverse("rule_activate", args=[rule.public_id]), follow=True)
    assert "no longer in use" in response.content.decode()
    assert not Rule.objects.get(pk=rule.pk).is_active


# --- Follow-ups --------------------------------------------------------------------------------------


@pytest.fixture
def follow_up(people):
    manager, seller = people["manager"], people["seller"]
    [account] = _quiet_accounts(seller, 1)
    rule = _quiet_rule(manager, _definition(manager))
    services.rule_activate(actor=manager, rule=rule)
    services.sweep_rule(rule)
    return FollowUp.objects.select_related("task").get(record_id=account.pk)


def test_the_follow_up_page_shows_the_instructions_the_stage_message_and_the_record(people, follow_up):
    client = client_for(people["seller"])
    page = client.get(reverse("follow_up_detail", args=[follow_up.public_id])).content.decode()
    assert "Ask about the spring catalogue." in page
    assert "Call the customer about their next order." in page
    assert "Quiet 00" in page and 'href="/accounts/' in page
    assert "No order in 60 days" in page and "Sam Seller" in page
    assert 'value="pending"' in page and 'value="completed"' in page


def test_my_current_tasks_and_the_task_page_lead_to_the_follow_up(people, follow_up):
    client = client_for(people["seller"])
    url = reverse("follow_up_detail", args=[follow_up.public_id])
    assert url in client.get(reverse("my_home")).content.decode()
    assert url in client.get(reverse("activity_detail", args=[follow_up.task.public_id])).content.decode()


def test_pending_needs_a_note_then_completed_and_the_dashboard_counts_change(people, follow_up):
    client = client_for(people["seller"])
    url = reverse("follow_up_detail", args=[follow_up.public_id])
    dashboard = client.get(reverse("follow_up_dashboard"))
    assert [(row["user"], row["open"], row["closed"]) for row in dashboard.context["board"].by_user] == [
        (people["seller"], 1, 0)]

    response = client.post(url, {"status": "pending", "note": "  ", "version": follow_up.task.version})
    assert response.status_code == 400 and "note" in response.context["form"].errors
    follow_up.task.refresh_from_db()
    assert follow_up.task.status == "open"

    response = client.post(url, {"status": "pending", "note": "They call back on Monday.",
                                 "version": follow_up.task.version})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Waiting for them to call back." in page and "They call back on Monday." in page

    follow_up.task.refresh_from_db()
    response = client.post(url, {"status": "completed", "note": "", "version": follow_up.task.version})
    assert response.status_code == 302
    assert "They ordered." in client.get(url).content.decode()
    board = client.get(reverse("follow_up_dashboard")).context["board"]
    assert [(row["user"], row["open"], row["closed"]) for row in board.by_user] == [(people["seller"], 0, 1)]
    assert [(row["name"], row["open"], row["closed"]) for row in board.by_rule] == [("No order in 60 days", 0, 1)]


def test_a_stale_version_shows_the_conflict(people, follow_up):
    response = client_for(people["seller"]).post(
        reverse("follow_up_detail", args=[follow_up.public_id]),
        {"status": "completed", "note": "", "version": follow_up.task.version + 3})
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()


def test_who_sees_and_who_sets_a_follow_up(people, follow_up):
    url = reverse("follow_up_detail", args=[follow_up.public_id])
    assert client_for(people["outsider"]).get(url).status_code == 404
    teammate = client_for(people["colleague"])
    page = teammate.get(url)
    assert page.status_code == 200 and 'value="completed"' not in page.content.decode()
    assert teammate.post(url, {"status": "completed", "version": follow_up.task.version}).status_code == 403
    # The manager may change the task of a member of the team.
    assert client_for(people["manager"]).post(url, {"status": "completed", "version": follow_up.task.version}
                                              ).status_code == 302


# --- The dashboard -----------------------------------------------------------------------------------


def test_the_dashboard_shows_own_team_or_everyone_and_filters_by_date(people):
    manager, seller, colleague, outsider = (people[k] for k in ("manager", "seller", "colleague", "outsider"))
    _quiet_accounts(seller, 2)
    _quiet_accounts(colleague, 1)
    _quiet_accounts(outsider, 3)
    rule = _quiet_rule(manager, _definition(manager))
    services.rule_activate(actor=manager, rule=rule)
    services.sweep_rule(rule)

    def counts(user, **query):
        response = client_for(user).get(reverse("follow_up_dashboard"), query)
        assert response.status_code == 200
        return {row["user"].username: (row["open"], row["closed"]) for row in response.context["board"].by_user}

    assert counts(seller) == {"seller": (2, 0)}
    assert counts(manager) == {"seller": (2, 0), "colleague": (1, 0)}
    assert counts(people["admin"]) == {"seller": (2, 0), "colleague": (1, 0), "outsider": (3, 0)}
    today = timezone.localdate()
    assert counts(people["admin"], created_from=str(today + dt.timedelta(days=1))) == {}
    assert counts(people["admin"], created_from=str(today), created_to=str(today))["outsider"] == (3, 0)
    response = client_for(seller).get(reverse("follow_up_dashboard"),
                                      {"created_from": "2026-05-02", "created_to": "2026-05-01"})
    assert response.status_code == 400 and "created_to" in response.context["form"].errors


def test_the_dashboard_counts_a_day_in_the_viewers_time_zone(people):
    """For a viewer in Berlin, a follow-up made at 23:30 Berlin time (21:30 UTC) counts on that day, and one made
    at 00:30 the next day (22:30 UTC, still the first day in UTC) on the next."""
    people["admin"].time_zone = "Europe/Berlin"
    people["admin"].save(update_fields=["time_zone"])
    manager = people["manager"]
    _quiet_accounts(manager, 2)
    rule = _quiet_rule(manager, _definition(manager))
    services.rule_activate(actor=manager, rule=rule)
    services.sweep_rule(rule)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    late, early = FollowUp.objects.order_by("pk")[:2]
    FollowUp.objects.filter(pk=late.pk).update(created_at=dt.datetime(2026, 5, 1, 23, 30, tzinfo=berlin))
    FollowUp.objects.filter(pk=early.pk).update(created_at=dt.datetime(2026, 5, 2, 0, 30, tzinfo=berlin))

    def total(**query):
        response = client_for(people["admin"]).get(reverse("follow_up_dashboard"), query)
        assert response.status_code == 200
        return response.context["board"].total_open

    assert total(created_from="2026-05-01", created_to="2026-05-01") == 1
    assert total(created_from="2026-05-02", created_to="2026-05-02") == 1
    assert total(created_from="2026-05-01", created_to="2026-05-02") == 2
    assert total(created_from="2026-04-30", created_to="2026-04-30") == 0


def test_the_dashboard_counts_in_a_fixed_number_of_queries(people, django_assert_max_num_queries):
    manager = people["manager"]
    rule = _quiet_rule(manager, _definition(manager))
    services.rule_activate(actor=manager, rule=rule)
    for user in (people["seller"], people["colleague"]):
        _quiet_accounts(user, 3)
    services.sweep_rule(rule)
    client = client_for(people["admin"])
    client.get(reverse("follow_up_dashboard"))
    with django_assert_max_num_queries(12):
        client.get(reverse("follow_up_dashboard"))


# --- Overrides ---------------------------------------------------------------------------------------


def test_a_manager_reroutes_an_absent_users_follow_ups_and_reverts_it(people, follow_up):
    client = client_for(people["manager"])
    today = timezone.localdate()
    form = client.get(reverse("override_new")).content.decode()
    assert people["seller"].public_id in form and people["outsider"].public_id not in form.split(
        'name="to_user"')[0]  # only the manager's members may be chosen as absent
    response = client.post(reverse("override_new"), {
        "absent": people["seller"].public_id, "starts_on": str(today), "ends_on": str(today + dt.timedelta(days=5)),
        "to_user": people["colleague"].public_id, "to_team": "", "note": "Out sick"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.assignee, follow_up.rerouted_from) == (people["colleague"], people["seller"])
    listing = client.get(reverse("override_list")).content.decode()
    assert "1 follow-up moved" in listing and "Out sick" in listing
    page = client_for(people["colleague"]).get(reverse("follow_up_detail", args=[follow_up.public_id]))
    assert "by an override" in page.content.decode()

    override = Override.objects.get()
    assert client.post(reverse("override_revert", args=[override.public_id])).status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.assignee, follow_up.rerouted_from) == (people["seller"], None)
    assert "reverted" in client.get(reverse("override_list")).content.decode()
    response = client.post(reverse("override_revert", args=[override.public_id]), follow=True)
    assert "reverted already" in response.content.decode()


def test_override_mistakes_are_shown_per_field_and_nothing_is_saved(people):
    client = client_for(people["manager"])
    base = {"absent": people["seller"].public_id, "starts_on": "2030-01-10", "ends_on": "2030-01-20",
            "to_user": people["colleague"].public_id, "to_team": "", "note": ""}
    for change, field in (({"ends_on": "2030-01-01"}, "ends_on"), ({"to_user": ""}, "to_user"),
                          ({"to_user": people["seller"].public_id}, "to_user"),
                          ({"absent": people["outsider"].public_id}, "absent")):
        response = client.post(reverse("override_new"), {**base, **change})
        assert response.status_code == 400, change
        assert field in response.context["form"].errors, (change, response.context["form"].errors)
    assert not Override.objects.exists()
