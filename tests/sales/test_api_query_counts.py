"""The sales API's lists run the same number of queries for a short page and a longer one: never a
query per row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.activities.models import ActivityKind
from rapport.sales import services
from rapport.sales.models import CommunicationType
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _add(personas, kind: str, count: int) -> None:
    owner = personas.owner
    for index in range(count):
        account = AccountFactory(owner=owner)
        contact = ContactFactory(owner=owner, account=account)
        if kind == "leads":
            services.lead_create(actor=owner, data={"last_name": f"L{index}", "account": account, "contact": contact})
        elif kind == "opportunities":
            services.opportunity_create(actor=owner, data={"name": f"D{index}", "account": account},
                                        contacts=[(contact, "Buyer")])
        elif kind == "orders":
            services.order_create(actor=owner, data={"account": account}, lines=[
                {"product": "A", "quantity": "1", "unit_price": "2"},
                {"product": "B", "quantity": "2", "unit_price": "3"}])
        else:
            start = dt.datetime(2031, 1, 1 + index, 9, tzinfo=dt.UTC)
            services.communication_register(
                actor=owner, account=account, contact=contact,
                communication_type=CommunicationType.objects.filter(parent__isnull=False)[index % 5],
                data={"activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"),
                      "starts_at": start, "ends_at": start + dt.timedelta(hours=1)})


def _queries(call: Callable[[], object]) -> int:
    call()  # the first call with a token also notes when it was last used
    with CaptureQueriesContext(connection) as captured:
        answer = call()
    assert answer.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("resource", ["leads", "opportunities", "orders", "communications"])
def test_a_list_costs_the_same_for_2_and_8_rows(personas, api_for, resource):
    api = api_for(personas.owner)
    _add(personas, resource, 2)
    few = _queries(lambda: api.get(resource))
    _add(personas, resource, 6)
    assert len(api.get(resource).json()["items"]) == 8
    assert _queries(lambda: api.get(resource)) == few


def test_the_workflow_and_stage_lists_cost_the_same_whatever_their_length(personas, api_for):
    api = api_for(personas.owner)
    assert _queries(lambda: api.get("workflow-definitions", limit=1)) == \
        _queries(lambda: api.get("workflow-definitions", limit=4))
    assert _queries(lambda: api.get("pipeline-stages", limit=1)) == _queries(lambda: api.get("pipeline-stages"))
