"""Importing contacts: the exports of Outlook and Google, vCards, all or nothing, bad rows skipped, duplicates,
and the same file twice."""

from __future__ import annotations

import pytest

from rapport.core.models import HistoryEntry
from rapport.directory.models import Account, Address, Attribute, Contact
from tests.factories import AccountFactory, ContactFactory
from tests.imports import files
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db


def history_count() -> int:
    return HistoryEntry.objects.count()


def test_an_outlook_export_goes_in_with_every_column_where_it_belongs(personas):
    job = run_import(personas.owner, files.outlook_csv(), name="Outlook contacts.CSV")
    assert job.status == "done" and job.created_count == 2 and job.accounts_created == 2
    ingrid = Contact.objects.select_related("account").get(email="ingrid@fjord.example")
    assert (ingrid.first_name, ingrid.last_name, ingrid.title) == ("Ingrid", "Halvorsen", "Purchasing Manager")
    assert (ingrid.phone, ingrid.mobile) == ("+47 55 12 34 56", "+47 912 34 567")
    assert ingrid.account.name == "Fjord Logistics"
    assert ingrid.remarks == "Met at the fair. region=west"
    assert ingrid.owner == personas.owner and ingrid.created_by == personas.owner and ingrid.version == 1
    address = Address.objects.get(contact=ingrid)
    assert (address.street, address.postal_code, address.city, address.country) == (
        "Havnegata 4", "5003", "Bergen", "Norway")
    assert Attribute.objects.filter(contact=ingrid, key="region", value="west").exists()
    paul = Contact.objects.get(email="paul@acme.example")
    assert paul.secondary_email == "p.dupont@home.example" and paul.title == "CTO"
    entry = HistoryEntry.objects.filter(object_id=ingrid.pk, kind="created",
                                        content_type__model="contact").get()
    assert entry.actor == personas.owner and entry.changes["last_name"] == [None, "Halvorsen"]
    assert entry.changes["account"][1]["name"] == "Fjord Logistics"


def test_a_google_export_old_and_new_goes_in(personas):
    run_import(personas.owner, files.csv_text(files.GOOGLE_OLD_HEADER, [files.GOOGLE_OLD_ROW]), name="google.csv")
    run_import(personas.owner, files.csv_text(files.GOOGLE_NEW_HEADER, [files.GOOGLE_NEW_ROW]), name="contacts.csv")
    maja = Contact.objects.select_related("account").get(email="maja@lind.example")
    assert (maja.first_name, maja.last_name, maja.title, maja.phone) == ("Maja", "Lind", "Owner", "+46 70 123 45 67")
    assert maja.account.name == "Lind & Söner AB" and maja.remarks == "VIP customer"
    assert Address.objects.get(contact=maja).city == "Malmö"
    olav = Contact.objects.select_related("account").get(email="olav@nordlys.example")
    assert (olav.first_name, olav.last_name, olav.title, olav.account.name) == (
        "Olav", "Berg", "Head of Sales", "Nordlys AS")


def test_one_bad_row_at_row_500_imports_nothing_and_is_reported(personas):
    before = history_count()
    job = run_import(personas.owner, files.people_csv(998, bad={500: "not-an-address"}, company="Acme"))
    assert job.status == "refused"
    assert (job.processed_rows, job.rejected_count, job.created_count) == (998, 1, 0)
    assert not Contact.objects.exists() and not Account.objects.exists() and history_count() == before
    problem = job.problems.get()
    assert (problem.row, problem.column, problem.message) == (500, "Email", "not-an-address is not an email address.")
    assert problem.cells == ["Pat500", "Person500", "not-an-address", "Acme"]


def test_skip_bad_rows_imports_the_rest_and_hands_back_the_rejects(personas):
    text = files.people_csv(10, bad={4: "broken", 9: "also broken"})
    job = run_import(personas.owner, text, skip_bad_rows=True)
    assert job.status == "done" and (job.created_count, job.rejected_count) == (8, 2)
    assert Contact.objects.count() == 8
    assert list(job.problems.values_list("row", flat=True)) == [4, 9]


def test_importing_the_same_file_twice_with_update_changes_nothing_the_second_time(personas):
    data = files.outlook_csv()
    run_import(personas.owner, data, duplicates="update")
    versions = dict(Contact.objects.values_list("pk", "version"))
    stamps = dict(Contact.objects.values_list("pk", "updated_at"))
    before = history_count()
    job = run_import(personas.owner, data, duplicates="update")
    assert job.status == "done" and (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
    assert history_count() == before and job.accounts_created == 0
    assert dict(Contact.objects.values_list("pk", "version")) == versions
    assert dict(Contact.objects.values_list("pk", "updated_at")) == stamps
    assert Contact.objects.count() == 2 and Account.objects.count() == 2 and Address.objects.count() == 2


def test_update_changes_what_the_file_says_and_keeps_the_rest(personas):
    contact = ContactFactory(owner=personas.owner, first_name="Ingrid", last_name="Halvorsen",
                             email="INGRID@fjord.example", remarks="Keep me", phone="old")
    job = run_import(personas.owner, "Last name,E-mail Address,Business Phone,Business City\n"
                                     "Halvorsen,ingrid@fjord.example,+47 1,Bergen\n", duplicates="update")
    contact.refresh_from_db()
    assert job.updated_count == 1 and (contact.phone, contact.remarks, contact.version) == ("+47 1", "Keep me", 2)
    assert contact.email == "ingrid@fjord.example"
    assert Address.objects.get(contact=contact).city == "Bergen"
    entry = HistoryEntry.objects.filter(object_id=contact.pk, kind="updated").get()
    assert entry.changes["phone"] == ["old", "+47 1"] and "addresses" in entry.changes


@pytest.mark.parametrize(("mode", "contacts", "created", "skipped", "updated"), [
    ("skip", 1, 0, 1, 0), ("update", 1, 0, 0, 1), ("create", 2, 1, 0, 0)])
def test_duplicates_by_email_skip_update_or_create(personas, mode, contacts, created, skipped, updated):
    existing = ContactFactory(owner=personas.owner, last_name="Old", email="pat@example.com")
    job = run_import(personas.owner, "Last name,Email\nNew,Pat@Example.com\n", duplicates=mode)
    assert (job.created_count, job.skipped_count, job.updated_count) == (created, skipped, updated)
    assert Contact.objects.count() == contacts
    existing.refresh_from_db()
    assert existing.last_name == ("New" if mode == "update" else "Old")


def test_the_same_person_twice_in_one_file(personas):
    text = "Last name,Email,Phone\nDoe,jane@example.com,1\nDoe,JANE@example.com,2\n"
    skipped = run_import(personas.owner, text)
    assert (skipped.created_count, skipped.skipped_count) == (1, 1)
    Contact.objects.all().delete()
    updated = run_import(personas.owner, text, duplicates="update")
    assert (updated.created_count, updated.updated_count) == (1, 1)
    assert Contact.objects.get().phone == "2"


def test_a_company_links_to_the_account_the_user_sees_or_makes_one(personas):
    mine = AccountFactory(owner=personas.owner, name="Acme Corporation")
    hidden = AccountFactory(owner=personas.outsider, name="Secret Corp", visibility="private")
    job = run_import(personas.owner, "Last name,Company\nA,ACME corporation\nB,Secret Corp\nC,Secret Corp\n")
    assert job.accounts_created == 1
    assert Contact.objects.get(last_name="A").account == mine
    made = Contact.objects.get(last_name="B").account
    assert made != hidden and made.owner == personas.owner and made.name == "Secret Corp"
    assert Contact.objects.get(last_name="C").account == made
    assert HistoryEntry.objects.filter(object_id=made.pk, kind="created", content_type__model="account").exists()


def test_vcards_3_and_4(personas):
    job = run_import(personas.owner, files.VCARD3 + files.VCARD4, name="contacts.vcf")
    assert job.status == "done" and job.created_count == 2 and job.file_format == "vcard"
    karin = Contact.objects.select_related("account").get(last_name="Svensson")
    assert (karin.first_name, karin.email, karin.secondary_email) == ("Karin", "karin@svea.example",
                                                                      "karin.home@example.org")
    assert (karin.phone, karin.mobile, karin.title, karin.account.name) == (
        "+46 8 123 45", "+46 70 999 88 77", "Buyer", "Svea Trading")
    assert karin.remarks == "Prefers email."
    assert Address.objects.get(contact=karin).city == "Stockholm"
    jonas = Contact.objects.select_related("account").get(last_name="Weber")
    assert (jonas.first_name, jonas.email, jonas.mobile) == ("Jonas", "jonas@weber.example", "+49-170-1234567")
    assert Address.objects.get(contact=jonas).city == "Köln"


def test_a_full_name_column_is_split(personas):
    run_import(personas.owner, "Name,Email\nAda King Lovelace,ada@example.com\n\"Hopper, Grace\",g@example.com\n")
    assert set(Contact.objects.values_list("first_name", "last_name")) == {("Ada King", "Lovelace"),
                                                                           ("Grace", "Hopper")}


def test_a_contact_without_a_last_name_is_a_bad_row(personas):
    job = run_import(personas.owner, "First name,Last name,Email\nAda,,ada@example.com\n")
    problem = job.problems.get()
    assert (problem.row, problem.column, problem.message) == (2, "Last name", "A contact needs a last name.")


def test_too_long_a_value_names_the_column(personas):
    job = run_import(personas.owner, f"Last name,Job title\nDoe,{'x' * 101}\n")
    problem = job.problems.get()
    assert (problem.column, problem.message) == ("Job title", "101 characters; at most 100.")


def test_a_csv_exported_by_rapport_imports_back_unchanged(personas):
    from rapport.exports.writers import csv_lines

    exported = "".join(csv_lines(["First name", "Last name", "Remarks"], [["=cmd", "+Doe", "-1 day @home"]]))
    run_import(personas.owner, exported)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.remarks) == ("=cmd", "+Doe", "-1 day @home")


def test_imported_contacts_and_accounts_are_in_the_search_index_as_a_rebuild_would_write_them(personas):
    from rapport.search.index import reindex
    from rapport.search.models import SearchEntry

    def entries() -> set[tuple]:
        return set(SearchEntry.objects.values_list("record_type", "record_id", "owner_id", "visibility", "title",
                                                   "body"))

    run_import(personas.owner, files.outlook_csv())
    ids = set(Contact.objects.values_list("pk", flat=True))
    assert set(SearchEntry.objects.filter(record_type="contact").values_list("record_id", flat=True)) == ids
    assert Account.objects.exists()
    # The import indexes the rows from the values it wrote, without reading them back: the same entries.
    imported = entries()
    reindex(keys=["contact", "account"])
    assert imported == entries()


def test_event_rules_run_for_imported_contacts(personas, settings, django_capture_on_commit_callbacks):
    from rapport.automation.models import FollowUp
    from tests.automation import IMMEDIATE_TASKS, rule

    settings.TASKS = IMMEDIATE_TASKS
    made = rule(personas.manager, name="Welcome", trigger="created", record_type="contact")
    with django_capture_on_commit_callbacks(execute=True):
        run_import(personas.owner, files.outlook_csv())
    assert FollowUp.objects.filter(rule=made).count() == 2
