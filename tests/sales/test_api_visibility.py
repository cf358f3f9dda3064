"""The lead, opportunity, order and communication lists of the API carry exactly what the user may
see, expected from the rules of tests/permissions/rules.py alone (as the permission matrix's list test
does for accounts, contacts and activities), and never the name of a linked record they may not see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rapport.activities.models import ActivityKind
from rapport.sales import services
from rapport.sales.models import CommunicationType
from tests.factories import AccountFactory
from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

pytestmark = pytest.mark.django_db

LINKED = "Acct-outsider-private"


def _lead(admin: Any, owner: Any, label: str, visibility: str, linked: Any) -> tuple[Any, str]:
    lead = services.lead_create(actor=admin, data={"last_name": label, "owner": owner, "visibility": visibility,
                                                   "account": linked})
    return lead, lead.last_name


def _opportunity(admin: Any, owner: Any, label: str, visibility: str, linked: Any) -> tuple[Any, str]:
    deal = services.opportunity_create(actor=admin, data={"name": label, "owner": owner, "visibility": visibility,
                                                          "account": linked, "amount": "10"})
    return deal, deal.name


def _order(admin: Any, owner: Any, label: str, visibility: str, linked: Any) -> tuple[Any, str]:
    order = services.order_create(actor=admin, data={"number": label, "owner": owner, "visibility": visibility,
                                                     "account": linked, "amount": "10"})
    return order, order.number


def _communication(admin: Any, owner: Any, label: str, visibility: str, linked: Any) -> tuple[Any, str]:
    start = dt.datetime(2031, 1, 1, 9, tzinfo=dt.UTC)
    communication = services.communication_register(
        actor=admin, account=linked, contact=None, communication_type=CommunicationType.objects.get(name="Offer"),
        data={"activity_type": "event", "kind": ActivityKind.objects.get(key="meeting"), "subject": label,
              "starts_at": start, "ends_at": start + dt.timedelta(hours=1), "owner": owner,
              "visibility": visibility})
    return communication.activity, label


DELETE = {"leads": lambda admin, lead: services.lead_delete(actor=admin, lead=lead),
          "opportunities": lambda admin, deal: services.opportunity_delete(actor=admin, opportunity=deal),
          "orders": lambda admin, order: services.order_delete(actor=admin, order=order)}
BUILD = {"leads": _lead, "opportunities": _opportunity, "orders": _order}


@pytest.mark.parametrize("resource", list(BUILD))
def test_a_list_carries_exactly_what_the_user_may_see(personas, api_for, resource):
    """Records of every persona in every visibility, and a deleted one each, all linked to the outsider's
    private account: a list that names that account where it may not fails too."""
    admin = personas.admin
    linked = AccountFactory(name=LINKED, owner=personas.outsider, visibility="private")
    rows = []
    for persona in PERSONAS:
        for visibility in (*VISIBILITIES, "gone"):
            label = f"{resource}-{persona}-{visibility}"
            record, text = BUILD[resource](admin, getattr(personas, persona), label,
                                           "everyone" if visibility == "gone" else visibility, linked)
            if visibility == "gone":
                DELETE[resource](admin, record)
            rows.append((persona, visibility, record, text))
    for persona in PERSONAS:
        answer = api_for(getattr(personas, persona)).get(resource, limit=200)
        assert answer.status_code == 200
        body = answer.json()
        assert body["next"] is None
        expected = {record.public_id for owner, visibility, record, _ in rows
                    if visibility != "gone" and sees(persona, owner, visibility)}
        assert {item["id"] for item in body["items"]} == expected, persona
        text = answer.content.decode()
        hidden = [label for owner, visibility, record, label in rows
                  if (visibility == "gone" or not sees(persona, owner, visibility))
                  and (label in text or record.public_id in text)]
        assert not hidden, f"{resource} as {persona} carries {hidden}"
        if not sees(persona, "outsider", "private"):
            assert LINKED not in text and linked.public_id not in text, persona


def test_the_communication_list_carries_exactly_what_the_user_may_see(personas, api_for):
    """Communications with an account everyone sees, by every persona in every visibility; and one with the
    outsider's private account, which only who sees that account may list."""
    admin = personas.admin
    shared = AccountFactory(name="Shared Co", owner=personas.admin, visibility="everyone")
    secret = AccountFactory(name=LINKED, owner=personas.outsider, visibility="private")
    rows = [(persona, visibility, *_communication(admin, getattr(personas, persona),
                                                  f"Comm-{persona}-{visibility}", visibility, shared))
            for persona in PERSONAS for visibility in VISIBILITIES]
    behind, _ = _communication(admin, personas.admin, "Comm-behind-secret", "everyone", secret)
    for persona in PERSONAS:
        api = api_for(getattr(personas, persona))
        expected = {activity.public_id for owner, visibility, activity, _ in rows if sees(persona, owner, visibility)}
        everything = api.get("communications", limit=200).json()
        of_shared = api.get("communications", account=shared.public_id, limit=200).json()
        assert {item["id"] for item in of_shared["items"]} == expected, persona
        allowed = expected | ({behind.public_id} if sees(persona, "outsider", "private") else set())
        assert {item["id"] for item in everything["items"]} == allowed, persona
        text = api.get("communications", limit=200).content.decode()
        hidden = [label for owner, visibility, activity, label in rows
                  if not sees(persona, owner, visibility) and label in text]
        assert not hidden, f"communications as {persona} carry {hidden}"
        if not sees(persona, "outsider", "private"):
            assert LINKED not in text and "Comm-behind-secret" not in text, persona
