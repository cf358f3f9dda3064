"""The index stays current in the same transaction as the change: create, rename, visibility, delete,
restore — through the services — and through index_records / unindex_records for bulk writers, and the
rebuild (`rapport manage search_reindex`) gives the same answers."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from rapport.activities import services as activity_services
from rapport.core.models import Visibility
from rapport.directory import services as directory_services
from rapport.directory.models import Contact
from rapport.search.index import index_records, reindex, unindex_records
from rapport.search.models import SearchEntry, SearchWord
from rapport.search.selectors import search
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db


def titles(user, q) -> set[str]:
    return {hit.title for hit in search(user=user, q=q).hits}


def test_create_rename_delete_and_restore_keep_the_index_current(personas):
    owner = personas.owner
    contact = directory_services.contact_create(actor=owner, data={"first_name": "Greta", "last_name": "Lindqvist"})
    assert titles(owner, "greta lind") == {"Greta Lindqvist"}

    contact = directory_services.contact_update(actor=owner, contact=contact, data={"last_name": "Hallström"},
                                                version=contact.version)
    assert titles(owner, "lindqvist") == set()
    assert titles(owner, "greta hallstrom") == {"Greta Hallström"}
    assert titles(owner, "greta halstrom") == {"Greta Hallström"}  # the new name joined the typo dictionary

    contact = directory_services.contact_delete(actor=owner, contact=contact)
    assert titles(owner, "hallstrom") == set()
    assert not SearchEntry.objects.filter(record_type="contact", record_id=contact.pk).exists()

    directory_services.contact_restore(actor=owner, contact=contact)
    assert titles(owner, "hallstrom") == {"Greta Hallström"}


def test_a_change_of_visibility_reaches_the_index(personas):
    account = directory_services.account_create(actor=personas.owner, data={"name": "Quiet Quarry"})
    assert titles(personas.outsider, "quarry") == {"Quiet Quarry"}
    directory_services.account_update(actor=personas.owner, account=account,
                                      data={"visibility": Visibility.PRIVATE}, version=account.version)
    assert SearchEntry.objects.get(record_type="account", record_id=account.pk).visibility == Visibility.PRIVATE
    assert titles(personas.outsider, "quarry") == set()


def test_activities_follow_their_subject(personas):
    activity = ActivityFactory(subject="Kick-off Rotterdam", owner=personas.owner)
    activity = activity_services.activity_update(actor=personas.owner, activity=activity,
                                                 data={"subject": "Kick-off Antwerp"}, version=activity.version)
    assert titles(personas.owner, "rotterdam") == set()
    assert titles(personas.owner, "antwerp") == {"Kick-off Antwerp"}
    activity_services.activity_delete(actor=personas.owner, activity=activity)
    assert titles(personas.owner, "antwerp") == set()


def test_a_change_rolled_back_leaves_no_index_row(personas):
    with pytest.raises(RuntimeError), transaction.atomic():
        directory_services.account_create(actor=personas.owner, data={"name": "Never Was Ltd"})
        assert titles(personas.owner, "never was") == {"Never Was Ltd"}
        raise RuntimeError
    assert titles(personas.owner, "never was") == set()


def test_bulk_writers_index_and_unindex_what_they_wrote(personas):
    Contact.objects.bulk_create([Contact(first_name="Bulk", last_name=f"Loaded{i}", owner=personas.owner,
                                         name_key=f"loaded{i} bulk") for i in range(3)])
    ids = list(Contact.objects.filter(first_name="Bulk").values_list("pk", flat=True))
    assert titles(personas.owner, "bulk") == set()  # bulk_create goes around the index
    index_records(Contact, ids)
    assert titles(personas.owner, "bulk") == {"Bulk Loaded0", "Bulk Loaded1", "Bulk Loaded2"}
    Contact.objects.filter(pk=ids[0]).update(last_name="Renamed")  # a set-based update, then the call
    index_records(Contact, [ids[0]])
    assert titles(personas.owner, "bulk") == {"Bulk Renamed", "Bulk Loaded1", "Bulk Loaded2"}
    Contact.objects.filter(pk=ids[1]).delete()
    unindex_records(Contact, [ids[1]])
    index_records(Contact, [ids[2], 999_999])  # an id that is gone just leaves nothing behind
    assert titles(personas.owner, "bulk") == {"Bulk Renamed", "Bulk Loaded2"}
    assert SearchEntry.objects.filter(record_type="contact").count() == 2


def test_index_records_of_a_type_search_does_not_cover_does_nothing(personas):
    from rapport.core.models import Team

    index_records(Team, [1, 2])
    unindex_records(Team, [1])


def test_rebuild_gives_the_same_answers(personas):
    ContactFactory(first_name="Jonas", last_name="Eriksen", owner=personas.owner)
    directory_services.account_create(actor=personas.owner, data={"name": "Fjord Fisheries"})
    before = titles(personas.owner, "jnoas"), titles(personas.owner, "fjord")
    SearchEntry.objects.all().delete()
    SearchWord.objects.all().delete()
    assert titles(personas.owner, "fjord") == set()
    counts = reindex()
    assert counts["contact"] == 1 and counts["account"] == 1
    assert (titles(personas.owner, "jnoas"), titles(personas.owner, "fjord")) == before == (
        {"Jonas Eriksen"}, {"Fjord Fisheries"})
    # and the triggers (SQLite) are back: a new record is found at once
    ContactFactory(first_name="Ylva", last_name="Fjordsson", owner=personas.owner)
    assert titles(personas.owner, "fjord") == {"Fjord Fisheries", "Ylva Fjordsson"}


def test_the_reindex_command_reports_its_progress(personas):
    ContactFactory(first_name="Olle", last_name="Berg", owner=personas.owner)
    out, err = io.StringIO(), io.StringIO()
    call_command("search_reindex", stdout=out, stderr=err)
    assert "Search index rebuilt: 1 records" in out.getvalue()
    assert "Contacts" in err.getvalue() and "1 / 1" in err.getvalue()
    out = io.StringIO()
    call_command("search_reindex", "--type", "contact", "--quiet", stdout=out)
    assert "contact 1" in out.getvalue()
    out = io.StringIO()
    call_command("search_reindex", types=["contact", "account"], quiet=True, stdout=out)  # as `rapport` calls it
    assert "contact 1, account 0" in out.getvalue() or "account 0, contact 1" in out.getvalue()
    assert titles(personas.owner, "olle") == {"Olle Berg"}


def test_the_reindex_command_refuses_an_unknown_type(personas):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown record type widget"):
        call_command("search_reindex", "--type", "widget")


def test_a_record_loaded_in_part_is_indexed_in_full(personas, django_assert_max_num_queries):
    contact = ContactFactory(first_name="Partial", last_name="Person", email="pp@example.com", owner=personas.owner)
    slim = Contact.objects.only("id", "public_id", "owner_id", "visibility", "version", "first_name").get(
        pk=contact.pk)
    from rapport.search.index import index_instances
    from rapport.search.registry import searchable

    with django_assert_max_num_queries(5):
        index_instances(searchable("contact"), [slim])
    assert titles(personas.owner, "pp example") == {"Partial Person"}
