"""People without an email address are matched by their name at their account: a file of them imported twice
makes each of them once."""

from __future__ import annotations

import pytest

from rapport.directory.models import Account, Contact
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db

FILE = ("First name,Last name,Company,Mobile Phone\n"
        "Ann,Lee,Acme,+1 555 0101\n"
        "Bo,Ng,,+1 555 0102\n"
        "Cy,Park,Bolt Works,+1 555 0103\n")


@pytest.mark.parametrize("mode", ["skip", "update"])
def test_the_same_file_twice_makes_each_person_once(personas, mode):
    first = run_import(personas.owner, FILE, duplicates=mode)
    assert (first.status, first.created_count) == ("done", 3), first.message
    versions = dict(Contact.objects.values_list("pk", "version"))
    again = run_import(personas.owner, FILE, duplicates=mode)
    assert again.created_count == 0 and again.accounts_created == 0
    assert (again.skipped_count if mode == "skip" else again.unchanged_count) == 3
    assert dict(Contact.objects.values_list("pk", "version")) == versions
    assert Account.objects.count() == 2


def test_the_same_name_elsewhere_is_another_person(personas):
    run_import(personas.owner, FILE)
    job = run_import(personas.owner, "First name,Last name,Company\nAnn,Lee,Globex\nBo,Ng,Acme\n")
    assert (job.created_count, job.skipped_count) == (2, 0)
    assert sorted(Contact.objects.filter(last_name="Lee").values_list("account__name", flat=True)) == [
        "Acme", "Globex"]


def test_update_finds_the_person_by_name_and_changes_what_the_file_says(personas):
    run_import(personas.owner, FILE)
    job = run_import(personas.owner, "First name,Last name,Company,Mobile Phone\nAnn,Lee,ACME,+1 555 0199\n",
                     duplicates="update")
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Contact.objects.get(last_name="Lee").mobile == "+1 555 0199"


def test_a_person_twice_in_one_file_at_a_new_company(personas):
    job = run_import(personas.owner, "Last name,Company,Phone\nDoe,NewCo,1\nDoe,NewCo,2\n", duplicates="update")
    assert (job.created_count, job.updated_count, job.accounts_created) == (1, 1, 1)
    assert list(Contact.objects.values_list("phone", flat=True)) == ["2"]
