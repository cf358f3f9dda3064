"""The account and contact pages: lists, detail, forms, conflicts, duplicates, undo, escaping."""

from __future__ import annotations

import html
import re

import pytest

from rapport.core.models import Visibility
from rapport.directory import services
from rapport.directory.models import Account, Contact
from tests.conftest import client_for
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

NO_ADDRESSES = {"addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"}


def account_form(user, **fields) -> dict:
    return {"name": "Acme", "owner": user.public_id, "visibility": "everyone", **NO_ADDRESSES, **fields}


def names_in(response, model=Account) -> list[str]:
    """Record names linked from a list page, in page order."""
    ids = re.findall(r'href="/(?:accounts|contacts)/([a-z2-7]{16})/"', response.content.decode())
    by_id = {r.public_id: str(r) for r in model.objects.filter(public_id__in=ids)}
    return [by_id[i] for i in ids]


def link(response, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


# --- Lists --------------------------------------------------------------------------------


@pytest.fixture
def listed(personas):
    AccountFactory(name="Acme", owner=personas.owner, stage="mature")
    AccountFactory(name="Acorn", owner=personas.teammate, stage="growing")
    AccountFactory(name="Zeta", owner=personas.teammate)
    AccountFactory(name="Hidden", owner=personas.outsider, visibility=Visibility.PRIVATE)


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["Acme", "Acorn", "Zeta"]),
    ({"q": "ac"}, ["Acme", "Acorn"]),
    ({"owner": "me"}, ["Acme"]),
    ({"stage": "growing"}, ["Acorn"]),
    ({"ordering": "-name"}, ["Zeta", "Acorn", "Acme"]),
    ({"q": "", "stage": ""}, ["Acme", "Acorn", "Zeta"]),
])
def test_account_list_search_filters_and_sort(personas, listed, query, expected):
    response = client_for(personas.owner).get("/accounts/", query)
    assert response.status_code == 200
    assert names_in(response) == expected


def test_sort_header_says_how_the_list_is_sorted(personas, listed):
    page = client_for(personas.owner).get("/accounts/", {"ordering": "-name"}).content.decode()
    assert 'aria-sort="descending"' in page
    assert 'href="?ordering=name"' in page


def test_list_pages_forwards_and_back(personas):
    for i in range(7):
        AccountFactory(name=f"Firm {i}", owner=personas.owner)
    client = client_for(personas.owner)
    first = client.get("/accounts/", {"limit": 3, "q": "firm"})
    assert names_in(first) == ["Firm 0", "Firm 1", "Firm 2"]
    assert link(first, "prev") is None
    second = client.get("/accounts/" + link(first, "next"))
    assert names_in(second) == ["Firm 3", "Firm 4", "Firm 5"]
    assert "q=firm" in link(second, "next")
    third = client.get("/accounts/" + link(second, "next"))
    assert names_in(third) == ["Firm 6"] and link(third, "next") is None
    back = client.get("/accounts/" + link(third, "prev"))
    assert names_in(back) == ["Firm 3", "Firm 4", "Firm 5"]


@pytest.mark.parametrize("query", [{"cursor": "forged"}, {"ordering": "password"}, {"colour": "red"},
                                   {"stage": "booming"}, {"attr": "nocolon"}])
def test_bad_list_query_shows_a_message_not_a_crash(personas, listed, query):
    response = client_for(personas.owner).get("/accounts/", query)
    assert response.status_code == 400
    assert b'role="alert"' in response.content


def test_htmx_request_gets_only_the_results(personas, listed):
    response = client_for(personas.owner).get("/accounts/", {"q": "acm"},
                                              headers={"HX-Request": "true", "HX-Target": "results"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and 'class="filters"' not in page
    assert "<table" in page and names_in(response) == ["Acme"]


def test_contact_list_shows_account_only_when_visible(personas):
    hidden = AccountFactory(name="Secret Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    shown = AccountFactory(name="Open Co", owner=personas.outsider)
    ContactFactory(last_name="Berg", owner=personas.owner, account=hidden)
    ContactFactory(last_name="Ek", owner=personas.owner, account=shown)
    page = client_for(personas.owner).get("/contacts/")
    assert b"Open Co" in page.content and b"Secret Co" not in page.content
    assert [name.split()[-1] for name in names_in(page, Contact)] == ["Berg", "Ek"]


# --- Detail -----------------------------------------------------------------------------------


def test_account_page_shows_contacts_attributes_and_sub_accounts(personas):
    account = services.account_create(actor=personas.owner, data={"name": "Acme", "remarks": "region=north"})
    ContactFactory(first_name="Anna", last_name="Berg", owner=personas.owner, account=account)
    ContactFactory(first_name="Hid", last_name="Den", owner=personas.outsider, account=account,
                   visibility=Visibility.PRIVATE)
    AccountFactory(name="Acme Oslo", owner=personas.owner, parent=account)
    page = client_for(personas.owner).get(f"/accounts/{account.public_id}/").content.decode()
    assert "Anna Berg" in page and "Hid Den" not in page
    assert "region=north" in page and "/accounts/?attr=region:north" in page
    assert "Acme Oslo" in page
    assert "History" in page


def test_account_page_lists_only_visible_live_sub_accounts_by_name(personas):
    account = AccountFactory(owner=personas.owner, name="Holding")
    for name in ("Zeta", "Alpha", "Mid"):
        AccountFactory(name=f"Group {name}", owner=personas.owner, parent=account)
    AccountFactory(name="Group Secret", owner=personas.outsider, parent=account, visibility=Visibility.PRIVATE)
    gone = AccountFactory(name="Group Gone", owner=personas.owner, parent=account)
    services.account_delete(actor=personas.owner, account=gone)
    AccountFactory(name="Group Elsewhere", owner=personas.owner)  # not a sub-account
    response = client_for(personas.owner).get(f"/accounts/{account.public_id}/")
    section = response.content.decode().split('id="children-heading"')[1].split("</section>")[0]
    assert re.findall(r">([^<]+)</a>", section) == ["Group Alpha", "Group Mid", "Group Zeta"]


def test_hidden_account_with_visible_sub_accounts_is_still_404(personas):
    account = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE)
    AccountFactory(owner=personas.teammate, parent=account)
    assert client_for(personas.teammate).get(f"/accounts/{account.public_id}/").status_code == 404


def test_hidden_record_pages_are_404(personas):
    account = AccountFactory(owner=personas.owner, visibility=Visibility.PRIVATE)
    contact = ContactFactory(owner=personas.owner, visibility=Visibility.PRIVATE)
    client = client_for(personas.teammate)
    for url in (f"/accounts/{account.public_id}/", f"/accounts/{account.public_id}/edit/",
                f"/contacts/{contact.public_id}/", f"/contacts/{contact.public_id}/edit/", "/accounts/nope/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/accounts/{account.public_id}/delete/").status_code == 404
    assert Account.objects.get(pk=account.pk).deleted_at is None


def test_visible_but_not_editable_offers_no_buttons_and_refuses_edits(personas):
    account = AccountFactory(owner=personas.owner, name="Theirs")
    client = client_for(personas.teammate)
    page = client.get(f"/accounts/{account.public_id}/").content.decode()
    assert "/edit/" not in page and "/delete/" not in page
    assert client.get(f"/accounts/{account.public_id}/edit/").status_code == 403
    response = client.post(f"/accounts/{account.public_id}/edit/", account_form(personas.teammate, version=1))
    assert response.status_code == 403
    assert client.post(f"/accounts/{account.public_id}/delete/", {"version": 1}).status_code == 403
    assert Account.objects.get(pk=account.pk).name == "Theirs"


def test_read_only_user_gets_no_create_button_and_no_create_form(personas):
    client = client_for(personas.viewer)
    assert b"/accounts/new/" not in client.get("/accounts/").content
    assert client.get("/accounts/new/").status_code == 403
    assert client.post("/accounts/new/", account_form(personas.viewer)).status_code == 403
    assert not Account.objects.exists()


# --- Forms -------------------------------------------------------------------------------------


def test_create_an_account(personas):
    client = client_for(personas.owner)
    assert client.get("/accounts/new/").status_code == 200
    response = client.post("/accounts/new/", account_form(personas.owner, website="acme.test",
                                                          remarks="tier=gold"))
    account = Account.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.public_id}/"
    assert account.website == "https://acme.test" and account.owner == personas.owner
    assert client.get(response["Location"]).content.count(b"Acme was created.") == 1


def test_edit_an_account(personas):
    account = AccountFactory(owner=personas.owner, name="Old name")
    client = client_for(personas.owner)
    form = client.get(f"/accounts/{account.public_id}/edit/").content.decode()
    assert 'value="Old name"' in form and 'name="version" value="1"' in form
    response = client.post(f"/accounts/{account.public_id}/edit/",
                           account_form(personas.owner, name="New name", industry="Tools", version=1))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.industry, account.version) == ("New name", "Tools", 2)


def test_edit_a_contact_and_link_an_account(personas):
    acme = AccountFactory(owner=personas.owner, name="Acme")
    contact = ContactFactory(owner=personas.owner, last_name="Berg")
    response = client_for(personas.owner).post(f"/contacts/{contact.public_id}/edit/", {
        "last_name": "Berg", "title": "CTO", "account": acme.public_id, "owner": personas.owner.public_id,
        "visibility": "team", "version": 1, **NO_ADDRESSES})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.title, contact.account, contact.visibility) == ("CTO", acme, "team")


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"name": ""}, "name", "This field is required."),
    ({"name": "x" * 201}, "name", "Ensure this value has at most 200 characters"),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"website": "not a url"}, "website", "Enter a valid URL."),
    ({"stage": "booming"}, "stage", "Select a valid choice."),
    ({"owner": "nobody"}, "owner", "Select a valid choice."),
])
def test_form_shows_field_errors_and_stores_nothing(personas, fields, field, message):
    response = client_for(personas.owner).post("/accounts/new/", account_form(personas.owner, **fields))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert message in html.unescape(page)
    assert not Account.objects.exists()


def test_an_owner_outside_the_users_scope_is_refused_on_the_field(personas):
    response = client_for(personas.owner).post("/accounts/new/",
                                               account_form(personas.owner, owner=personas.teammate.public_id))
    assert response.status_code == 403
    assert b'id="id_owner_error"' in response.content and b"You may not give records to that owner" in response.content
    assert not Account.objects.exists()


def test_stale_version_shows_the_conflict_and_keeps_the_other_change(personas):
    account = AccountFactory(owner=personas.owner, name="Original")
    services.account_update(actor=personas.manager, account=account, version=1, data={"name": "Manager's"})
    response = client_for(personas.owner).post(f"/accounts/{account.public_id}/edit/",
                                               account_form(personas.owner, name="Mine", version=1))
    assert response.status_code == 409
    assert b"changed by someone else" in response.content
    assert b"See the current version" in response.content
    account.refresh_from_db()
    assert account.name == "Manager's" and account.version == 2


def test_duplicate_warning_then_create_anyway(personas):
    existing = AccountFactory(name="Acme", owner=personas.teammate, email="info@acme.test")
    client = client_for(personas.owner)
    response = client.post("/accounts/new/", account_form(personas.owner, name="Acme AS", email="INFO@acme.test"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "This may be a duplicate." in page and f"/accounts/{existing.public_id}/" in page
    assert "Create anyway" in page
    assert re.search(r'name="confirm_duplicate" value="(on|True)"', page)
    assert Account.objects.count() == 1
    response = client.post("/accounts/new/", account_form(personas.owner, name="Acme AS", email="INFO@acme.test",
                                                          confirm_duplicate="on"))
    assert response.status_code == 302
    assert Account.objects.count() == 2


def test_duplicate_contact_warning(personas):
    ContactFactory(owner=personas.owner, email="anna@acme.test")
    response = client_for(personas.owner).post("/contacts/new/", {
        "last_name": "Berg", "email": "anna@acme.test", "owner": personas.owner.public_id,
        "visibility": "everyone", **NO_ADDRESSES})
    assert response.status_code == 409 and b"This may be a duplicate." in response.content


def test_edit_keeps_a_link_to_an_account_the_editor_cannot_see(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE, name="Secret Co")
    contact = ContactFactory(owner=personas.owner, last_name="Berg", account=hidden)
    client = client_for(personas.owner)
    assert b"Secret Co" not in client.get(f"/contacts/{contact.public_id}/edit/").content
    response = client.post(f"/contacts/{contact.public_id}/edit/", {
        "last_name": "Berg", "title": "CEO", "owner": personas.owner.public_id, "visibility": "everyone",
        "version": 1, **NO_ADDRESSES})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.account_id == hidden.pk and contact.title == "CEO"


def test_an_account_cannot_be_its_own_parent(personas):
    account = AccountFactory(owner=personas.owner, name="Loop")
    response = client_for(personas.owner).post(f"/accounts/{account.public_id}/edit/",
                                               account_form(personas.owner, name="Loop", version=1,
                                                            parent=account.public_id))
    assert response.status_code == 400 and b'id="id_parent_error"' in response.content
    assert Account.objects.get(pk=account.pk).parent_id is None


def test_addresses_are_added_changed_and_removed_on_the_form(personas):
    client = client_for(personas.owner)
    client.post("/accounts/new/", account_form(personas.owner, **{
        "addresses-TOTAL_FORMS": "1", "addresses-0-kind": "billing", "addresses-0-city": "Oslo"}))
    account = Account.objects.get()
    address = account.addresses.get()
    assert (address.kind, address.city) == ("billing", "Oslo")
    page = client.get(f"/accounts/{account.public_id}/").content.decode()
    assert "Oslo" in page
    client.post(f"/accounts/{account.public_id}/edit/", account_form(personas.owner, version=1, **{
        "addresses-TOTAL_FORMS": "1", "addresses-INITIAL_FORMS": "1", "addresses-0-id": address.pk,
        "addresses-0-kind": "billing", "addresses-0-city": "Bergen"}))
    assert list(account.addresses.values_list("city", flat=True)) == ["Bergen"]
    address = account.addresses.get()
    account.refresh_from_db()
    assert account.version == 2  # changing only an address is a change of the account
    client.post(f"/accounts/{account.public_id}/edit/", account_form(personas.owner, version=2, **{
        "addresses-TOTAL_FORMS": "1", "addresses-INITIAL_FORMS": "1", "addresses-0-id": address.pk,
        "addresses-0-kind": "billing", "addresses-0-city": "Bergen", "addresses-0-DELETE": "on"}))
    assert not account.addresses.exists()


def test_contact_page_names_the_account_only_when_visible(personas):
    hidden = AccountFactory(owner=personas.outsider, visibility=Visibility.PRIVATE, name="Secret Co")
    contact = ContactFactory(owner=personas.owner, account=hidden)
    assert b"Secret Co" not in client_for(personas.owner).get(f"/contacts/{contact.public_id}/").content
    assert b"Secret Co" in client_for(personas.outsider).get(f"/contacts/{contact.public_id}/").content


def test_page_posts_need_the_csrf_token(personas):
    from django.test import Client

    account = AccountFactory(owner=personas.owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)
    assert client.post(f"/accounts/{account.public_id}/delete/", {"version": 1}).status_code == 403
    assert client.post("/accounts/new/", account_form(personas.owner, name="Forged")).status_code == 403
    assert Account.objects.get(pk=account.pk).deleted_at is None
    assert not Account.objects.filter(name="Forged").exists()


# --- Delete and undo ---------------------------------------------------------------------------


def test_delete_then_undo(personas):
    account = AccountFactory(owner=personas.owner, name="Acme")
    client = client_for(personas.owner)
    assert client.get(f"/accounts/{account.public_id}/delete/").status_code == 405
    response = client.post(f"/accounts/{account.public_id}/delete/", {"version": 1})
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    listing = client.get("/accounts/").content.decode()
    assert "Acme is in the trash." in listing and "Undo" in listing
    assert client.get(f"/accounts/{account.public_id}/").status_code == 404
    restore_url = f"/accounts/{account.public_id}/restore/"
    assert f'action="{restore_url}"' in listing
    response = client.post(restore_url)
    assert response["Location"] == f"/accounts/{account.public_id}/"
    assert client.get(response["Location"]).status_code == 200
    assert "Undo" not in client.get("/accounts/").content.decode()


def test_delete_with_a_stale_version_is_refused_with_a_message(personas):
    account = AccountFactory(owner=personas.owner)
    services.account_update(actor=personas.owner, account=account, version=1, data={"name": "Changed"})
    client = client_for(personas.owner)
    response = client.post(f"/accounts/{account.public_id}/delete/", {"version": 1}, follow=True)
    assert b"changed by someone else" in response.content
    assert Account.objects.get(pk=account.pk).deleted_at is None


def test_someone_else_cannot_restore_what_they_may_not_delete(personas):
    account = AccountFactory(owner=personas.owner)
    services.account_delete(actor=personas.owner, account=account)
    assert client_for(personas.teammate).post(f"/accounts/{account.public_id}/restore/").status_code in (403, 404)
    assert Account.objects.get(pk=account.pk).deleted_at is not None


# --- Account picker -------------------------------------------------------------------------------


def test_lookup_offers_only_visible_accounts(personas):
    AccountFactory(name="Acme", owner=personas.owner)
    AccountFactory(name="Acme Secret", owner=personas.outsider, visibility=Visibility.PRIVATE)
    AccountFactory(name="Beta", owner=personas.owner)
    response = client_for(personas.owner).get("/accounts/lookup/", {"lookup": "acm"})
    options = re.findall(r"<option value=\"[a-z2-7]+\"[^>]*>([^<]+)</option>", response.content.decode())
    assert options == ["Acme"]


def test_lookup_does_not_reveal_a_hidden_selected_account(personas):
    hidden = AccountFactory(name="Acme Secret", owner=personas.outsider, visibility=Visibility.PRIVATE)
    response = client_for(personas.owner).get("/accounts/lookup/", {"lookup": "zzz", "selected": hidden.public_id})
    assert b"Acme Secret" not in response.content


# --- Escaping ----------------------------------------------------------------------------------------

EVIL = '<script>alert("x")</script>'


def test_html_in_names_is_escaped_on_every_page(personas):
    account = services.account_create(actor=personas.owner, data={"name": EVIL, "industry": EVIL,
                                                                  "remarks": f"{EVIL} note=\"<b>\""})
    contact = services.contact_create(actor=personas.owner, data={"last_name": EVIL, "title": EVIL,
                                                                  "account": account})
    services.account_update(actor=personas.owner, account=account, version=1, data={"phone": EVIL[:40]})
    client = client_for(personas.owner)
    urls = ["/accounts/", "/contacts/", f"/accounts/{account.public_id}/", f"/accounts/{account.public_id}/edit/",
            f"/contacts/{contact.public_id}/", f"/contacts/{contact.public_id}/edit/",
            "/accounts/lookup/?lookup=%3Cscript"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;" in page, url
    assert "<b>" not in client.get(f"/accounts/{account.public_id}/").content.decode()


def test_the_list_total_loads_after_the_rows_and_caps_at_a_thousand(personas):
    from rapport.directory.models import Account as AccountModel

    client = client_for(personas.owner)
    page = client.get("/accounts/?q=acc").content.decode()
    assert 'hx-get="?q=acc&amp;part=count"' in page  # the page asks for its count once the rows are shown
    AccountFactory.create_batch(3, owner=personas.owner, name="Acme Mills")
    fragment = client.get("/accounts/?q=acme&part=count").content.decode()
    assert "3 found" in fragment and 'id="results-status"' in fragment
    accounts = [AccountModel(name=f"Bulk {i:04d}", owner=personas.owner, visibility="everyone")
                for i in range(1001)]
    for account in accounts:
        account.derive()
    AccountModel.objects.bulk_create(accounts)
    assert "1,000+ found" in client.get("/accounts/?q=bulk&part=count").content.decode()
    AccountFactory(owner=personas.owner, name="Acme Private", visibility="private")
    assert "4 found" in client.get("/accounts/?q=acme&part=count").content.decode()
    outsider_view = client_for(personas.outsider).get("/accounts/?q=acme&part=count").content.decode()
    assert "3 found" in outsider_view  # the private one is not counted for someone who may not see it
