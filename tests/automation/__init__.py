"""Shared set-up for the automation tests: an office (a manager, a sales team, a sales-support team,
accounts) and short ways to make definitions and rules through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from rapport.automation import services
from rapport.automation.models import FollowUp, Rule, TaskDefinition
from rapport.core.models import Team, User
from rapport.directory.models import Account
from tests.factories import AccountFactory, TeamFactory, UserFactory

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@dataclass
class Office:
    """manager manages both teams; sellers are sales in `sales_team`; helpers are support users in
    `support_team` ("Sales support"); accounts belong to the sellers in turn."""

    manager: User
    sales_team: Team
    support_team: Team
    sellers: list[User]
    helpers: list[User]
    accounts: list[Account] = field(default_factory=list)
    admin: User | None = None

    @property
    def seller(self) -> User:
        return self.sellers[0]


def build_office(*, accounts: int = 3, sellers: int = 2, helpers: int = 3) -> Office:
    manager = UserFactory(role_slugs="manager", email="manager@example.com")
    sales_team = TeamFactory(name="Sales", manager=manager)
    support_team = TeamFactory(name="Sales support", manager=manager)
    office = Office(
        manager=manager, sales_team=sales_team, support_team=support_team,
        sellers=[UserFactory(team=sales_team, role_slugs="sales") for _ in range(sellers)],
        helpers=[UserFactory(team=support_team, role_slugs="support") for _ in range(helpers)],
        admin=UserFactory(role_slugs="admin"),
    )
    office.accounts = [AccountFactory(owner=office.sellers[i % sellers]) for i in range(accounts)]
    return office


def definition(actor: User, name: str = "Call", **data: Any) -> TaskDefinition:
    return services.definition_save(actor=actor, definition=None, data={
        "name": name, "contact_message": f"{name}: do it.", "pending_message": f"{name}: waiting.",
        "complete_message": f"{name}: done.", **data})


def rule(actor: User, *, active: bool = True, **data: Any) -> Rule:
    """A rule saved through rule_save (a definition made for it unless given), activated unless told not."""
    data.setdefault("name", f"Rule {Rule.objects.count() + 1}")
    if "definition" not in data:
        data["definition"] = definition(actor, name=f"Definition for {data['name']}")
    saved = services.rule_save(actor=actor, rule=None, data=data)
    return services.rule_activate(actor=actor, rule=saved) if active else saved


def set_created(accounts: list[Account] | Any, day: dt.date) -> None:
    """Pretend the accounts were created on `day` (noon UTC)."""
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    pks = [a.pk for a in accounts]
    Account.objects.filter(pk__in=pks).update(created_at=moment)


def follow_ups(rule_: Rule) -> list[FollowUp]:
    return list(FollowUp.objects.filter(rule=rule_).select_related("task").order_by("id"))


def per_record(rule_: Rule) -> dict[int, int]:
    counts: dict[int, int] = {}
    for record_id in FollowUp.objects.filter(rule=rule_).values_list("record_id", flat=True):
        counts[record_id] = counts.get(record_id, 0) + 1
    return counts


def today() -> dt.date:
    return timezone.localdate()
