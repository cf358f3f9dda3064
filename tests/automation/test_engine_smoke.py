"""The two examples of the product documents, end to end through the engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rapport.automation import services
from rapport.automation.models import FollowUp, TaskDefinition
from rapport.directory.services import account_create
from rapport.sales.services import order_create
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_customer_alerts_sales_support_and_no_order_in_sixty_days_asks_for_a_call(
        django_capture_on_commit_callbacks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    manager = UserFactory(role_slugs="manager")
    team = TeamFactory(name="Sales support", manager=manager)
    helper = UserFactory(team=team, role_slugs="support", email="helper@example.com")
    seller = UserFactory(team=team, role_slugs="sales")
    welcome = services.definition_save(actor=manager, definition=None, data={
        "name": "Welcome package", "contact_message": "Send the welcome package.",
        "pending_message": "Waiting for the courier.", "complete_message": "Package delivered."})
    call = services.definition_save(actor=manager, definition=None, data={
        "name": "Call", "contact_message": "Call the customer about their next order."})
    new_customer = services.rule_save(actor=manager, rule=None, data={
        "name": "New customer", "definition": welcome, "trigger": "created", "record_type": "account",
        "assign_to": "user", "assign_user": helper, "due_in_days": 3})
    services.rule_activate(actor=manager, rule=new_customer)
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(actor=seller, data={"name": "Fresh Customer"})
    [follow_up] = FollowUp.objects.filter(rule=new_customer)
    assert (follow_up.assignee, follow_up.record_id) == (helper, account.pk)
    assert follow_up.task.due_on == timezone.localdate() + dt.timedelta(days=3)

    quiet = services.rule_save(actor=manager, rule=None, data={
        "name": "No order in 60 days", "definition": call, "trigger": "inactivity", "record_type": "account",
        "inactivity_of": "order", "days": 60, "assign_to": "owner"})
    order_create(actor=seller, data={"account": account, "amount": "10", "ordered_on": dt.date(2026, 1, 5)})
    preview = services.rule_preview(actor=manager, rule=quiet, today=dt.date(2026, 3, 10))
    assert preview.count == 1 and preview.records[0].pk == account.pk
    services.rule_activate(actor=manager, rule=quiet)
    assert services.sweep_rule(quiet, today=dt.date(2026, 3, 10)) == 1
    assert services.sweep_rule(quiet, today=dt.date(2026, 3, 11)) == 0
    assert FollowUp.objects.get(rule=quiet).assignee == seller
    assert TaskDefinition.objects.count() == 2
