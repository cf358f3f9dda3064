"""The opportunities API: CRUD and restore, people and roles, moving between stages, the forecast,
lists and filters, and bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.core.models import HistoryEntry, Visibility
from rapport.sales import services
from rapport.sales.models import (
    Opportunity,
    OpportunityContact,
    OpportunityStageChange,
    Pipeline,
    PipelineStage,
)
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas, api_for):
    return api_for(personas.owner)


@pytest.fixture
def account(personas):
    return AccountFactory(name="Acme", owner=personas.owner)


def stage(name: str, pipeline: str = "Sales") -> PipelineStage:
    return PipelineStage.objects.get(name=name, pipeline__name=pipeline)


def stored() -> dict:
    return {"opportunities": list(Opportunity.objects.order_by("pk").values()),
            "roles": list(OpportunityContact.objects.order_by("pk").values()),
            "stage_changes": list(OpportunityStageChange.objects.order_by("pk").values()),
            "history": HistoryEntry.objects.count()}


def deal(owner, account, **data) -> Opportunity:
    return services.opportunity_create(actor=owner, data={"name": "Deal", "account": account, **data})


# --- CRUD ------------------------------------------------------------------------------------------


def test_create_read_update_delete_restore(api, personas, account):
    buyer = ContactFactory(last_name="Berg", account=account, owner=personas.owner)
    created = api.post("opportunities", {
        "name": "Acme rollout", "account": account.public_id, "amount": "12000.5", "currency": "usd",
        "expected_close_on": "2031-06-30", "contacts": [{"contact": buyer.public_id, "role": "Decision maker"}]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["name"], body["amount"], body["currency"]) == ("Acme rollout", "12000.50", "USD")
    # It starts in the first stage of the default pipeline, with that stage's probability.
    assert body["stage"]["name"] == "Prospecting" and body["stage"]["pipeline"]["name"] == "Sales"
    assert (body["probability"], body["weighted_amount"], body["is_open"]) == (10, "1200.05", True)
    assert body["account"] == {"id": account.public_id, "name": "Acme"}
    assert body["contacts"] == [{"contact": {"id": buyer.public_id, "name": str(buyer)}, "role": "Decision maker"}]
    assert body["warnings"] == [] and body["version"] == 1
    deal_id = body["id"]

    assert api.get(f"opportunities/{deal_id}").json()["expected_close_on"] == "2031-06-30"
    changed = api.patch(f"opportunities/{deal_id}", {"version": 1, "probability": 35, "next_step": "Demo",
                                                     "contacts": []})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["probability"], changed.json()["contacts"], changed.json()["version"]) == (35, [], 2)

    assert api.delete(f"opportunities/{deal_id}?version=2").status_code == 204
    assert api.get(f"opportunities/{deal_id}").status_code == 404
    restored = api.post(f"opportunities/{deal_id}/restore")
    assert restored.status_code == 200 and restored.json()["next_step"] == "Demo"


def test_a_close_date_long_past_is_accepted_with_a_warning(api, account):
    long_ago = (timezone.localdate() - dt.timedelta(days=90)).isoformat()
    answer = api.post("opportunities", {"name": "Late", "account": account.public_id, "expected_close_on": long_ago})
    assert answer.status_code == 201
    assert len(answer.json()["warnings"]) == 1 and long_ago in answer.json()["warnings"][0]


def test_changing_the_people_keeps_those_the_user_may_not_see(personas, api_for, account):
    hidden = ContactFactory(last_name="Secret", owner=personas.outsider, visibility=Visibility.PRIVATE)
    seen = ContactFactory(last_name="Seen", owner=personas.owner)
    opportunity = deal(personas.owner, account, visibility="everyone")
    OpportunityContact.objects.create(opportunity=opportunity, contact=hidden, role="Champion")
    api = api_for(personas.owner)
    shown = api.get(f"opportunities/{opportunity.public_id}").json()
    assert shown["contacts"] == [] and "Secret" not in str(shown)
    answer = api.patch(f"opportunities/{opportunity.public_id}", {
        "version": 1, "contacts": [{"contact": seen.public_id, "role": "Buyer"}]})
    assert answer.status_code == 200
    assert [c["contact"]["id"] for c in answer.json()["contacts"]] == [seen.public_id]
    assert set(OpportunityContact.objects.filter(opportunity=opportunity).values_list("contact__last_name", "role")) \
        == {("Secret", "Champion"), ("Seen", "Buyer")}


# --- Moving between stages -------------------------------------------------------------------------


def test_moving_records_the_stage_change(api, personas, account):
    opportunity = deal(personas.owner, account, amount="1000")
    moved = api.post(f"opportunities/{opportunity.public_id}/move",
                     {"stage": stage("Proposal").public_id, "version": 1})
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["stage"]["name"], moved.json()["probability"], moved.json()["version"]) == ("Proposal", 60, 2)
    changes = list(OpportunityStageChange.objects.filter(opportunity=opportunity)
                   .values_list("from_stage__name", "to_stage__name", "changed_by"))
    assert changes == [(None, "Prospecting", personas.owner.pk), ("Prospecting", "Proposal", personas.owner.pk)]

    won = api.post(f"opportunities/{opportunity.public_id}/move", {"stage": stage("Won").public_id, "version": 2})
    assert won.json()["is_open"] is False and won.json()["closed_on"] == timezone.localdate().isoformat()
    assert won.json()["stage"]["outcome"] == "won"


def test_a_stage_of_another_pipeline_or_no_longer_used_is_refused(api, personas, account):
    other = Pipeline.objects.create(name="Renewals", position=1)
    foreign = PipelineStage.objects.create(pipeline=other, name="Renewal call", position=0)
    retired = PipelineStage.objects.create(pipeline=stage("Proposal").pipeline, name="Retired", position=9,
                                           is_active=False)
    opportunity = deal(personas.owner, account)
    before = stored()
    for target in (foreign, retired):
        for answer in (api.post(f"opportunities/{opportunity.public_id}/move",
                                {"stage": target.public_id, "version": 1}),
                       api.patch(f"opportunities/{opportunity.public_id}", {"stage": target.public_id, "version": 1})):
            assert answer.status_code == 422 and "stage" in answer.json()["errors"], answer.json()
    answer = api.post(f"opportunities/{opportunity.public_id}/move", {"stage": "zzzzzzzzzzzzzzzz", "version": 1})
    assert answer.json()["errors"] == {"stage": ["No such stage."]}
    assert stored() == before


def test_a_stale_move_is_a_409(api, personas, account):
    opportunity = deal(personas.owner, account)
    before = stored()
    answer = api.post(f"opportunities/{opportunity.public_id}/move", {"stage": stage("Proposal").public_id,
                                                                      "version": 3})
    assert answer.status_code == 409 and answer.json()["current_version"] == 1
    assert stored() == before


# --- Forecast --------------------------------------------------------------------------------------


def test_the_forecast_against_hand_computed_numbers(personas, api_for):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    mine, theirs = personas.owner, personas.teammate
    for owner, amount, probability, close, extra in [
        (mine, "1000.00", 50, "2031-01-10", {}),
        (mine, "2000.40", 25, "2031-01-31", {}),
        (theirs, "300.00", 100, "2031-02-28", {}),
        (theirs, "800.00", 60, "2031-03-15", {"currency": "USD"}),
        (mine, "999.00", 50, "2031-04-01", {}),  # after the period
        (mine, "100.00", 10, "2030-12-31", {}),  # before it
        (mine, "5000.00", 50, "2031-02-01", {"stage": stage("Won")}),  # won: no longer forecast
        (personas.outsider, "7000.00", 50, "2031-02-10", {"visibility": "private"}),  # not the owner's to see
    ]:
        deal(owner, acme, amount=amount, probability=probability,
             expected_close_on=dt.date.fromisoformat(close), **extra)
    answer = api_for(mine).get("opportunities/forecast", **{"from": "2031-01", "to": "2031-03"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["from"], body["to"]) == ("2031-01", "2031-03")
    assert body["by_month"] == [
        {"month": "2031-01", "currency": "EUR", "count": 2, "amount": "3000.40", "weighted": "1000.10"},
        {"month": "2031-02", "currency": "EUR", "count": 1, "amount": "300.00", "weighted": "300.00"},
        {"month": "2031-03", "currency": "USD", "count": 1, "amount": "800.00", "weighted": "480.00"},
    ]
    me = {"id": mine.public_id, "name": mine.display_name}
    them = {"id": theirs.public_id, "name": theirs.display_name}
    assert body["by_owner"] == [
        {"owner": me, "currency": "EUR", "count": 2, "amount": "3000.40", "weighted": "1000.10"},
        {"owner": them, "currency": "EUR", "count": 1, "amount": "300.00", "weighted": "300.00"},
        {"owner": them, "currency": "USD", "count": 1, "amount": "800.00", "weighted": "480.00"},
    ]
    assert body["totals"] == [{"currency": "EUR", "count": 3, "amount": "3300.40", "weighted": "1300.10"},
                              {"currency": "USD", "count": 1, "amount": "800.00", "weighted": "480.00"}]
    only_mine = api_for(mine).get("opportunities/forecast", **{"from": "2031-01", "to": "2031-03",
                                                               "owner": "me"}).json()
    assert only_mine["totals"] == [{"currency": "EUR", "count": 2, "amount": "3000.40", "weighted": "1000.10"}]
    # The administrator sees the outsider's private deal too.
    everything = api_for(personas.admin).get("opportunities/forecast", **{"from": "2031-02", "to": "2031-02"})
    assert everything.json()["totals"] == [{"currency": "EUR", "count": 2, "amount": "7300.00",
                                            "weighted": "3800.00"}]


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2031-13"}, "from"),
    ({"from": "January"}, "from"),
    ({"from": "2031-05", "to": "2031-01"}, "to"),
    ({"from": "2031-01", "to": "2034-01"}, "to"),
    ({"from": "9999-12"}, "from"),
    ({"from": "9999-11", "to": "9999-12"}, "from"),
    ({"from": "2031-01", "to": "9999-12"}, "to"),
    ({"owner": "nobody"}, "owner"),
    ({"limit": "5"}, "limit"),
    ({"currency": "EUR"}, "currency"),
])
def test_a_bad_forecast_question_is_a_400_naming_the_parameter(api, params, field):
    answer = api.get("opportunities/forecast", **params)
    assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()


def test_the_default_forecast_is_this_month_and_the_next_five(api):
    body = api.get("opportunities/forecast").json()
    today = timezone.localdate()
    assert body["from"] == today.strftime("%Y-%m")
    months = (int(body["to"][:4]) - today.year) * 12 + int(body["to"][5:]) - today.month
    assert months == 5 and body["by_month"] == [] and body["totals"] == []


# --- Lists -----------------------------------------------------------------------------------------


def test_paging_by_close_date_repeats_none_and_a_deal_without_a_date_is_expected_in_ninety_days(
        api, personas, account):
    later = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    for index, close in enumerate(["2031-03-01", None, "2031-01-01", "2031-03-01", None, "2031-02-01"]):
        deal(personas.owner, account, name=f"Deal {index}",
             expected_close_on=dt.date.fromisoformat(close) if close else None)
    for ordering in ("expected_close_on", "-expected_close_on"):
        seen, cursor = [], None
        while True:
            answer = api.get("opportunities", ordering=ordering, limit=2, **({"cursor": cursor} if cursor else {}))
            assert answer.status_code == 200, answer.json()
            seen += answer.json()["items"]
            cursor = answer.json()["next"]
            if not cursor:
                break
        assert len({item["id"] for item in seen}) == 6
        dates = [item["expected_close_on"] for item in seen]
        expected = [later, later, "2031-01-01", "2031-02-01", "2031-03-01", "2031-03-01"]
        assert dates == (expected if ordering == "expected_close_on" else expected[::-1])


def test_filters(api, personas, account):
    other = AccountFactory(name="Other", owner=personas.owner)
    deal(personas.owner, account, name="Alpha", expected_close_on=dt.date(2031, 1, 5), amount="10")
    deal(personas.owner, account, name="Beta", stage=stage("Won"), expected_close_on=dt.date(2031, 2, 5))
    deal(personas.teammate, other, name="Gamma", stage=stage("Proposal"), amount="30")

    def names(**params) -> set[str]:
        answer = api.get("opportunities", **params)
        assert answer.status_code == 200, answer.json()
        return {item["name"] for item in answer.json()["items"]}

    assert names(owner="me") == {"Alpha", "Beta"}
    assert names(open="false") == {"Beta"}
    assert names(stage=stage("Proposal").public_id) == {"Gamma"}
    assert names(account=other.public_id) == {"Gamma"}
    assert names(close_from="2031-02-01", close_to="2031-12-31") == {"Beta"}
    assert names(pipeline=stage("Won").pipeline.public_id) == {"Alpha", "Beta", "Gamma"}
    assert names(q="al") == {"Alpha"}
    amounts = [item["amount"] for item in api.get("opportunities", ordering="-amount").json()["items"]]
    assert amounts == ["30.00", "10.00", "0.00"]
    for params, field in (({"open": "maybe"}, "open"), ({"close_to": "soon"}, "close_to"),
                          ({"stage": "zzzz"}, "stage"), ({"account": "zzzz"}, "account"), ({"x": "1"}, "x")):
        answer = api.get("opportunities", **params)
        assert answer.status_code == 400 and field in answer.json()["errors"]


# --- Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "-1"}, "amount"),
    ({"amount": "1e20"}, "amount"),
    ({"amount": "1.234"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"currency": "EURO"}, "currency"),
    ({"currency": "XYZ"}, "currency"),
    ({"probability": 101}, "probability"),
    ({"expected_close_on": "2031-02-30"}, "expected_close_on"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"account": ""}, "account"),
    ({"account": "zzzzzzzzzzzzzzzz"}, "account"),
    ({"stage": "zzzzzzzzzzzzzzzz"}, "stage"),
    ({"contacts": [{"contact": "zzzzzzzzzzzzzzzz"}]}, "contacts.0.contact"),
    ({"contacts": [{"contact": "x", "role": "r" * 101}]}, "contacts.0.role"),
    ({"contacts": [{"person": "x"}]}, "contacts.0.person"),
    ({"is_open": False}, "is_open"),
    ({"closed_on": "2020-01-01"}, "closed_on"),
])
def test_bad_input_is_refused_naming_the_field_and_saves_nothing(api, personas, account, change, field):
    opportunity = deal(personas.owner, account)
    before = stored()
    created = api.post("opportunities", {"name": "New", "account": account.public_id, **change})
    assert created.status_code == 422, created.json()
    assert field in created.json()["errors"] and created.json()["detail"]
    changed = api.patch(f"opportunities/{opportunity.public_id}", {"version": 1, **change})
    assert changed.status_code == 422 and field in changed.json()["errors"], changed.json()
    assert stored() == before


def test_an_account_or_contact_the_user_may_not_see_is_no_such_one(api, personas):
    hidden = AccountFactory(name="Hidden Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    person = ContactFactory(last_name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)
    visible = AccountFactory(name="Seen Co", owner=personas.owner)
    answer = api.post("opportunities", {"name": "X", "account": hidden.public_id})
    assert answer.json()["errors"] == {"account": ["No such account."]}
    answer = api.post("opportunities", {"name": "X", "account": visible.public_id,
                                        "contacts": [{"contact": person.public_id}]})
    assert answer.json()["errors"] == {"contacts.0.contact": ["No such contact."]}
    assert not Opportunity.objects.exists()


def test_a_deal_whose_account_is_hidden_names_no_account(personas, api_for):
    hidden = AccountFactory(name="Hidden Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    opportunity = deal(personas.outsider, hidden, visibility="everyone", amount=Decimal("5"))
    body = api_for(personas.owner).get(f"opportunities/{opportunity.public_id}")
    assert body.json()["account"] is None and "Hidden Co" not in body.content.decode()
