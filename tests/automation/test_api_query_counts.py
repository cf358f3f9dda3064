"""The automation API's lists run the same number of queries for a short page and a longer one: never a
query per row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.automation import services
from rapport.automation.models import Rule
from rapport.core.models import User
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def _queries(call: Callable[[], object]) -> int:
    call()  # the first call with a token also notes when it was last used
    with CaptureQueriesContext(connection) as captured:
        answer = call()
    assert answer.status_code == 200
    return len(captured.captured_queries)


def _rule(manager, index: int) -> Rule:
    definition = services.definition_save(actor=manager, definition=None, data={
        "name": f"Definition {index}", "contact_message": "Do it."})
    rule = services.rule_save(actor=manager, rule=None, data={
        "name": f"Rule {index}", "definition": definition, "trigger": "created",
        "record_type": "contact" if index % 2 else "account", "assign_to": "owner"})
    return services.rule_activate(actor=manager, rule=rule)


def _follow_ups(rule: Rule, owner: User, count: int) -> None:
    factory = AccountFactory if rule.record_type == "account" else ContactFactory
    records = [factory(owner=owner, visibility="private") for _ in range(count)]
    services.create_follow_ups(rule, [services.Match(r.pk, owner.pk, "created") for r in records])


@pytest.mark.parametrize("persona", ["owner", "manager", "admin"])
def test_the_follow_up_list_costs_the_same_for_2_and_8_rows(personas, api_for, persona):
    api = api_for(getattr(personas, persona))
    accounts, contacts = _rule(personas.manager, 0), _rule(personas.manager, 1)
    _follow_ups(accounts, personas.owner, 1)
    _follow_ups(contacts, personas.owner, 1)
    few = _queries(lambda: api.get("follow-ups"))
    _follow_ups(accounts, personas.owner, 3)
    _follow_ups(contacts, personas.owner, 3)
    services.follow_up_set_stage(actor=personas.owner, follow_up=accounts.follow_ups.first(), status="pending",
                                 note="Waiting")
    assert len(api.get("follow-ups").json()["items"]) == 8
    assert _queries(lambda: api.get("follow-ups")) == few


def test_the_rule_and_definition_lists_cost_the_same_whatever_their_length(personas, api_for):
    api = api_for(personas.owner)
    for index in range(2):
        _follow_ups(_rule(personas.manager, index), personas.owner, 2)
    few = (_queries(lambda: api.get("rules")), _queries(lambda: api.get("task-definitions")))
    for index in range(2, 8):
        _follow_ups(_rule(personas.manager, index), personas.owner, 1)
    assert len(api.get("rules").json()["items"]) == 8
    assert (_queries(lambda: api.get("rules")), _queries(lambda: api.get("task-definitions"))) == few


def test_the_override_list_costs_the_same_whatever_its_length(personas, api_for):
    api = api_for(personas.admin)
    start = dt.date(2027, 1, 1)

    def add(count: int, offset: int) -> None:
        for index in range(offset, offset + count):
            services.override_create(actor=personas.admin, absent=UserFactory(team=personas.owner.team),
                                     starts_on=start + dt.timedelta(days=index), ends_on=start + dt.timedelta(
                                         days=index + 2), to_user=personas.teammate, note=f"Leave {index}")

    add(2, 0)
    few = _queries(lambda: api.get("overrides"))
    add(6, 2)
    assert len(api.get("overrides").json()["items"]) == 8
    assert _queries(lambda: api.get("overrides")) == few
