"""The benchmark data set (rapport.seed) on a tiny size: its sales records hang together."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest

from rapport import seed as seeding
from rapport.core.models import User
from rapport.directory.models import Account, StageChange
from rapport.sales import services
from rapport.sales.models import (
    Lead,
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
    Order,
    OrderLine,
    PipelineStage,
)
from rapport.support import services as support_services
from rapport.support.models import OPEN_SUPPORT_STATUSES, SupportItem, SupportRequest
from tests.conftest import restore_migration_data

# Seeding drops and rebuilds foreign keys and indexes (ALTER TABLE), which PostgreSQL refuses inside a
# transaction with pending constraint checks: these tests run outside the per-test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

# Enough users for both bench users (bench0001, bench0014); a few hundred of everything else.
TINY = seeding.Size("tiny", users=14, teams=2, accounts=60, contacts=400, big_account_contacts=30,
                    heavy_owner_records=30, activities=300, tasks=30, notes=20, orders=400, opportunities=120,
                    leads=40, support_items=300)


@pytest.fixture
def seeded(db, monkeypatch: pytest.MonkeyPatch) -> dict:
    restore_migration_data()  # a test outside a transaction before this one emptied the tables
    monkeypatch.setitem(seeding.SIZES, "tiny", TINY)
    assert not seeding.sales_seeded("tiny")
    return seeding.seed("tiny", progress=False)


def test_seed_writes_every_sales_record_and_knows_it(seeded: dict) -> None:
    assert Order.objects.count() == TINY.orders
    assert Opportunity.objects.count() == TINY.opportunities
    assert Lead.objects.count() == TINY.leads
    assert OrderLine.objects.exists() and OpportunityContact.objects.exists()
    assert StageChange.objects.exists()
    assert seeded["orders"] == TINY.orders and seeded["opportunities"] == TINY.opportunities
    assert seeding.sales_seeded("tiny")


def test_seeded_orders_add_up_and_belong_to_accounts(seeded: dict) -> None:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, amount in OrderLine.objects.values_list("order_id", "amount"):
        totals[order_id] += amount
    assert totals
    amounts = dict(Order.objects.filter(pk__in=totals).values_list("id", "amount"))
    assert {pk: amounts[pk] for pk in totals} == dict(totals)
    account_ids = set(Account.objects.values_list("id", flat=True))
    assert set(Order.objects.values_list("account_id", flat=True)) <= account_ids
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    big = Account.objects.get(name=seeding.BIG_ACCOUNT)
    assert big.orders.exists()
    # Orders are the account owner's and share its visibility.
    for order in Order.objects.select_related("account")[:50]:
        assert (order.owner_id, order.visibility) == (order.account.owner_id, order.account.visibility)


def test_seeded_opportunities_agree_with_their_stages(seeded: dict) -> None:
    pipeline = services.default_pipeline()
    stage_ids = set(PipelineStage.objects.filter(pipeline=pipeline).values_list("id", flat=True))
    opportunities = list(Opportunity.objects.select_related("stage"))
    assert {o.is_open for o in opportunities} == {True, False}
    for opportunity in opportunities:
        assert opportunity.stage_id in stage_ids
        assert opportunity.is_open == (not opportunity.stage.is_closed)
        assert (opportunity.closed_on is None) == opportunity.is_open
        assert opportunity.probability == opportunity.stage.probability
        assert opportunity.expected_close_on is not None
    changes = list(OpportunityStageChange.objects.order_by("opportunity_id", "changed_at", "id"))
    for change in changes:
        assert change.to_stage_id in stage_ids
        assert change.from_stage_id is None or change.from_stage_id in stage_ids
    last = {change.opportunity_id: change for change in changes}
    for opportunity in opportunities:
        assert last[opportunity.pk].to_stage_id == opportunity.stage_id
        assert last[opportunity.pk].changed_at == opportunity.stage_changed_at
    # The people of a deal work at its account.
    for role in OpportunityContact.objects.select_related("contact", "opportunity"):
        assert role.contact.account_id == role.opportunity.account_id


def test_seeded_leads_and_account_stages_are_consistent(seeded: dict) -> None:
    for lead in Lead.objects.all():
        keys = (lead.name_key, lead.email_key)
        lead.derive()
        assert keys == (lead.name_key, lead.email_key)
        assert (lead.status == "converted") == (lead.opportunity_id is not None)
    staged = Account.objects.exclude(stage="")
    assert staged.exists()
    for account in staged:
        history = list(account.stage_changes.order_by("changed_on", "id"))
        assert 1 <= len(history) <= 2
        assert history[-1].to_stage == account.stage
        assert history[-1].changed_on == account.stage_changed_on
    assert not StageChange.objects.filter(account__stage="").exists()


def test_orders_created_after_seeding_get_a_free_number(seeded: dict) -> None:
    user = User.objects.get(username=seeding.HEAVY_USER)
    account = Account.objects.get(name=seeding.BIG_ACCOUNT)
    order = services.order_create(actor=user, data={"account": account, "amount": "10.00"})
    assert order.number.startswith("ORD-")
    assert Order.objects.filter(number=order.number).count() == 1


def test_seeded_support_items_agree_with_their_requests(seeded: dict) -> None:
    counts = seeded  # seed() writes the support items too
    assert seeding.support_seeded("tiny")
    assert counts["support_items"] == SupportItem.objects.count() == TINY.support_items
    assert counts["support_requests"] == SupportRequest.objects.count()
    items = list(SupportItem.objects.all())
    references = {item.reference for item in items}
    assert references == {f"SUP-{seeding.SUPPORT_FIRST_NUMBER + i}" for i in range(TINY.support_items)}
    assert {item.status for item in items} == {"new", "assigned", "in_progress", "waiting", "resolved", "closed"}
    requests: dict[int, list[SupportRequest]] = defaultdict(list)
    for request in SupportRequest.objects.order_by("created_at", "id"):
        requests[request.item_id].append(request)
    support_users = set(User.objects.filter(roles__slug="support").values_list("id", flat=True))
    assert sum(item.owner_id in support_users for item in items) > len(items) / 2
    for item in items:
        chain = requests[item.pk]
        pending = [r for r in chain if r.state == "pending"]
        assert (item.closed_at is not None) == (item.status not in OPEN_SUPPORT_STATUSES)
        if item.status == "new":
            assert item.assignee_id is None and not pending
            assert (item.returned_at is not None) == bool(chain)
            assert all(r.state == "declined" for r in chain)
        elif item.status == "assigned":
            assert [r.recipient_id for r in pending] == [item.assignee_id]
        else:
            assert not pending and chain[-1].state == "accepted" and chain[-1].recipient_id == item.assignee_id
        for earlier, later in itertools.pairwise(chain):
            assert later.previous_id == earlier.pk and earlier.recipient_id != later.recipient_id
        if item.contact_id is not None:
            assert item.contact.account_id == item.account_id
    assert any(item.is_overdue(seeding.SEED_NOW.date()) for item in items)
    big = Account.objects.get(name=seeding.BIG_ACCOUNT)
    assert big.support_items.count() >= 3
    # An item opened after seeding takes the next free reference.
    owner = User.objects.filter(pk__in=support_users).order_by("username").first()
    item = support_services.support_item_create(actor=owner, data={"subject": "After the seed"})
    assert item.reference == f"SUP-{seeding.SUPPORT_FIRST_NUMBER + TINY.support_items}"
