"""The lead pages: the list, the form, the lead's page, delete and undo, and converting a lead.
What a user sees; who may open which page is the permission matrix's."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from rapport.core.models import Visibility
from rapport.directory.models import Account, Contact
from rapport.sales import services
from rapport.sales.models import Lead, LeadStatus, Opportunity
from tests.conftest import client_for
from tests.factories import AccountFactory, ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def lead(actor, **data) -> Lead:
    return services.lead_create(actor=actor, data={"last_name": "Lead", **data})


def listed(response) -> list[str]:
    """Lead last names (or companies) linked from a list page, in page order."""
    ids = re.findall(r'href="/leads/([a-z2-7]{16})/"', response.content.decode())
    by_id = {r.public_id: r.last_name or r.company for r in Lead.objects.filter(public_id__in=ids)}
    return [by_id[i] for i in ids]


def link(response, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def lead_form(user, **fields) -> dict:
    return {"first_name": "Ada", "last_name": "Lovelace", "company": "Engines Ltd", "status": "new",
            "owner": user.public_id, "visibility": "everyone", **fields}


# --- The list ------------------------------------------------------------------------------------


@pytest.fixture
def leads(personas):
    lead(personas.owner, last_name="Berg", company="Acme", email="berg@acme.test", source="Fair", status="qualified")
    lead(personas.owner, last_name="Bergman", source="Website")
    lead(personas.teammate, last_name="Zeta", source="fair", status="contacted")
    lead(personas.outsider, last_name="Hidden", visibility=Visibility.PRIVATE)
    lead(personas.owner, last_name="", first_name="", company="Nameless Co")


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["Berg", "Bergman", "Nameless Co", "Zeta"]),
    ({"q": "berg"}, ["Berg", "Bergman"]),
    ({"q": "BERG@acme.test"}, ["Berg"]),
    ({"status": "contacted"}, ["Zeta"]),
    ({"source": "FAIR"}, ["Berg", "Zeta"]),
    ({"owner": "me"}, ["Berg", "Bergman", "Nameless Co"]),
    ({"ordering": "-name"}, ["Zeta", "Nameless Co", "Bergman", "Berg"]),
    ({"q": "", "status": ""}, ["Berg", "Bergman", "Nameless Co", "Zeta"]),
])
def test_lead_list_filters_and_sorts(personas, leads, query, expected):
    response = client_for(personas.owner).get("/leads/", query)
    assert response.status_code == 200
    assert listed(response) == expected


def test_lead_list_shows_the_columns(personas, leads):
    page = text(client_for(personas.owner).get("/leads/", {"q": "berg"}))
    for column in ("Name", "Company", "Status", "Source", "Owner", "Changed"):
        assert f">{column}" in page
    assert "Berg" in page and "Acme" in page and "Qualified" in page and "Fair" in page


def test_lead_list_pages_forwards_and_back(personas):
    for i in range(5):
        lead(personas.owner, last_name=f"Page{i}")
    client = client_for(personas.owner)
    first = client.get("/leads/", {"limit": 2, "q": "page"})
    assert listed(first) == ["Page0", "Page1"] and link(first, "prev") is None
    second = client.get("/leads/" + link(first, "next"))
    assert listed(second) == ["Page2", "Page3"] and "q=page" in link(second, "next")
    third = client.get("/leads/" + link(second, "next"))
    assert listed(third) == ["Page4"] and link(third, "next") is None
    assert listed(client.get("/leads/" + link(third, "prev"))) == ["Page2", "Page3"]


@pytest.mark.parametrize("query", [{"status": "hot"}, {"cursor": "forged"}, {"ordering": "email"}, {"colour": "red"}])
def test_bad_lead_list_query_shows_a_message(personas, leads, query):
    response = client_for(personas.owner).get("/leads/", query)
    assert response.status_code == 400 and b'role="alert"' in response.content


def test_htmx_refresh_gets_only_the_results_and_the_count_follows(personas, leads):
    client = client_for(personas.owner)
    response = client.get("/leads/", {"q": "berg"}, headers={"HX-Request": "true", "HX-Target": "results"})
    page = response.content.decode()
    assert "<html" not in page and 'class="filters"' not in page and listed(response) == ["Berg", "Bergman"]
    assert "part=count" in page
    assert "2 found" in text(client.get("/leads/", {"q": "berg", "part": "count"}))


def test_read_only_users_get_no_new_lead_button(personas, leads):
    assert b"/leads/new/" not in client_for(personas.viewer).get("/leads/").content
    assert b"/leads/new/" in client_for(personas.owner).get("/leads/").content


# --- Create and edit -------------------------------------------------------------------------------


def test_create_a_lead(personas):
    client = client_for(personas.owner)
    assert client.get("/leads/new/").status_code == 200
    response = client.post("/leads/new/", lead_form(personas.owner, email="ada@engines.test", source="Fair"))
    created = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{created.public_id}/"
    assert (created.company, created.email, created.status, created.owner) == (
        "Engines Ltd", "ada@engines.test", "new", personas.owner)
    assert "Ada Lovelace (Engines Ltd) was created." in text(client.get(response["Location"]))


def test_the_form_does_not_offer_converted_as_a_status(personas):
    page = text(client_for(personas.owner).get("/leads/new/"))
    assert 'value="qualified"' in page and 'value="converted"' not in page
    response = client_for(personas.owner).post("/leads/new/", lead_form(personas.owner, status="converted"))
    assert response.status_code == 400 and 'id="id_status_error"' in text(response)
    assert not Lead.objects.exists()


def test_a_lead_needs_a_name_or_a_company(personas):
    response = client_for(personas.owner).post("/leads/new/", lead_form(
        personas.owner, first_name="", last_name="", company=""))
    page = text(response)
    assert response.status_code == 400
    assert 'id="id_last_name_error"' in page and "Give the lead a name, a company, or the contact it is." in page
    assert not Lead.objects.exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"status": "hot"}, "status"),
    ({"owner": "nobody"}, "owner"),
    ({"account": "zzzzzzzzzzzzzzzz"}, "account"),
])
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(personas, fields, field):
    response = client_for(personas.owner).post("/leads/new/", lead_form(personas.owner, **fields))
    assert response.status_code == 400 and f'id="id_{field}_error"' in text(response)
    assert not Lead.objects.exists()


def test_new_lead_about_an_account_and_a_contact(personas):
    account = AccountFactory(owner=personas.owner, name="Acme")
    contact = ContactFactory(owner=personas.owner, first_name="Anna", last_name="Berg", account=account)
    client = client_for(personas.owner)
    page = text(client.get("/leads/new/", {"account": account.public_id, "contact": contact.public_id}))
    assert f'<option value="{account.public_id}" selected>Acme</option>' in page
    assert f'<option value="{contact.public_id}" selected>Anna Berg</option>' in page
    response = client.post("/leads/new/", lead_form(personas.owner, account=account.public_id,
                                                    contact=contact.public_id))
    assert response.status_code == 302
    created = Lead.objects.get()
    assert (created.account, created.contact) == (account, contact)


def test_preselecting_a_hidden_account_reveals_nothing(personas):
    hidden = AccountFactory(owner=personas.outsider, name="Secret Co", visibility=Visibility.PRIVATE)
    page = text(client_for(personas.owner).get("/leads/new/", {"account": hidden.public_id}))
    assert "Secret Co" not in page and hidden.public_id not in page


def test_edit_a_lead(personas):
    record = lead(personas.owner, company="Old Co")
    client = client_for(personas.owner)
    form = text(client.get(f"/leads/{record.public_id}/edit/"))
    assert 'value="Old Co"' in form and 'name="version" value="1"' in form
    response = client.post(f"/leads/{record.public_id}/edit/", lead_form(
        personas.owner, company="New Co", status="qualified", version=1))
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.company, record.status, record.version) == ("New Co", "qualified", 2)


def test_stale_version_is_a_conflict_and_keeps_the_other_change(personas):
    record = lead(personas.owner, company="Original")
    services.lead_update(actor=personas.manager, lead=record, data={"company": "Manager's"}, version=1)
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/edit/",
                                               lead_form(personas.owner, company="Mine", version=1))
    assert response.status_code == 409
    assert "changed by someone else" in text(response) and "See the current version" in text(response)
    record.refresh_from_db()
    assert (record.company, record.version) == ("Manager's", 2)


def test_contact_picker_offers_only_visible_contacts(personas):
    ContactFactory(owner=personas.owner, first_name="Anna", last_name="Berg")
    ContactFactory(owner=personas.outsider, first_name="Secret", last_name="Bergson", visibility=Visibility.PRIVATE)
    page = text(client_for(personas.owner).get("/contacts/lookup/", {"lookup": "berg"}))
    assert re.findall(r'<option value="[a-z2-7]{16}"[^>]*>([^<]+)</option>', page) == ["Anna Berg"]


# --- The lead's page, delete, undo -----------------------------------------------------------------


def test_lead_page_shows_facts_history_and_panels(personas):
    record = lead(personas.owner, first_name="Ada", company="Engines Ltd", email="ada@engines.test",
                  source="Fair", remarks="Met at the fair")
    page = text(client_for(personas.owner).get(f"/leads/{record.public_id}/"))
    assert "Ada Lead (Engines Ltd)" in page and "ada@engines.test" in page and "Met at the fair" in page
    assert "History" in page
    assert f"/activities/about/{record.ref}/" in page and f"/notes/about/{record.ref}/" in page
    assert f"/leads/{record.public_id}/edit/" in page and f"/leads/{record.public_id}/convert/" in page


def test_someone_who_may_not_change_the_lead_gets_no_buttons(personas):
    record = lead(personas.owner)
    page = text(client_for(personas.teammate).get(f"/leads/{record.public_id}/"))
    assert "/edit/" not in page and "/delete/" not in page and "/convert/" not in page


def test_delete_then_undo(personas):
    record = lead(personas.owner, last_name="Gone")
    client = client_for(personas.owner)
    response = client.post(f"/leads/{record.public_id}/delete/", {"version": 1})
    assert response.status_code == 302 and response["Location"] == "/leads/"
    listing = text(client.get("/leads/"))
    assert "Gone is in the trash." in listing
    assert client.get(f"/leads/{record.public_id}/").status_code == 404
    restore = f"/leads/{record.public_id}/restore/"
    assert f'action="{restore}"' in listing
    assert client.post(restore)["Location"] == f"/leads/{record.public_id}/"
    assert Lead.objects.get(pk=record.pk).deleted_at is None


def test_delete_with_a_stale_version_is_refused(personas):
    record = lead(personas.owner)
    services.lead_update(actor=personas.owner, lead=record, data={"company": "Changed"}, version=1)
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/delete/", {"version": 1}, follow=True)
    assert "changed by someone else" in text(response)
    assert Lead.objects.get(pk=record.pk).deleted_at is None


# --- Convert ---------------------------------------------------------------------------------------


def convert_form(record, **fields) -> dict:
    return {"account_mode": "new", "contact_mode": "new", "create_opportunity": "on", "opportunity_name": "",
            "amount": "0", "currency": "EUR", "expected_close_on": "", "version": record.version, **fields}


def test_convert_page_proposes_the_defaults(personas):
    record = lead(personas.owner, first_name="Ada", last_name="Lovelace", company="Engines Ltd")
    page = text(client_for(personas.owner).get(f"/leads/{record.public_id}/convert/"))
    assert re.search(r'name="account_mode" value="new"[^>]*checked', page)
    assert re.search(r'name="contact_mode" value="new"[^>]*checked', page)
    assert re.search(r'name="create_opportunity"[^>]*checked', page)
    assert 'placeholder="Engines Ltd"' in page and 'name="currency" value="EUR"' in page
    assert "(Engines Ltd)" in page and "(Ada Lovelace)" in page


def test_convert_creates_account_contact_and_opportunity_and_keeps_the_lead(personas):
    record = lead(personas.owner, first_name="Ada", last_name="Lovelace", company="Engines Ltd",
                  email="ada@engines.test", title="CTO", source="Fair")
    call = ActivityFactory(owner=personas.owner, subject="First call", regarding=[record])
    client = client_for(personas.owner)
    response = client.post(f"/leads/{record.public_id}/convert/", convert_form(
        record, opportunity_name="Engines deal", amount="5000", currency="usd", expected_close_on="2027-03-31"))
    record.refresh_from_db()
    deal = Opportunity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{deal.public_id}/"
    account, contact = Account.objects.get(), Contact.objects.get()
    assert (account.name, contact.full_name, contact.email, contact.account) == (
        "Engines Ltd", "Ada Lovelace", "ada@engines.test", account)
    assert (deal.name, deal.amount, deal.currency, deal.account, str(deal.expected_close_on)) == (
        "Engines deal", Decimal("5000"), "USD", account, "2027-03-31")
    assert (record.status, record.account, record.contact, record.opportunity) == (
        LeadStatus.CONVERTED, account, contact, deal)
    assert record.converted_at is not None and record.deleted_at is None
    # The lead's page links to what it became and keeps its history.
    page = text(client.get(f"/leads/{record.public_id}/"))
    assert f"/accounts/{account.public_id}/" in page and f"/contacts/{contact.public_id}/" in page
    assert "Engines deal" in page and "This lead was converted on" in page
    history = re.sub(r"\s+", " ", page[page.index('id="history-heading"'):])
    assert "<td>Status</td><td>New</td><td>Converted</td>" in history and " created " in history
    assert f"/leads/{record.public_id}/convert/" not in page
    # The lead's activities now show on the account.
    panel = text(client.get(f"/activities/about/account:{account.public_id}/"))
    assert "First call" in panel and call.public_id in panel


def test_convert_without_an_opportunity_goes_to_the_account(personas):
    record = lead(personas.owner, company="Solo Co")
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/convert/",
                                               convert_form(record, create_opportunity=""))
    account = Account.objects.get()
    assert response["Location"] == f"/accounts/{account.public_id}/"
    assert not Opportunity.objects.exists()


def test_convert_with_an_existing_account_links_instead_of_creating(personas):
    existing = AccountFactory(owner=personas.teammate, name="Acme Group")
    person = ContactFactory(owner=personas.teammate, first_name="Anna", last_name="Berg", account=existing)
    record = lead(personas.owner, first_name="Anna", last_name="Berg", company="Acme")
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/convert/", convert_form(
        record, account_mode="existing", account=existing.public_id, contact_mode="existing",
        contact=person.public_id))
    assert response.status_code == 302
    assert list(Account.objects.all()) == [existing] and list(Contact.objects.all()) == [person]
    record.refresh_from_db()
    assert (record.account, record.contact, record.opportunity.account) == (existing, person, existing)
    assert record.opportunity.name == "Acme Group"  # the default name: the account's


def test_a_lead_about_an_account_converts_to_it_by_default(personas):
    existing = AccountFactory(owner=personas.owner, name="Acme Group")
    record = lead(personas.owner, company="Acme", account=existing)
    page = text(client_for(personas.owner).get(f"/leads/{record.public_id}/convert/"))
    assert re.search(r'name="account_mode" value="existing"[^>]*checked', page)
    assert f'<option value="{existing.public_id}" selected>Acme Group</option>' in page


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"account_mode": "existing", "account": ""}, "account", "Choose the account to link"),
    ({"contact_mode": "existing", "contact": ""}, "contact", "Choose the contact to link"),
    ({"currency": "XYZ"}, "currency", "XYZ is not a currency code"),
    ({"amount": "-5"}, "amount", "cannot be negative"),
    ({"expected_close_on": "someday"}, "expected_close_on", "Enter a valid date."),
])
def test_bad_conversion_input_is_shown_on_its_field_and_nothing_is_created(personas, fields, field, message):
    record = lead(personas.owner, first_name="Ada", company="Engines Ltd")
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/convert/",
                                               convert_form(record, **fields))
    page = text(response)
    assert response.status_code == 400 and f'id="id_{field}_error"' in page and message in page
    assert not Account.objects.exists() and not Contact.objects.exists() and not Opportunity.objects.exists()
    record.refresh_from_db()
    assert (record.status, record.version) == (LeadStatus.NEW, 1)


def test_convert_with_a_stale_version_is_a_conflict(personas):
    record = lead(personas.owner, company="Engines Ltd")
    form = convert_form(record)
    services.lead_update(actor=personas.manager, lead=record, data={"source": "Phone"}, version=1)
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/convert/", form)
    assert response.status_code == 409 and "changed by someone else" in text(response)
    assert not Account.objects.exists() and not Opportunity.objects.exists()


def test_converting_a_converted_lead_says_so_and_creates_nothing(personas):
    record = lead(personas.owner, company="Engines Ltd")
    client = client_for(personas.owner)
    client.post(f"/leads/{record.public_id}/convert/", convert_form(record))
    record.refresh_from_db()
    counts = (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count())
    response = client.post(f"/leads/{record.public_id}/convert/", convert_form(record))
    assert response.status_code == 409 and "This lead is converted already." in text(response)
    assert (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()) == counts
    page = text(client.get(f"/leads/{record.public_id}/convert/"))
    assert "This lead was converted on" in page and 'name="account_mode"' not in page


def test_a_converted_lead_links_only_to_what_the_user_may_see(personas):
    record = lead(personas.owner, first_name="Ada", company="Engines Ltd")
    services.lead_convert(actor=personas.owner, lead=record, version=1,
                          opportunity_data={"name": "Secret deal", "visibility": Visibility.PRIVATE})
    record.refresh_from_db()
    page = text(client_for(personas.teammate).get(f"/leads/{record.public_id}/"))
    assert f"/accounts/{record.account.public_id}/" in page
    assert "Secret deal" not in page and record.opportunity.public_id not in page


def test_a_converted_lead_cannot_be_set_back_on_the_form(personas):
    record = lead(personas.owner, company="Engines Ltd")
    services.lead_convert(actor=personas.owner, lead=record, version=1)
    record.refresh_from_db()
    response = client_for(personas.owner).post(f"/leads/{record.public_id}/edit/", lead_form(
        personas.owner, first_name="", last_name="Lead", company="Engines Ltd", status="new",
        version=record.version, title="Boss"))
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.title) == (LeadStatus.CONVERTED, "Boss")


def test_html_in_a_lead_is_escaped(personas):
    evil = '<script>alert("x")</script>'
    record = lead(personas.owner, last_name=evil, company=evil, source=evil[:100])
    client = client_for(personas.owner)
    for url in ("/leads/", f"/leads/{record.public_id}/", f"/leads/{record.public_id}/edit/",
                f"/leads/{record.public_id}/convert/"):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "&lt;script&gt;" in page, url


def test_the_list_shows_exactly_the_leads_each_persona_may_see(personas):
    """Until the matrix's list test builds leads: a lead of every persona per visibility, and a deleted one."""
    from tests.permissions.rules import PERSONAS, VISIBILITIES, sees

    made = {}
    for persona in PERSONAS:
        for visibility in (*VISIBILITIES, "gone"):
            record = lead(personas.admin, last_name=f"L-{persona}-{visibility}", owner=getattr(personas, persona),
                          visibility="everyone" if visibility == "gone" else visibility)
            if visibility == "gone":
                services.lead_delete(actor=personas.admin, lead=record)
            made[persona, visibility] = record
    for viewer in PERSONAS:
        response = client_for(getattr(personas, viewer)).get("/leads/", {"limit": 200})
        expected = {f"L-{p}-{v}" for (p, v) in made if v != "gone" and sees(viewer, p, v)}
        assert set(listed(response)) == expected, viewer
        page = response.content.decode()
        assert not [r.last_name for r in made.values() if r.last_name not in expected and r.last_name in page]


def test_the_list_costs_the_same_queries_for_few_and_many_leads(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.owner)
    counts = []
    for n in (2, 20):
        while Lead.objects.count() < n:
            lead(personas.admin, last_name=f"Q{Lead.objects.count()}", owner=personas.teammate)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/leads/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
