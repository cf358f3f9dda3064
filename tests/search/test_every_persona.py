"""Every persona searches records of every type owned by every persona under every visibility (and a
deleted one each): the page, the suggestions and the API show exactly what DESIGN.md's rule lets them see
(tests/permissions/rules.sees), and carry no trace of the rest."""

from __future__ import annotations

import pytest
from django.utils import timezone

from rapport.activities.models import Activity
from rapport.core.models import Visibility
from tests.conftest import ApiClient, client_for
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EmailMessageFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportItemFactory,
)
from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

pytestmark = pytest.mark.django_db

KINDS = ("account", "contact", "lead", "opportunity", "order", "support_item", "activity", "email")


def _make(kind: str, personas, owner_name: str, visibility: str, deleted: bool):
    owner = getattr(personas, owner_name)
    label = f"Zebra{kind.replace('_', '')}{owner_name}{visibility}{'gone' if deleted else ''}"
    extra = {"visibility": Visibility.EVERYONE if deleted else visibility,
             "deleted_at": timezone.now() if deleted else None}
    # Linked records belong to the admin and are everyone's: what is checked is the record itself.
    shared = {"account": personas.shared_account} if kind in ("opportunity", "order", "support_item") else {}
    if kind == "account":
        record = AccountFactory(name=label, owner=owner, **extra)
    elif kind == "contact":
        record = ContactFactory(first_name="Zebra", last_name=label, owner=owner, **extra)
    elif kind == "lead":
        record = LeadFactory(first_name="", last_name="", company=label, owner=owner, **extra)
    elif kind == "opportunity":
        record = OpportunityFactory(name=label, owner=owner, **shared, **extra)
    elif kind == "order":
        record = OrderFactory(number=label, owner=owner, **shared, **extra)
    elif kind == "support_item":
        record = SupportItemFactory(subject=label, owner=owner, **shared, **extra)
    elif kind == "email":
        record = EmailMessageFactory(subject=label, owner=owner, **extra)
    else:
        record = ActivityFactory(subject=label, owner=owner, actor=personas.admin, visibility=extra["visibility"],
                                 assignees=[owner])
        if deleted:
            Activity.objects.filter(pk=record.pk).update(deleted_at=extra["deleted_at"])
    return label, record


@pytest.fixture
def world(personas):
    personas.shared_account = AccountFactory(name="Shared Holdings", owner=personas.admin)
    rows = []
    for kind in KINDS:
        for owner_name in PERSONAS:
            for visibility in (*VISIBILITIES, "gone"):
                deleted = visibility == "gone"
                label, record = _make(kind, personas, owner_name, "everyone" if deleted else visibility, deleted)
                rows.append((kind, owner_name, visibility, deleted, label, record))
    return personas, rows


@pytest.mark.parametrize("persona", PERSONAS)
def test_search_shows_exactly_what_each_persona_may_see(world, persona):
    personas, rows = world
    user = getattr(personas, persona)
    expected = {label for kind, owner, visibility, deleted, label, _r in rows
                if not deleted and sees(persona, owner, visibility)}
    hidden = {label for kind, owner, visibility, deleted, label, _r in rows if label not in expected}
    for kind in KINDS:
        # one type at a time: 28 records of a type fit on its page (at most 50)
        body = ApiClient(user).get("search", q="zebra", types=kind, limit=50).json()
        shown = {item["title"].split(" ", 1)[-1] if kind == "support_item" else item["title"].removeprefix("Zebra ")
                 for group in body["groups"] for item in group["items"]}
        want = {label for label in expected if label.startswith(f"Zebra{kind.replace('_', '')}")}
        assert shown == want, (kind, persona, shown ^ want)
        html = client_for(user).get("/search/", {"q": "zebra", "types": kind}).content.decode()
        leaks = sorted(label for label in hidden if label in html)
        assert not leaks, f"the results page shows {persona} {leaks}"
    html = client_for(user).get("/search/suggest/", {"q": "zebra"}).content.decode()
    assert not sorted(label for label in hidden if label in html)
