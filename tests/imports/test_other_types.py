"""Importing accounts, opportunities, orders and activities: through their own rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rapport.activities.models import Activity, ActivityLink
from rapport.directory.models import Account, StageChange
from rapport.sales.models import Opportunity, Order
from tests.factories import AccountFactory, ContactFactory
from tests.imports import files
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db


def test_accounts_with_website_stage_and_remarks(personas):
    job = run_import(personas.owner, "Name,Website,Relationship stage,Notes,City\n"
                                     "Acme,www.acme.example,Mature,region=north,Oslo\n"
                                     "Globex,,,stage=growing,\n", record_type="account")
    assert job.status == "done" and job.created_count == 2
    acme = Account.objects.get(name="Acme")
    assert (acme.website, acme.website_key, acme.stage) == ("https://www.acme.example", "acme.example", "mature")
    assert "stage=mature" in acme.remarks and acme.stage_changed_on is not None
    assert Account.objects.get(name="Globex").stage == "growing"
    assert StageChange.objects.filter(account=acme, to_stage="mature").exists()


def test_accounts_match_on_website_domain_then_on_name(personas):
    by_site = AccountFactory(owner=personas.owner, name="Old name", website="https://acme.example")
    by_name = AccountFactory(owner=personas.owner, name="Globex")
    job = run_import(personas.owner, "Name,Website,Industry\nAcme Inc,http://www.acme.example/about,Tools\n"
                                     "GLOBEX,,Energy\nInitech,,Software\n", record_type="account",
                     duplicates="update")
    assert (job.updated_count, job.created_count) == (2, 1)
    by_site.refresh_from_db()
    by_name.refresh_from_db()
    assert (by_site.name, by_site.industry) == ("Acme Inc", "Tools") and by_name.industry == "Energy"


def test_a_bad_stage_in_the_remarks_is_a_bad_row(personas):
    job = run_import(personas.owner, "Name,Notes\nAcme,stage=sleepy\n", record_type="account")
    assert "stage=sleepy is not a relationship stage" in job.problems.get().message


def test_opportunities_with_dates_in_mixed_formats(personas):
    text = ("Opportunity,Account,Amount,Stage,Close date\n"
            "Big deal,Acme,\"12,500.00\",Qualification,2026-12-01\n"
            "Small deal,Acme,900,,15/01/2027\n"
            "Odd deal,Acme,100,,03/02/2027\n")
    job = run_import(personas.owner, text, record_type="opportunity")
    assert job.status == "done", list(job.problems.values_list("message", flat=True))
    big = Opportunity.objects.get(name="Big deal")
    assert big.amount == Decimal("12500.00") and big.stage.name == "Qualification"
    assert big.expected_close_on == dt.date(2026, 12, 1) and big.account.name == "Acme"
    assert Opportunity.objects.get(name="Small deal").expected_close_on == dt.date(2027, 1, 15)
    # 15/01 in the same column says day first, so 03/02 is the 3rd of February
    assert Opportunity.objects.get(name="Odd deal").expected_close_on == dt.date(2027, 2, 3)
    assert Account.objects.count() == 1


def test_an_ambiguous_date_is_refused_naming_row_and_column(personas):
    job = run_import(personas.owner, "Name,Account,Close date\nDeal,Acme,2026-12-01\nOther,Acme,03/04/2027\n",
                     record_type="opportunity")
    problem = job.problems.get()
    assert (problem.row, problem.column) == (3, "Close date")
    assert "could be 3 April 2027 or 4 March 2027" in problem.message
    assert not Opportunity.objects.exists() and not Account.objects.exists()


def test_a_service_rule_refuses_a_row_naming_the_column(personas):
    job = run_import(personas.owner, "Name,Account,Currency\nDeal,Acme,XYZ\n", record_type="opportunity")
    problem = job.problems.get()
    assert problem.column == "Currency" and "XYZ is not a currency code" in problem.message


def test_orders_dedupe_on_their_number(personas):
    first = run_import(personas.owner, "Order number,Customer,Order date,Total,Status\n"
                                       "ORD-1,Acme,2026-11-02,250.00,Open\n", record_type="order")
    assert first.status == "done"
    order = Order.objects.get()
    assert (order.number, order.amount, order.ordered_on) == ("ORD-1", Decimal("250.00"), dt.date(2026, 11, 2))
    again = run_import(personas.owner, "Order number,Customer,Order date,Total,Status\n"
                                       "ORD-1,Acme,2026-11-02,250.00,Fulfilled\n", record_type="order",
                       duplicates="update")
    order.refresh_from_db()
    assert again.updated_count == 1 and order.status == "fulfilled" and order.version == 2


def test_activities_tasks_and_events_regarding_accounts_and_contacts(personas):
    contact = ContactFactory(owner=personas.owner, last_name="Doe", email="jane@example.com")
    text = ("Subject,Type,Due date,Start,End,Account,Contact email\n"
            "Send offer,task,2026-12-01,,,Acme,\n"
            "Kick-off,event,,2026-12-02 10:00,2026-12-02 11:30,,jane@example.com\n")
    job = run_import(personas.owner, text, record_type="activity")
    assert job.status == "done", list(job.problems.values_list("message", flat=True))
    task = Activity.objects.get(subject="Send offer")
    assert task.is_task and task.due_on == dt.date(2026, 12, 1) and task.kind.key == "todo"
    event = Activity.objects.get(subject="Kick-off")
    assert event.kind.key == "meeting" and event.ends_at - event.starts_at == dt.timedelta(minutes=90)
    assert ActivityLink.objects.filter(activity=event, record_type="contact", record_id=contact.pk).exists()
    assert ActivityLink.objects.filter(activity=task, record_type="account").exists()
    again = run_import(personas.owner, text, record_type="activity", duplicates="update")
    assert (again.created_count, again.unchanged_count) == (0, 2)


def test_an_activity_without_a_date_is_a_bad_row(personas):
    job = run_import(personas.owner, "Subject,Due date\nCall back,\n", record_type="activity")
    assert job.problems.get().message == "A task needs a due date."


def test_xlsx_with_real_dates_and_numbers(personas):
    data = files.workbook([["Order number", "Customer", "Order date", "Total"],
                           ["ORD-9", "Acme", dt.datetime(2026, 3, 4), 99.5]])
    job = run_import(personas.owner, data, name="orders.xlsx", record_type="order")
    assert job.status == "done", list(job.problems.values_list("message", flat=True))
    order = Order.objects.get()
    assert order.ordered_on == dt.date(2026, 3, 4) and order.amount == Decimal("99.50")
