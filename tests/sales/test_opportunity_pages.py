"""The opportunity pages: list, board and moves, forecast, form, detail, delete and undo, record panels."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.core.models import Visibility
from rapport.sales import services
from rapport.sales.models import Opportunity, OpportunityContact, OpportunityStageChange, Pipeline, PipelineStage
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
NO_CONTACTS = {"contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0"}


def stage(name: str) -> PipelineStage:
    return PipelineStage.objects.get(pipeline__is_default=True, name=name)


def deal(actor, account, name: str, **data) -> Opportunity:
    return services.opportunity_create(actor=actor, data={"name": name, "account": account, **data})


def deal_form(user, account, /, **fields) -> dict:
    return {"name": "Fleet renewal", "account": account.public_id, "stage": stage("Prospecting").public_id,
            "amount": "1000", "currency": "EUR", "probability": "", "expected_close_on": "2030-06-30", "source": "",
            "next_step": "", "outcome_reason": "", "owner": user.public_id, "visibility": "everyone",
            "description": "", **NO_CONTACTS, **fields}


def names_in(response) -> list[str]:
    """Deal names linked from a page, in page order."""
    ids = re.findall(r'href="/opportunities/([a-z2-7]{16})/"', response.content.decode())
    by_id = {o.public_id: o.name for o in Opportunity.objects.filter(public_id__in=ids)}
    return [by_id[i] for i in ids]


def link(response, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def field_error(response, name: str) -> str:
    """The error shown under a form field (its id is id_<name>_error)."""
    match = re.search(rf'id="id_{name}_error">(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


# --- The list ----------------------------------------------------------------------------------------


@pytest.fixture
def listed(personas):
    acme = AccountFactory(name="Acme", owner=personas.owner)
    zeta = AccountFactory(name="Zeta", owner=personas.owner)
    deal(personas.owner, acme, "Alpha fleet", amount="500", expected_close_on=dt.date(2030, 1, 10))
    deal(personas.owner, zeta, "Alpine lodge", amount="9000", stage=stage("Proposal"),
         expected_close_on=dt.date(2030, 3, 1))
    deal(personas.teammate, acme, "Beta boats", amount="1500")
    won = deal(personas.teammate, zeta, "Gamma gear", amount="100", expected_close_on=dt.date(2029, 12, 1))
    services.opportunity_move(actor=personas.teammate, opportunity=won, stage=stage("Won"), version=won.version)
    deal(personas.outsider, acme, "Hidden hull", visibility=Visibility.PRIVATE)
    return {"acme": acme, "zeta": zeta}


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["Alpha fleet", "Alpine lodge", "Beta boats", "Gamma gear"]),
    ({"q": "alp"}, ["Alpha fleet", "Alpine lodge"]),
    ({"owner": "me"}, ["Alpha fleet", "Alpine lodge"]),
    ({"open": "false"}, ["Gamma gear"]),
    ({"open": "true", "ordering": "-amount"}, ["Alpine lodge", "Beta boats", "Alpha fleet"]),
    ({"close_from": "2030-01-01", "close_to": "2030-02-28"}, ["Alpha fleet"]),
    # Beta boats was given no date: it is expected in 90 days, before the others.
    ({"ordering": "expected_close_on"}, ["Beta boats", "Gamma gear", "Alpha fleet", "Alpine lodge"]),
    ({"ordering": "-expected_close_on"}, ["Alpine lodge", "Alpha fleet", "Gamma gear", "Beta boats"]),
])
def test_list_filters_and_sorts(personas, listed, query, expected):
    response = client_for(personas.owner).get("/opportunities/", query)
    assert response.status_code == 200
    assert names_in(response) == expected


def test_list_filters_by_stage_and_account(personas, listed):
    client = client_for(personas.owner)
    assert names_in(client.get("/opportunities/", {"stage": stage("Proposal").public_id})) == ["Alpine lodge"]
    page = client.get("/opportunities/", {"account": listed["acme"].public_id})
    assert names_in(page) == ["Alpha fleet", "Beta boats"]
    # The chosen account stays chosen in the filter, and a new deal from here starts with it.
    assert f'<option value="{listed["acme"].public_id}" selected>Acme</option>' in page.content.decode()
    assert f'/opportunities/new/?account={listed["acme"].public_id}' in page.content.decode()


def test_list_shows_the_columns(personas, listed):
    page = client_for(personas.owner).get("/opportunities/", {"q": "alpine"}).content.decode()
    for text in ("Alpine lodge", "Zeta", "Proposal", "9,000.00 EUR", "60 %", "Owner"):
        assert text in page, text
    assert 'href="/opportunities/board/"' in page and 'href="/opportunities/forecast/"' in page


def test_list_pages_forwards_and_back_through_deals_sharing_a_close_date(personas):
    account = AccountFactory(owner=personas.owner)
    for i in range(7):
        deal(personas.owner, account, f"Deal {i}", expected_close_on=dt.date(2030, 1, 1 + i) if i % 2 else None)
    client = client_for(personas.owner)
    seen = []
    response = client.get("/opportunities/", {"limit": 3, "ordering": "expected_close_on"})
    while True:
        assert response.status_code == 200
        seen += names_in(response)
        if link(response, "next") is None:
            break
        response = client.get("/opportunities/" + link(response, "next"))
    # Those given no date are expected in 90 days, all on one day: by date, then as created, each once.
    assert seen == ["Deal 0", "Deal 2", "Deal 4", "Deal 6", "Deal 1", "Deal 3", "Deal 5"]
    back = client.get("/opportunities/" + link(response, "prev"))
    assert names_in(back) == ["Deal 6", "Deal 1", "Deal 3"]


def test_list_count_comes_after_the_rows_and_htmx_gets_only_the_results(personas, listed):
    client = client_for(personas.owner)
    assert "4 found" in client.get("/opportunities/", {"part": "count"}).content.decode()
    assert "2 found" in client.get("/opportunities/", {"part": "count", "q": "alp"}).content.decode()
    response = client.get("/opportunities/", {"q": "beta"}, headers={**HTMX, "HX-Target": "results"})
    page = response.content.decode()
    assert "<html" not in page and 'class="filters"' not in page and names_in(response) == ["Beta boats"]


@pytest.mark.parametrize("query", [{"cursor": "forged"}, {"ordering": "secret"}, {"colour": "red"},
                                   {"open": "maybe"}, {"close_from": "soon"}, {"stage": "nosuchstage"}])
def test_bad_list_query_shows_a_message_not_a_crash(personas, listed, query):
    response = client_for(personas.owner).get("/opportunities/", query)
    assert response.status_code == 400
    assert b'role="alert"' in response.content


# --- The board and moving a card ------------------------------------------------------------------


def column_of(page: str, name: str) -> str:
    """The stage id of the column holding the card named `name`."""
    for match in re.finditer(r'<section class="board-column[^"]*" data-stage="([a-z2-7]{16})"(.*?)</section>', page,
                             re.S):
        if f">{name}</a>" in match.group(2):
            return match.group(1)
    raise AssertionError(f"{name} is on no column")


def test_board_shows_a_column_per_stage_with_cards_and_totals(personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    deal(personas.owner, account, "Small", amount="1000", probability=20, expected_close_on=dt.date(2030, 5, 2))
    deal(personas.teammate, account, "Large", amount="2500.50")
    deal(personas.owner, account, "Dollars", amount="300", currency="USD")
    deal(personas.outsider, account, "Hidden", visibility=Visibility.PRIVATE)
    response = client_for(personas.owner).get("/opportunities/board/")
    page = response.content.decode()
    assert response.status_code == 200
    for name in ("Prospecting", "Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"):
        assert f">{name} <span" in page, name
    assert column_of(page, "Small") == column_of(page, "Large") == stage("Prospecting").public_id
    assert "Hidden" not in page
    # Totals per currency: 1000 + 2500.50 EUR, weighted 20 % and 10 %; the dollars apart.
    assert "3,500.50 EUR" in page and "weighted 450.05" in page and "300.00 USD" in page
    assert "Closed in the last 90 days" in page
    assert "2 May 2030" in page and "Acme" in page
    # Every card the user may change has the keyboard form; the teammate's card has none.
    assert page.count('class="deal-move"') == 2
    assert 'aria-current="page"' in page and ">Pipeline</a>" in page  # the nav item points here


def test_board_of_another_pipeline(personas):
    other = Pipeline.objects.create(name="Renewals", position=1)
    PipelineStage.objects.create(pipeline=other, name="Due", position=0, probability=50)
    page = client_for(personas.owner).get("/opportunities/board/", {"pipeline": other.public_id}).content.decode()
    assert ">Due <span" in page and ">Prospecting <span" not in page
    assert client_for(personas.owner).get("/opportunities/board/", {"pipeline": "nosuchpipeline"}).status_code == 404


def test_board_with_a_bad_owner_or_without_any_pipeline_says_why(personas):
    client = client_for(personas.owner)
    response = client.get("/opportunities/board/", {"owner": "nosuchuser"})
    assert response.status_code == 400 and "No such user." in response.content.decode()
    assert ">Prospecting <span" in response.content.decode()
    Pipeline.objects.all().delete()
    response = client.get("/opportunities/board/")
    assert response.status_code == 200 and "No pipeline is set up yet" in response.content.decode()


def test_moving_a_card_changes_the_stage_probability_and_records_the_change(personas):
    account = AccountFactory(owner=personas.owner)
    opportunity = deal(personas.owner, account, "Fleet", amount="1000", probability=25)
    client = client_for(personas.owner)
    response = client.post(f"/opportunities/{opportunity.public_id}/move/",
                           {"stage": stage("Proposal").public_id, "version": opportunity.version,
                            "next": "/opportunities/board/?owner=me"}, headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div id="board"' in page[:200] and "<html" not in page  # only the board, drawn again
    assert "Fleet moved to Proposal." in page
    assert column_of(page, "Fleet") == stage("Proposal").public_id
    assert "weighted 600.00" in page  # the Proposal column's total, at the stage's 60 %
    opportunity.refresh_from_db()
    assert (opportunity.stage.name, opportunity.probability, opportunity.is_open) == ("Proposal", 60, True)
    change = OpportunityStageChange.objects.filter(opportunity=opportunity).latest("changed_at")
    assert (change.from_stage.name, change.to_stage.name, change.changed_by) == ("Prospecting", "Proposal",
                                                                                 personas.owner)
    assert change.changed_at.date() == timezone.now().date()
    detail = client.get(f"/opportunities/{opportunity.public_id}/").content.decode()
    assert "Prospecting → Proposal" in detail


def test_moving_without_javascript_goes_back_to_a_safe_next(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    client = client_for(personas.owner)
    response = client.post(f"/opportunities/{opportunity.public_id}/move/",
                           {"stage": stage("Won").public_id, "version": opportunity.version,
                            "next": "/opportunities/board/?owner=me"})
    assert response.status_code == 302 and response["Location"] == "/opportunities/board/?owner=me"
    opportunity.refresh_from_db()
    assert (opportunity.is_open, opportunity.probability, opportunity.closed_on) == (False, 100,
                                                                                     timezone.localdate())
    response = client.post(f"/opportunities/{opportunity.public_id}/move/",
                           {"stage": stage("Lost").public_id, "version": opportunity.version,
                            "next": "https://evil.example/"})
    pipeline = stage("Lost").pipeline.public_id
    assert response.status_code == 302 and response["Location"] == f"/opportunities/board/?pipeline={pipeline}"
    board = client.get(response["Location"]).content.decode()
    assert "Fleet moved to Lost." in board and column_of(board, "Fleet") == stage("Lost").public_id


def test_moving_with_a_stale_version_is_409_and_changes_nothing(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    client = client_for(personas.owner)
    data = {"stage": stage("Proposal").public_id, "version": opportunity.version + 5}
    response = client.post(f"/opportunities/{opportunity.public_id}/move/", data, headers=HTMX)
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert column_of(response.content.decode(), "Fleet") == stage("Prospecting").public_id
    response = client.post(f"/opportunities/{opportunity.public_id}/move/", data)
    assert response.status_code == 302
    assert "changed by someone else" in client.get(response["Location"]).content.decode()
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Prospecting" and opportunity.stage_changes.count() == 1


def test_moving_to_a_stage_of_another_pipeline_is_refused(personas):
    other = Pipeline.objects.create(name="Renewals", position=1)
    due = PipelineStage.objects.create(pipeline=other, name="Due", position=0, probability=50)
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    client = client_for(personas.owner)
    for headers in (HTMX, {}):
        response = client.post(f"/opportunities/{opportunity.public_id}/move/",
                               {"stage": due.public_id, "version": opportunity.version}, headers=headers)
        assert response.status_code == 400
        assert "Due belongs to the pipeline Renewals, not to this opportunity" in html.unescape(
            response.content.decode())
    response = client.post(f"/opportunities/{opportunity.public_id}/move/",
                           {"stage": "nosuchstage", "version": opportunity.version})
    assert response.status_code == 400
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Prospecting" and opportunity.version == 1
    assert opportunity.stage_changes.count() == 1


def test_moving_someone_elses_card_is_refused(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    hidden = deal(personas.owner, AccountFactory(owner=personas.owner), "Secret", visibility=Visibility.PRIVATE)
    data = {"stage": stage("Proposal").public_id, "version": 1}
    assert client_for(personas.teammate).post(f"/opportunities/{opportunity.public_id}/move/", data).status_code == 403
    assert client_for(personas.outsider).post(f"/opportunities/{hidden.public_id}/move/", data).status_code == 404
    assert Opportunity.objects.filter(stage__name="Prospecting").count() == 2


# --- The forecast ----------------------------------------------------------------------------------


def test_forecast_sums_by_month_owner_and_currency(personas):
    account = AccountFactory(owner=personas.owner)
    jan, feb = dt.date(2030, 1, 10), dt.date(2030, 2, 5)
    deal(personas.owner, account, "A", amount="1000", probability=20, expected_close_on=jan)
    deal(personas.teammate, account, "B", amount="2500", probability=60, expected_close_on=jan.replace(day=20))
    deal(personas.owner, account, "C", amount="400", probability=80, expected_close_on=feb)
    deal(personas.teammate, account, "Dollars", amount="300", probability=50, currency="USD",
         expected_close_on=feb)
    deal(personas.owner, account, "Too late", amount="7000", probability=90, expected_close_on=dt.date(2030, 3, 1))
    won = deal(personas.owner, account, "Closed", amount="5000", probability=40, expected_close_on=jan)
    services.opportunity_move(actor=personas.owner, opportunity=won, stage=stage("Won"), version=won.version)
    deal(personas.outsider, account, "Hidden", amount="8000", probability=50, expected_close_on=jan,
         visibility=Visibility.PRIVATE)

    response = client_for(personas.manager).get("/opportunities/forecast/", {"from": "2030-01", "to": "2030-02"})
    assert response.status_code == 200
    result = response.context["result"]

    def rows(items):
        return [(str(r.key), r.currency, r.count, r.amount, r.weighted) for r in items]

    d = Decimal
    owner, teammate = personas.owner.display_name, personas.teammate.display_name
    assert rows(result.by_month) == [
        ("2030-01-01", "EUR", 2, d("3500.00"), d("1700.00")),  # 1000 × 20 % + 2500 × 60 %
        ("2030-02-01", "EUR", 1, d("400.00"), d("320.00")),
        ("2030-02-01", "USD", 1, d("300.00"), d("150.00")),
    ]
    assert sorted(rows(result.by_owner)) == sorted([
        (owner, "EUR", 2, d("1400.00"), d("520.00")),
        (teammate, "EUR", 1, d("2500.00"), d("1500.00")),
        (teammate, "USD", 1, d("300.00"), d("150.00")),
    ])
    assert rows(result.totals) == [("None", "EUR", 3, d("3900.00"), d("2020.00")),
                                   ("None", "USD", 1, d("300.00"), d("150.00"))]
    page = response.content.decode()
    for text in ("January 2030", "3,500.00", "1,700.00", "2,020.00", "3,900.00", "<svg", "USD"):
        assert text in page, text
    assert "7,000.00" not in page and "5,000.00" not in page and "8,000.00" not in page
    # One bar chart per currency; January's EUR bar is the tallest.
    assert page.count('class="bar"') == 4
    assert response.context["charts"][0].bars[0].height > response.context["charts"][0].bars[1].height > 0

    mine = client_for(personas.manager).get("/opportunities/forecast/", {"from": "2030-01", "to": "2030-02",
                                                                          "owner": personas.owner.public_id})
    assert [r.currency for r in mine.context["result"].totals] == ["EUR"]
    assert mine.context["result"].totals[0].weighted == d("520.00")


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"from": "January"}, "from", "Enter a month as YYYY-MM."),
    ({"from": "2030-05", "to": "2030-01"}, "to", "The last month comes before the first."),
    ({"owner": "nosuchuser"}, "owner", "No such user."),
])
def test_forecast_bad_input_is_400_next_to_the_field(personas, query, field, message):
    response = client_for(personas.owner).get("/opportunities/forecast/", query)
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(rf'id="forecast-{field}-error"><p>{re.escape(message)}</p>', page), page


def test_forecast_defaults_to_this_month_and_the_next_five(personas):
    response = client_for(personas.owner).get("/opportunities/forecast/")
    assert response.status_code == 200
    today = timezone.localdate()
    assert f'value="{today:%Y-%m}"' in response.content.decode()
    assert len(response.context["charts"]) == 0  # no deals, no chart


# --- The form --------------------------------------------------------------------------------------


def test_new_deal_from_an_account_starts_with_it(personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    page = client_for(personas.owner).get("/opportunities/new/", {"account": account.public_id}).content.decode()
    assert f'<option value="{account.public_id}" selected>Acme</option>' in page
    assert f'<option value="{stage("Prospecting").public_id}" selected>' in page
    assert '<optgroup label="Sales">' in page
    assert '<option value="EUR" selected>EUR</option>' in page


def test_create_with_contacts_and_roles(personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    anna = ContactFactory(first_name="Anna", last_name="Berg", owner=personas.owner, account=account)
    bo = ContactFactory(first_name="Bo", last_name="Ek", owner=personas.teammate)
    client = client_for(personas.owner)
    response = client.post("/opportunities/new/", deal_form(personas.owner, account, **{
        "amount": "12500.50", "expected_close_on": "2030-06-30", "next_step": "Send the offer",
        "contacts-TOTAL_FORMS": "3", "contacts-INITIAL_FORMS": "0",
        "contacts-0-contact": anna.public_id, "contacts-0-role": "Decision maker",
        "contacts-1-contact": bo.public_id, "contacts-1-role": "Champion",
        "contacts-2-contact": "", "contacts-2-role": ""}))
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{opportunity.public_id}/"
    assert (opportunity.amount, opportunity.probability, opportunity.stage.name) == (Decimal("12500.50"), 10,
                                                                                   "Prospecting")
    roles = {(row.contact.last_name, row.role) for row in OpportunityContact.objects.filter(opportunity=opportunity)}
    assert roles == {("Berg", "Decision maker"), ("Ek", "Champion")}
    page = client.get(response["Location"]).content.decode()
    assert "Fleet renewal was created." in page
    assert "Anna Berg" in page and "Decision maker" in page and "Champion" in page
    assert "12,500.50 EUR" in page and "1,250.05 EUR" in page  # weighted at the stage's 10 %
    assert "Send the offer" in page


def test_a_contact_the_user_may_not_see_cannot_be_added(personas):
    account = AccountFactory(owner=personas.owner)
    hidden = ContactFactory(last_name="Hid", owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = client_for(personas.owner).post("/opportunities/new/", deal_form(personas.owner, account, **{
        "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0", "contacts-0-contact": hidden.public_id,
        "contacts-0-role": "Spy"}))
    assert response.status_code == 400
    assert field_error(response, "contacts-0-contact")
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"amount": "-5"}, "amount", "greater than or equal to 0"),
    ({"currency": "XYZ"}, "currency", "Select a valid choice"),
    ({"probability": "150"}, "probability", "less than or equal to 100"),
    ({"name": ""}, "name", "This field is required."),
    ({"account": ""}, "account", "Choose the account this deal is with."),
    ({"expected_close_on": "someday"}, "expected_close_on", "Enter a valid date."),
    ({"stage": "nosuchstage"}, "stage", "Select a valid choice"),
])
def test_bad_input_is_answered_on_the_field_and_nothing_is_saved(personas, fields, field, message):
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.owner).post("/opportunities/new/", deal_form(personas.owner, account, **fields))
    assert response.status_code == 400
    assert message in field_error(response, field), response.content.decode()
    assert not Opportunity.objects.exists() and not OpportunityStageChange.objects.exists()


def test_an_owner_outside_the_users_scope_is_refused_on_the_field(personas):
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.owner).post("/opportunities/new/", deal_form(
        personas.owner, account, owner=personas.teammate.public_id))
    assert response.status_code == 403
    assert field_error(response, "owner")
    assert not Opportunity.objects.exists()


def test_edit_with_a_stale_version_is_409_and_nothing_is_saved(personas):
    account = AccountFactory(owner=personas.owner)
    opportunity = deal(personas.owner, account, "Fleet", amount="1000")
    services.opportunity_update(actor=personas.owner, opportunity=opportunity, data={"amount": "1200"},
                                version=opportunity.version)
    response = client_for(personas.owner).post(f"/opportunities/{opportunity.public_id}/edit/", deal_form(
        personas.owner, account, name="Renamed", amount="5", version="1"))
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.amount, opportunity.version) == ("Fleet", Decimal("1200.00"), 2)


def test_edit_keeps_people_the_editor_may_not_see_and_blank_probability_means_the_stage_default(personas):
    account = AccountFactory(owner=personas.owner)
    seen = ContactFactory(last_name="Seen", owner=personas.owner)
    hidden = ContactFactory(last_name="Unseen", owner=personas.admin, visibility=Visibility.PRIVATE)
    opportunity = services.opportunity_create(
        actor=personas.admin, contacts=[(seen, "Buyer"), (hidden, "Secret sponsor")],
        data={"name": "Fleet", "account": account, "owner": personas.owner, "probability": 35})
    client = client_for(personas.owner)
    form = client.get(f"/opportunities/{opportunity.public_id}/edit/").content.decode()
    assert "Seen" in form and "Unseen" not in form and "Secret sponsor" not in form
    assert 'name="probability" value="35"' in form
    response = client.post(f"/opportunities/{opportunity.public_id}/edit/", deal_form(personas.owner, account, **{
        "name": "Fleet", "version": opportunity.version, "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "1",
        "contacts-0-contact": seen.public_id, "contacts-0-role": "Economic buyer"}))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.probability == 10  # blank: Prospecting's default
    roles = {(row.contact.last_name, row.role) for row in OpportunityContact.objects.filter(opportunity=opportunity)}
    assert roles == {("Seen", "Economic buyer"), ("Unseen", "Secret sponsor")}


def test_a_long_past_close_date_is_a_warning_not_a_refusal(personas):
    account = AccountFactory(owner=personas.owner)
    client = client_for(personas.owner)
    response = client.post("/opportunities/new/", deal_form(personas.owner, account, expected_close_on="2020-01-31"),
                           follow=True)
    assert response.status_code == 200
    assert Opportunity.objects.get().expected_close_on == dt.date(2020, 1, 31)
    page = response.content.decode()
    assert 'class="message warning"' in page and "2020-01-31 is long past" in page


def test_read_only_users_get_no_buttons_and_no_forms(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    client = client_for(personas.viewer)
    assert b"/opportunities/new/" not in client.get("/opportunities/").content
    assert client.get("/opportunities/new/").status_code == 403
    detail = client.get(f"/opportunities/{opportunity.public_id}/").content.decode()
    assert "/edit/" not in detail and "/delete/" not in detail
    board = client.get("/opportunities/board/").content.decode()
    assert 'class="deal-move"' not in board and 'draggable="true"' not in board


# --- Detail, delete and undo -----------------------------------------------------------------------


def test_detail_shows_facts_people_stages_and_history(personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    anna = ContactFactory(first_name="Anna", last_name="Berg", owner=personas.owner)
    hidden = ContactFactory(first_name="Hid", last_name="Den", owner=personas.outsider, visibility=Visibility.PRIVATE)
    opportunity = services.opportunity_create(actor=personas.owner, contacts=[(anna, "Champion"), (hidden, "Mole")],
                                              data={"name": "Fleet", "account": account, "amount": "2000",
                                                    "source": "Trade fair"})
    services.opportunity_move(actor=personas.owner, opportunity=opportunity, stage=stage("Proposal"), version=1)
    page = client_for(personas.owner).get(f"/opportunities/{opportunity.public_id}/").content.decode()
    for text in ("Acme", "Proposal", "2,000.00 EUR", "60 %", "1,200.00 EUR", "Trade fair", "Anna Berg", "Champion",
                 "Prospecting → Proposal", "History", f"/activities/about/{opportunity.ref}/",
                 f"/notes/about/{opportunity.ref}/", f"/opportunities/{opportunity.public_id}/edit/"):
        assert text in page, text
    assert "Hid Den" not in page and "Mole" not in page


def test_delete_offers_undo_and_restore_brings_it_back(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    client = client_for(personas.owner)
    response = client.post(f"/opportunities/{opportunity.public_id}/delete/", {"version": opportunity.version})
    assert response.status_code == 302 and response["Location"] == "/opportunities/"
    page = client.get("/opportunities/").content.decode()
    assert "Fleet is in the trash." in page and f"/opportunities/{opportunity.public_id}/restore/" in page
    assert client.get(f"/opportunities/{opportunity.public_id}/").status_code == 404
    response = client.post(f"/opportunities/{opportunity.public_id}/restore/")
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{opportunity.public_id}/"
    assert "Fleet was restored." in client.get(response["Location"]).content.decode()
    assert client.post(f"/opportunities/{opportunity.public_id}/restore/").status_code == 404


def test_delete_with_a_stale_version_deletes_nothing(personas):
    opportunity = deal(personas.owner, AccountFactory(owner=personas.owner), "Fleet")
    response = client_for(personas.owner).post(f"/opportunities/{opportunity.public_id}/delete/", {"version": 7})
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{opportunity.public_id}/"
    assert Opportunity.objects.get(pk=opportunity.pk).deleted_at is None


# --- Panels on account and contact pages -----------------------------------------------------------


def test_account_panel_shows_only_visible_deals(personas):
    account = AccountFactory(name="Acme", owner=personas.owner)
    deal(personas.owner, account, "Mine")
    deal(personas.teammate, account, "Team deal", visibility=Visibility.TEAM)
    deal(personas.outsider, account, "Outsider secret", visibility=Visibility.PRIVATE)
    deal(personas.owner, AccountFactory(owner=personas.owner), "Other account")
    client = client_for(personas.owner)
    account_page = client.get(f"/accounts/{account.public_id}/").content.decode()
    assert f"/opportunities/about/account:{account.public_id}/" in account_page
    response = client.get(f"/opportunities/about/account:{account.public_id}/")
    assert response.status_code == 200
    assert sorted(names_in(response)) == ["Mine", "Team deal"]
    assert "Outsider secret" not in response.content.decode()
    assert f"/opportunities/new/?account={account.public_id}" in response.content.decode()
    outsider = client_for(personas.outsider).get(f"/opportunities/about/account:{account.public_id}/")
    assert sorted(names_in(outsider)) == ["Mine", "Outsider secret"]
    viewer = client_for(personas.viewer).get(f"/opportunities/about/account:{account.public_id}/").content.decode()
    assert "/opportunities/new/" not in viewer


def test_contact_panel_shows_visible_deals_with_roles(personas):
    account = AccountFactory(owner=personas.owner)
    anna = ContactFactory(last_name="Berg", owner=personas.owner, account=account)
    services.opportunity_create(actor=personas.owner, contacts=[(anna, "Champion")],
                                data={"name": "Open deal", "account": account})
    services.opportunity_create(actor=personas.outsider, contacts=[(anna, "Blocker")],
                                data={"name": "Secret deal", "account": account, "visibility": "private"})
    response = client_for(personas.owner).get(f"/opportunities/about/contact:{anna.public_id}/")
    page = response.content.decode()
    assert names_in(response) == ["Open deal"] and "Champion" in page
    assert "Secret deal" not in page and "Blocker" not in page
    assert f"/opportunities/new/?account={account.public_id}&amp;contact={anna.public_id}" in page
    form = client_for(personas.owner).get(f"/opportunities/new/?account={account.public_id}"
                                          f"&contact={anna.public_id}").content.decode()
    assert f'<option value="{anna.public_id}" selected>' in form


def test_panels_answer_404_for_what_the_user_may_not_see(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    client = client_for(personas.owner)
    for ref in (f"account:{hidden.public_id}", "account:nosuchaccount", "nonsense", "planet:earth",
                f"opportunity:{deal(personas.owner, AccountFactory(owner=personas.owner), 'X').public_id}"):
        assert client.get(f"/opportunities/about/{ref}/").status_code == 404, ref


def test_contact_picker_offers_only_visible_contacts(personas):
    ContactFactory(first_name="Anna", last_name="Berg", owner=personas.owner)
    ContactFactory(first_name="Hid", last_name="Bergman", owner=personas.outsider, visibility=Visibility.PRIVATE)
    page = client_for(personas.owner).get("/contacts/lookup/", {"lookup": "berg"}).content.decode()
    assert "Anna Berg" in page and "Bergman" not in page


# --- No query per row ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/opportunities/", "/opportunities/board/"])
def test_list_and_board_cost_the_same_queries_for_few_and_many_deals(personas, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add(n: int) -> None:
        for i in range(n):
            owner = (personas.owner, personas.teammate)[i % 2]
            deal(owner, AccountFactory(owner=owner), f"Deal {i} {n}", stage=stage(("Prospecting", "Proposal")[i % 2]))

    add(2)
    few = queries()
    add(20)
    assert queries() == few
