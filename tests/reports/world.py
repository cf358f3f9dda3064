"""A small company for the report tests, with every sum worked out by hand below.

Built on the shared personas (tests/conftest.py): owner and teammate are sales in team A (managed by
manager), outsider is sales in team B. Everything is shared with everyone, except one private record of
the outsider's of each kind, which owner and teammate (and the manager of team A) must never see counted;
the administrator sees it. All deals and support items hang on one account of the administrator's (stage
left empty), so only the accounts made for the stage report carry a stage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from rapport.activities.models import ActivityKind
from rapport.automation.models import FollowUp, Rule, TaskDefinition
from rapport.campaigns.models import CampaignRecipient
from rapport.core.models import Visibility
from rapport.sales.models import Opportunity
from rapport.support.models import SupportItem
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignFactory,
    OpportunityFactory,
    SupportItemFactory,
    default_stage,
)

PRIVATE, EVERYONE = Visibility.PRIVATE, Visibility.EVERYONE
JANUARY = dt.date(2026, 1, 1)


@dataclass
class World:
    personas: Any
    account: Any = None
    rules: dict[str, Rule] = field(default_factory=dict)
    campaign: Any = None
    hidden_campaign: Any = None


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def build_world(personas: Any) -> World:
    world = World(personas=personas)
    owner, teammate, outsider, admin = personas.owner, personas.teammate, personas.outsider, personas.admin
    world.account = account = AccountFactory(name="Shared Customer", owner=admin, stage="")

    # --- Open deals (pipeline): two currencies, three stages -----------------------------------------
    def deal(who: Any, stage: str, amount: str, currency: str, probability: int, close: dt.date,
             visibility: str = EVERYONE, **extra: Any) -> Opportunity:
        return OpportunityFactory(owner=who, account=account, stage=default_stage(stage), amount=Decimal(amount),
                                  currency=currency, probability=probability, expected_close_on=close,
                                  visibility=visibility, **extra)

    deal(owner, "Prospecting", "1000.00", "EUR", 10, dt.date(2026, 3, 10))
    deal(owner, "Prospecting", "500.50", "EUR", 20, dt.date(2026, 3, 20))
    deal(teammate, "Proposal", "2000.00", "EUR", 60, dt.date(2026, 4, 5))
    deal(teammate, "Proposal", "300.00", "USD", 50, dt.date(2026, 4, 15))
    deal(outsider, "Negotiation", "700.00", "EUR", 80, dt.date(2026, 5, 1), visibility=PRIVATE)
    # Deleted: in no report.
    gone = deal(owner, "Negotiation", "9999.00", "EUR", 80, dt.date(2026, 3, 1))
    Opportunity.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())

    # --- Won and lost, in January and February -------------------------------------------------------
    def closed(who: Any, outcome: str, amount: str, currency: str, day: dt.date, visibility: str = EVERYONE) -> None:
        deal(who, outcome, amount, currency, 100 if outcome == "Won" else 0, day, visibility=visibility,
             is_open=False, closed_on=day)

    closed(owner, "Won", "400.00", "EUR", dt.date(2026, 1, 15))
    closed(owner, "Lost", "150.25", "EUR", dt.date(2026, 1, 20))
    closed(teammate, "Won", "250.00", "USD", dt.date(2026, 2, 3))
    closed(teammate, "Won", "600.00", "EUR", dt.date(2026, 2, 25))
    closed(outsider, "Lost", "80.00", "EUR", dt.date(2026, 2, 10), visibility=PRIVATE)

    # --- Activities in January 2026 (one of the owner's in February, out of that range) ---------------
    def activity(who: Any, kind: str, day: dt.date, visibility: str = EVERYONE, **extra: Any) -> None:
        ActivityFactory(owner=who, actor=admin, kind=ActivityKind.objects.get(key=kind), starts_at=at(day, 10),
                        ends_at=at(day, 11), visibility=visibility, assignees=[who], **extra)

    activity(owner, "call", dt.date(2026, 1, 5), status="completed")
    activity(owner, "call", dt.date(2026, 1, 6))
    activity(owner, "meeting", dt.date(2026, 1, 7))
    activity(teammate, "call", dt.date(2026, 1, 8))
    activity(outsider, "meeting", dt.date(2026, 1, 9), visibility=PRIVATE)
    activity(owner, "call", dt.date(2026, 2, 10))

    # --- Follow-ups of two rules: overdue, open, closed -------------------------------------------------
    definition = TaskDefinition.objects.create(name="Call them", contact_message="Call.")
    for name in ("New accounts", "Quiet accounts"):
        world.rules[name] = Rule.objects.create(name=name, definition=definition, trigger="created",
                                                record_type="account")
    today = timezone.localdate()
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)

    def follow_up(rule: str, who: Any, due: dt.date, status: str = "open", visibility: str = EVERYONE) -> None:
        task = ActivityFactory(task=True, owner=who, actor=admin, due_on=due, visibility=visibility, assignees=[who],
                               status=status)
        FollowUp.objects.create(rule=world.rules[rule], task=task, record_type="account", record_id=account.pk,
                                period=f"p{FollowUp.objects.count()}", assignee=who)

    follow_up("New accounts", owner, yesterday)  # overdue
    follow_up("New accounts", owner, tomorrow)  # open, not yet due
    follow_up("New accounts", teammate, yesterday, status="completed")  # closed
    follow_up("Quiet accounts", teammate, yesterday)  # overdue
    follow_up("Quiet accounts", outsider, yesterday, visibility=PRIVATE)  # hidden from team A

    # --- Support items: statuses, priorities and ages --------------------------------------------------
    now = timezone.now()

    def item(who: Any, status: str, priority: str, days_old: int, visibility: str = EVERYONE) -> None:
        made = SupportItemFactory(owner=who, account=account, status=status, priority=priority, visibility=visibility)
        SupportItem.objects.filter(pk=made.pk).update(created_at=now - dt.timedelta(days=days_old, hours=1))

    item(owner, "new", "urgent", 0)
    item(owner, "in_progress", "high", 10)
    item(teammate, "in_progress", "high", 40)
    item(teammate, "waiting", "low", 100)
    item(owner, "closed", "normal", 5)
    item(teammate, "resolved", "normal", 95)
    item(owner, "assigned", "low", 20)
    item(outsider, "new", "urgent", 3, visibility=PRIVATE)

    # --- Campaign results: a recipient in every status, and a private campaign of the outsider's ------
    world.campaign = CampaignFactory(owner=owner, name="Spring mailing", status="sent", started_at=at(JANUARY))
    statuses = ["sent", "sent", "sent", "replied", "bounced", "unsubscribed", "skipped", "queued", "waiting"]
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=world.campaign, email=f"r{i}@example.com", status=status)
        for i, status in enumerate(statuses))
    world.hidden_campaign = CampaignFactory(owner=outsider, name="Secret mailing", visibility=PRIVATE)
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=world.hidden_campaign, email=f"s{i}@example.com", status="sent") for i in range(2))

    # --- Accounts by relationship stage ----------------------------------------------------------------
    for who, stage in ((owner, "growing"), (owner, "growing"), (teammate, "mature"), (owner, "declining"),
                       (teammate, "closed")):
        AccountFactory(owner=who, stage=stage)
    AccountFactory(owner=outsider, stage="growing", visibility=PRIVATE)
    return world
