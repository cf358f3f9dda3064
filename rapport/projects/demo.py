"""The demo company's projects (called by rapport.demo.load_demo once its users, accounts and deals exist).

Four projects in different states, each through the services a user's clicks call: one delivering a won
deal, with milestones, tasks (some done) and members.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rapport.activities.models import ActivityStatus
from rapport.core.models import Visibility
from rapport.directory.models import Account
from rapport.projects import services
from rapport.projects.models import ProjectStatus
from rapport.sales.models import Opportunity

# (name, manager, members, status, start offset, length in days, budget, milestones)
# milestones: (name, due offset from the start, [(task, done)])
DEMO_PROJECTS: list[tuple[str, str, list[str], str, int, int, str, list[tuple[str, int, list[tuple[str, bool]]]]]] = [
    ("Rollout", "sales1", ["sales2", "support1"], ProjectStatus.ACTIVE, -30, 90, "", [
        ("Kick-off", 7, [("Kick-off meeting with the customer", True), ("Agree on the project plan", True)]),
        ("Configuration", 45, [("Set up the accounts", True), ("Import the customer's data", False),
                               ("Train the key users", False)]),
        ("Go-live", 85, [("Go-live checklist", False), ("Hand over to support", False)]),
    ]),
    ("Support onboarding", "support1", ["support2"], ProjectStatus.PLANNED, 14, 45, "4800.00", [
        ("Preparation", 10, [("Collect the open questions", False)]),
        ("Onboarding sessions", 40, [("First session", False), ("Second session", False)]),
    ]),
    ("Website relaunch", "manager", ["marketing", "sales1"], ProjectStatus.ON_HOLD, -60, 120, "15000.00", [
        ("Concept", 20, [("Brief the agency", True), ("Review the concept", True)]),
        ("Build", 90, [("Approve the design", False), ("Write the new texts", False)]),
    ]),
    ("Data migration", "sales2", ["sales1"], ProjectStatus.COMPLETED, -120, 60, "6200.00", [
        ("Export", 20, [("Export the old system's data", True)]),
        ("Import and check", 55, [("Import the data", True), ("Check the numbers with the customer", True)]),
    ]),
]


def _won_deal() -> Opportunity | None:
    """A won deal on an account everyone sees, for the project that delivers it."""
    return (Opportunity.objects.filter(stage__outcome="won", deleted_at__isnull=True,
                                       account__visibility=Visibility.EVERYONE, account__deleted_at__isnull=True)
            .select_related("account").order_by("id").first())


def demo_projects(users: dict[str, Any]) -> dict[str, int]:
    admin = users.get("admin") or users["manager"]
    accounts = list(Account.objects.filter(visibility=Visibility.EVERYONE, deleted_at__isnull=True).order_by("id")[:8])
    if not accounts:
        return {"projects": 0}
    deal = _won_deal()
    today = timezone.localdate()
    made = tasks_made = 0
    for index, (name, manager_name, member_names, status, start, length, budget, plan) in enumerate(DEMO_PROJECTS):
        manager = users[manager_name]
        starts_on = today + dt.timedelta(days=start)
        data: dict[str, Any] = {"name": name, "manager": manager, "owner": manager, "status": status,
                                "starts_on": starts_on, "due_on": starts_on + dt.timedelta(days=length),
                                "visibility": Visibility.TEAM if index == 1 else Visibility.EVERYONE}
        if index == 0 and deal is not None:
            data.update({"account": deal.account, "opportunity": deal, "name": f"{name}: {deal.name}",
                         "budget": deal.amount, "currency": deal.currency,
                         "description": "Delivers the won deal: set-up, data import, training and go-live."})
        else:
            data.update({"account": accounts[(index * 3) % len(accounts)], "budget": budget or "0",
                         "currency": "EUR"})
        project = services.project_create(actor=admin, data=data,
                                          members=[users[m] for m in member_names if m in users])
        made += 1
        people = [manager, *[users[m] for m in member_names if m in users]]
        for m_index, (milestone_name, due, tasks) in enumerate(plan):
            milestone = services.milestone_create(actor=manager, project=project, data={
                "name": milestone_name, "due_on": starts_on + dt.timedelta(days=due)})
            for t_index, (subject, done) in enumerate(tasks):
                assignee = people[(m_index + t_index) % len(people)]
                due_on = starts_on + dt.timedelta(days=max(due - 3 * t_index, 0))
                task = services.task_add(actor=manager, project=project, subject=subject, milestone=milestone,
                                         assignee=assignee, due_on=due_on)
                tasks_made += 1
                if done:
                    services.task_status(actor=manager, project=project, activity=task,
                                         status=ActivityStatus.COMPLETED, version=task.version)
    return {"projects": made, "project tasks": tasks_made}
