"""The import wizard's pages: upload, columns, preview, start, progress, report and downloads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.directory.models import Contact
from rapport.imports.models import ImportJob
from rapport.imports.services import import_execute
from tests.conftest import client_for
from tests.imports import files
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db


def mapping_form(job: ImportJob, **options) -> dict:
    data = {f"column_{i}": key for i, key in enumerate(job.mapping)}
    data.update({"duplicates": "skip", "visibility": "everyone"}, **options)
    return data


def test_the_wizard_from_upload_to_report(personas):
    client = client_for(personas.owner)
    page = client.get("/imports/")
    assert page.status_code == 200 and b"Upload a spreadsheet" in page.content and b"No imports yet." in page.content
    response = client.post("/imports/", {"record_type": "contact",
                                         "file": SimpleUploadedFile("outlook.csv", files.outlook_csv())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.public_id}/"
    columns = client.get(f"/imports/{job.public_id}/")
    assert columns.status_code == 200
    text = columns.content.decode()
    assert "E-mail Address" in text and "ingrid@fjord.example" in text and "UTF-8 with a byte-order mark" in text
    assert '<option value="email" selected>' in text
    response = client.post(f"/imports/{job.public_id}/", mapping_form(job, duplicates="update"))
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.public_id}/preview/"
    preview = client.get(response["Location"]).content.decode()
    assert "Row 2" in preview and "Halvorsen" in preview and "Fjord Logistics: new account" in preview
    assert not Contact.objects.exists()  # the preview stores nothing
    response = client.post(f"/imports/{job.public_id}/start/")
    assert response.status_code == 302
    waiting = client.get(f"/imports/{job.public_id}/").content.decode()
    assert "Waiting for the worker" in waiting and 'hx-trigger="every 1s"' in waiting
    import_execute(job.pk)
    progress = client.get(f"/imports/{job.public_id}/progress/", headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"
    report = client.get(f"/imports/{job.public_id}/").content.decode()
    assert "Imported" in report and "<strong>2</strong> new" in report
    assert Contact.objects.count() == 2
    listing = client.get("/imports/").content.decode()
    assert "outlook.csv" in listing and "2 new, 0 updated, 0 skipped" in listing


def test_the_report_of_a_refused_import_and_its_downloads(personas):
    job = run_import(personas.owner, files.people_csv(5, bad={3: "oops", 5: "=HYPERLINK(1)"}))
    client = client_for(personas.owner)
    report = client.get(f"/imports/{job.public_id}/").content.decode()
    assert "Nothing was imported: 2 of 5 rows have problems" in report
    assert "Row 3" in report and "oops is not an email address." in report
    errors = client.get(f"/imports/{job.public_id}/errors.csv")
    lines = b"".join(errors.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Column,Problem" and lines[1] == "3,Email,oops is not an email address."
    rejects = client.get(f"/imports/{job.public_id}/rejects.csv")
    lines = b"".join(rejects.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "First name,Last name,Email,Company,Import error"
    assert lines[1] == "Pat3,Person3,oops,,Email: oops is not an email address."
    # a cell that would run as a formula comes back marked as text, and imports back as it was
    assert lines[2].startswith("Pat5,Person5,'=HYPERLINK(1),")


def test_rejects_can_be_fixed_and_imported_again(personas):
    job = run_import(personas.owner, files.people_csv(4, bad={3: "oops"}), skip_bad_rows=True)
    rejects = b"".join(client_for(personas.owner).get(f"/imports/{job.public_id}/rejects.csv").streaming_content)
    fixed = rejects.decode("utf-8-sig").replace("oops", "pat3@example.com")
    again = run_import(personas.owner, fixed)
    assert again.status == "done" and again.created_count == 1 and Contact.objects.count() == 4


def test_upload_mistakes_are_shown_on_the_form(personas, settings):
    client = client_for(personas.owner)
    response = client.post("/imports/", {"record_type": "contact", "file": SimpleUploadedFile("x.csv", files.PNG)})
    assert response.status_code == 400 and b"PNG image" in response.content
    response = client.post("/imports/", {"record_type": "contact"})
    assert response.status_code == 400 and b"This field is required" in response.content
    settings.RAPPORT_IMPORT_MAX_BYTES = 1024
    response = client.post("/imports/", {"record_type": "contact",
                                         "file": SimpleUploadedFile("x.csv", b"Last name\n" + b"Doe\n" * 2000)})
    assert response.status_code == 400 and b"imports take files of at most 1 kB" in response.content
    assert not ImportJob.objects.exists()


def test_a_mapping_mistake_is_shown(personas):
    client = client_for(personas.owner)
    client.post("/imports/", {"record_type": "contact",
                              "file": SimpleUploadedFile("p.csv", b"Surname,Mail\nDoe,x@example.com\n")})
    job = ImportJob.objects.get()
    response = client.post(f"/imports/{job.public_id}/", {"column_0": "", "column_1": "email",
                                                          "duplicates": "skip", "visibility": "everyone"})
    assert response.status_code == 400 and b"Choose the column with the last name" in response.content


def test_a_read_only_user_sees_why_they_cannot_import(personas):
    client = client_for(personas.viewer)
    page = client.get("/imports/")
    assert page.status_code == 200 and b"You may not create records" in page.content
    assert b"Upload a spreadsheet" not in page.content
    response = client.post("/imports/", {"record_type": "contact",
                                         "file": SimpleUploadedFile("p.csv", b"Last name\nDoe\n")})
    assert response.status_code == 403 and not ImportJob.objects.exists()
