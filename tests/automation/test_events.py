"""Event rules: a record created, a field changed to a value; their conditions; they run after the
change commits, and a deactivated rule creates nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from rapport.automation import services
from rapport.automation.models import FollowUp
from rapport.directory.services import account_create, account_update, contact_create
from rapport.mail.models import OutboxMessage
from rapport.sales.services import opportunity_create, order_create
from rapport.support.services import support_item_create
from tests.automation import IMMEDIATE_TASKS, build_office, follow_ups, rule, today
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(settings):
    settings.TASKS = IMMEDIATE_TASKS
    return build_office()


# --- The seed examples -----------------------------------------------------------------------------


def test_a_new_customer_alerts_sales_support_in_turn_to_send_a_welcome_package(
        office, django_capture_on_commit_callbacks):
    welcome = services.definition_save(actor=office.manager, definition=None, data={
        "name": "Welcome package", "contact_message": "Send the welcome package.",
        "pending_message": "Waiting for the courier.", "complete_message": "Package delivered."})
    new_customer = rule(office.manager, name="New customer", definition=welcome, trigger="created",
                        record_type="account", assign_to="team", assign_team=office.support_team, due_in_days=2)
    made = []
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            made.append(account_create(actor=office.seller, data={"name": f"Fresh Customer {n}"}))
    found = follow_ups(new_customer)
    assert [fu.record_id for fu in found] == [a.pk for a in made]
    assert [fu.assignee for fu in found] == office.helpers * 2  # in turn, in a stable order
    for fu in found:
        assert fu.period == "created"
        assert fu.task.owner == fu.assignee and fu.task.is_task and fu.task.status == "open"
        assert fu.task.description == "Send the welcome package."
        assert fu.task.due_on == today() + dt.timedelta(days=2)
        assert fu.task.subject.startswith("Welcome package: Fresh Customer")


def test_the_welcome_package_rule_with_an_email_alert_queues_a_message_to_the_chosen_helper(
        office, django_capture_on_commit_callbacks):
    new_customer = rule(office.manager, name="New customer", trigger="created", record_type="account",
                        assign_to="team", assign_team=office.support_team, alert_email=True)
    with django_capture_on_commit_callbacks(execute=True):
        account_create(actor=office.seller, data={"name": "Fresh Customer"})
    [fu] = follow_ups(new_customer)
    [message] = OutboxMessage.objects.filter(kind="follow_up")
    assert message.to == [fu.assignee.email]
    assert fu.public_id in message.body and "Fresh Customer" in message.subject


def test_nothing_runs_before_the_change_commits(office, django_capture_on_commit_callbacks):
    created = rule(office.manager, trigger="created", record_type="account")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        account_create(actor=office.seller, data={"name": "Not yet"})
    assert not FollowUp.objects.exists() and len(callbacks) >= 1
    for callback in callbacks:
        callback()
    assert len(follow_ups(created)) == 1


# --- Created, for each watched record type -----------------------------------------------------------


def make(record_type: str, office):
    actor, account = office.seller, office.accounts[0]
    if record_type == "account":
        return account_create(actor=actor, data={"name": "New one"})
    if record_type == "contact":
        return contact_create(actor=actor, data={"first_name": "Ada", "last_name": "Lovelace", "account": account})
    if record_type == "order":
        return order_create(actor=actor, data={"account": account, "amount": "10"})
    if record_type == "opportunity":
        return opportunity_create(actor=actor, data={"name": "Deal", "account": account})
    return support_item_create(actor=actor, data={"subject": "Broken", "account": account})


@pytest.mark.parametrize("record_type", ["account", "contact", "order", "opportunity", "support_item"])
def test_a_created_rule_follows_up_each_kind_of_record_for_its_owner(
        office, django_capture_on_commit_callbacks, record_type):
    created = rule(office.manager, trigger="created", record_type=record_type)
    other = "order" if record_type != "order" else "contact"
    rule(office.manager, trigger="created", record_type=other, name="Other type")
    with django_capture_on_commit_callbacks(execute=True):
        record = make(record_type, office)
    [fu] = follow_ups(created)
    assert (fu.record_type, fu.record_id, fu.assignee, fu.period) == (record_type, record.pk, office.seller, "created")
    link = fu.task.links.get()
    assert (link.record_type, link.record_id) == (record_type, record.pk)
    assert not FollowUp.objects.exclude(rule=created).exists()


def test_a_deactivated_rule_creates_nothing(office, django_capture_on_commit_callbacks):
    created = rule(office.manager, trigger="created", record_type="account")
    services.rule_activate(actor=office.manager, rule=created, active=False)
    never = rule(office.manager, trigger="created", record_type="account", name="Never on", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        account_create(actor=office.seller, data={"name": "Quiet"})
    assert not FollowUp.objects.filter(rule__in=[created, never]).exists()


def test_an_event_handled_twice_creates_one_follow_up(office, django_capture_on_commit_callbacks):
    created = rule(office.manager, trigger="created", record_type="account")
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(actor=office.seller, data={"name": "Twice"})
    assert services.run_event_rules("account", account.pk, "created", [], account.version) == 0
    assert len(follow_ups(created)) == 1


# --- Changed to a value ------------------------------------------------------------------------------


def test_an_account_becoming_declining_is_followed_up_each_time_it_does(office, django_capture_on_commit_callbacks):
    declining = rule(office.manager, trigger="changed", record_type="account", field="stage", value="declining")
    account = office.accounts[0]
    with django_capture_on_commit_callbacks(execute=True):
        account = account_update(actor=office.seller, account=account, data={"stage": "mature"},
                                 version=account.version)
    assert follow_ups(declining) == []
    with django_capture_on_commit_callbacks(execute=True):
        account = account_update(actor=office.seller, account=account, data={"stage": "declining"},
                                 version=account.version)
    [first] = follow_ups(declining)
    assert (first.record_id, first.period, first.assignee) == (account.pk, f"changed:v{account.version}",
                                                                office.seller)
    with django_capture_on_commit_callbacks(execute=True):  # another field: not a new change to declining
        account = account_update(actor=office.seller, account=account, data={"phone": "+49 30 1"},
                                 version=account.version)
    with django_capture_on_commit_callbacks(execute=True):
        account = account_update(actor=office.seller, account=account, data={"stage": "growing"},
                                 version=account.version)
    assert len(follow_ups(declining)) == 1
    with django_capture_on_commit_callbacks(execute=True):  # through the remarks, this time
        account = account_update(actor=office.seller, account=account,
                                 data={"remarks": "region=north\nstage=declining"}, version=account.version)
    assert account.stage == "declining"
    found = follow_ups(declining)
    assert [fu.period for fu in found] == [first.period, f"changed:v{account.version}"]


def test_a_change_on_another_record_type_or_field_creates_nothing(office, django_capture_on_commit_callbacks):
    declining = rule(office.manager, trigger="changed", record_type="account", field="stage", value="declining")
    account = office.accounts[0]
    with django_capture_on_commit_callbacks(execute=True):
        account_update(actor=office.seller, account=account, data={"industry": "declining"},
                       version=account.version)
    with django_capture_on_commit_callbacks(execute=True):
        account_create(actor=office.seller, data={"name": "Born declining", "stage": "declining"})
    assert follow_ups(declining) == []


# --- Conditions ----------------------------------------------------------------------------------------


def created_for(office, django_capture_on_commit_callbacks, condition, accounts):
    """Make a created-rule with `condition`, create accounts from (actor, data) pairs; the names followed up."""
    created = rule(office.manager, trigger="created", record_type="account", condition=condition)
    for actor, data in accounts:
        with django_capture_on_commit_callbacks(execute=True):
            account_create(actor=actor, data=data)
    return sorted(fu.task.subject.split(": ", 1)[1] for fu in follow_ups(created))


def test_a_condition_on_fields(office, django_capture_on_commit_callbacks):
    assert created_for(office, django_capture_on_commit_callbacks, {"fields": {"industry": "Retail"}}, [
        (office.seller, {"name": "Shop", "industry": "Retail"}),
        (office.seller, {"name": "Mill", "industry": "Steel"}),
    ]) == ["Shop"]


def test_a_condition_on_attributes_from_the_remarks(office, django_capture_on_commit_callbacks):
    assert created_for(office, django_capture_on_commit_callbacks, {"attributes": {"region": "north"}}, [
        (office.seller, {"name": "Northern", "remarks": "Big one.\nregion=north"}),
        (office.seller, {"name": "Southern", "remarks": "region=south"}),
        (office.seller, {"name": "Plain"}),
    ]) == ["Northern"]


def test_a_condition_on_the_stage(office, django_capture_on_commit_callbacks):
    assert created_for(office, django_capture_on_commit_callbacks, {"stage": "mature"}, [
        (office.seller, {"name": "Old hand", "stage": "mature"}),
        (office.seller, {"name": "Newcomer", "stage": "growing"}),
    ]) == ["Old hand"]


def test_a_condition_on_the_stage_of_a_contacts_account(office, django_capture_on_commit_callbacks):
    mature = AccountFactory(owner=office.seller, stage="mature")
    created = rule(office.manager, trigger="created", record_type="contact", condition={"stage": "mature"})
    with django_capture_on_commit_callbacks(execute=True):
        yes = contact_create(actor=office.seller, data={"first_name": "A", "last_name": "Yes", "account": mature})
        contact_create(actor=office.seller, data={"first_name": "B", "last_name": "No", "account": office.accounts[0]})
    assert [fu.record_id for fu in follow_ups(created)] == [yes.pk]


def test_a_condition_on_the_owners_team(office, django_capture_on_commit_callbacks):
    assert created_for(office, django_capture_on_commit_callbacks, {"owner_team": office.sales_team.public_id}, [
        (office.seller, {"name": "Sold by sales"}),
        (office.helpers[0], {"name": "Opened by support"}),
    ]) == ["Sold by sales"]


def test_conditions_combine(office, django_capture_on_commit_callbacks):
    assert created_for(office, django_capture_on_commit_callbacks,
                       {"stage": "mature", "attributes": {"region": "north"}, "fields": {"industry": "Retail"}}, [
        (office.seller, {"name": "All three", "stage": "mature", "industry": "Retail", "remarks": "region=north"}),
        (office.seller, {"name": "Two", "stage": "mature", "industry": "Retail", "remarks": "region=south"}),
        (office.seller, {"name": "One", "stage": "growing", "industry": "Retail"}),
    ]) == ["All three"]
