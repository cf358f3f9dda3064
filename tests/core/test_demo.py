"""`rapport demo`: loads once, and never takes over a real account that shares a demo name."""

from __future__ import annotations

import pytest

from rapport.cli import main
from rapport.core.models import User
from rapport.directory.models import Account
from rapport.documents.models import Document
from rapport.expenses.models import Expense
from rapport.projects.models import Project
from rapport.sales.models import Communication, Lead, Opportunity, Order, PipelineStage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_prints_the_logins(capsys):
    assert main(["demo"]) == 0
    assert User.objects.filter(username="sales1").exists()
    accounts = Account.objects.count()
    assert accounts == 54  # 50, two made by converting demo leads, two duplicates to merge
    # Every part of the demo has something to show: deals in every stage of the pipeline, orders,
    # leads, communications.
    assert set(Opportunity.objects.values_list("stage__name", flat=True)) == set(
        PipelineStage.objects.filter(pipeline__is_default=True).values_list("name", flat=True))
    assert Order.objects.count() == 120 and Lead.objects.filter(status="converted").count() == 2
    assert Communication.objects.count() == 30
    # Projects in every state, one grown out of a won deal.
    assert sorted(Project.objects.values_list("status", flat=True)) == ["active", "completed", "on_hold", "planned"]
    assert Project.objects.filter(opportunity__stage__outcome="won").count() == 1
    assert set(Expense.objects.values_list("status", flat=True)) == {
        "draft", "submitted", "approved", "rejected", "reimbursed"}
    assert Expense.objects.count() == 10
    assert Document.objects.filter(title="Price list").get().versions.count() == 2
    assert main(["demo"]) == 0
    assert Account.objects.count() == accounts
    assert "sales1" in capsys.readouterr().out


def test_demo_refuses_a_database_with_a_real_admin(capsys):
    real = UserFactory(username="admin", email="boss@company.example", role_slugs="admin")
    password = real.password
    assert main(["demo"]) == 2
    assert "not demo users" in capsys.readouterr().err
    real.refresh_from_db()
    assert real.password == password and not Account.objects.exists()
