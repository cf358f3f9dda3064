"""Who may import, whose records an import may match, and who sees an import job."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from rapport.directory.models import Contact
from rapport.imports import services
from rapport.imports.models import ImportJob
from tests.conftest import client_for
from tests.factories import ContactFactory
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db
CSV = b"Last name,Email\nDoe,pat@example.com\n"


def test_a_read_only_user_may_not_import(personas):
    with pytest.raises(PermissionDenied):
        services.import_upload(actor=personas.viewer, file_name="p.csv", data=CSV, record_type="contact")
    assert services.import_types(user=personas.viewer) == []
    assert not ImportJob.objects.exists()


def test_a_sales_user_creates_records_they_own(personas):
    run_import(personas.owner, CSV)
    contact = Contact.objects.get()
    assert contact.owner == personas.owner and contact.created_by == personas.owner


def test_the_owner_column_may_name_only_users_in_the_importers_scope(personas):
    job = run_import(personas.owner, "Last name,Owner\nA,owner\nB,teammate\n")
    problem = job.problems.get()
    assert job.status == "refused" and problem.row == 3 and "You may not give records to" in problem.message
    job = run_import(personas.manager, "Last name,Owner\nA,owner\nB,nobody\n")
    assert "No active user" in job.problems.get().message
    job = run_import(personas.admin, "Last name,Owner\nA,owner\nB,teammate\n")
    assert job.status == "done" and set(Contact.objects.values_list("owner__username", flat=True)) == {
        "owner", "teammate"}


def test_a_private_contact_of_someone_else_is_never_matched(personas):
    hidden = ContactFactory(owner=personas.outsider, last_name="Hidden", email="pat@example.com",
                            visibility="private", phone="secret")
    for mode in ("update", "skip"):
        job = run_import(personas.owner, "Last name,Email,Phone\nDoe,pat@example.com,changed\n", duplicates=mode)
        assert job.created_count == 1 and job.updated_count == 0 and job.skipped_count == 0
        Contact.objects.filter(owner=personas.owner).delete()
    hidden.refresh_from_db()
    assert (hidden.last_name, hidden.phone, hidden.version) == ("Hidden", "secret", 1)


def test_a_visible_record_the_user_may_not_change_is_a_bad_row_in_update_mode(personas):
    theirs = ContactFactory(owner=personas.outsider, last_name="Theirs", email="pat@example.com")
    job = run_import(personas.owner, "Last name,Email\nMine,pat@example.com\n", duplicates="update")
    problem = job.problems.get()
    assert job.status == "refused" and "which you may not change" in problem.message
    theirs.refresh_from_db()
    assert theirs.last_name == "Theirs" and Contact.objects.count() == 1


def test_a_manager_updates_the_teams_contacts(personas):
    contact = ContactFactory(owner=personas.owner, last_name="Doe", email="pat@example.com")
    job = run_import(personas.manager, "Last name,Email,Phone\nDoe,pat@example.com,123\n", duplicates="update")
    contact.refresh_from_db()
    assert job.updated_count == 1 and contact.phone == "123" and contact.owner == personas.owner


def test_an_import_job_is_its_owners_and_the_administrators(personas):
    job = run_import(personas.owner, CSV)
    for persona, status in (("owner", 200), ("admin", 200), ("teammate", 404), ("manager", 404), ("viewer", 404)):
        user = getattr(personas, persona)
        assert client_for(user).get(f"/imports/{job.public_id}/").status_code == status, persona
        assert client_for(user).get(f"/imports/{job.public_id}/errors.csv").status_code == status, persona


def test_rights_are_checked_again_when_the_worker_runs(personas):
    job = services.import_upload(actor=personas.owner, file_name="p.csv", data=CSV, record_type="contact")
    services.import_start(actor=personas.owner, job=job)
    personas.owner.roles.set([])
    from rapport.core.access import forget_access

    forget_access(personas.owner)
    done = services.import_execute(job.pk)
    assert done.status == "failed" and "may not create" in done.message and not Contact.objects.exists()
