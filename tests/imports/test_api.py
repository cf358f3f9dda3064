"""The imports API: start an import (multipart or JSON), follow it, read its error report."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.directory.models import Contact
from rapport.imports.models import ImportJob
from rapport.imports.services import import_execute
from tests.conftest import ApiClient
from tests.imports import files

pytestmark = pytest.mark.django_db


def upload(api: ApiClient, data: bytes, name: str = "people.csv", **options):
    return api.client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, data), **options},
                           headers=api.headers)


def run(body: dict) -> dict:
    import_execute(ImportJob.objects.get(public_id=body["id"]).pk)
    return body


def test_multipart_upload_guesses_the_mapping_and_the_worker_imports(personas):
    api = ApiClient(personas.owner)
    response = upload(api, files.outlook_csv(), record_type="contact", duplicates="update")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["duplicates"] == "update"
    assert {"column": "E-mail Address", "field": "email"} in body["mapping"]
    run(body)
    status = api.get(f"imports/{body['id']}").json()
    assert status["status"] == "done" and status["counts"]["created"] == 2
    assert status["progress"] == {"done": 2, "total": 2, "percent": 100}
    listed = api.get("imports").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["next"] is None


def test_json_with_base64_and_a_mapping_by_column_name(personas):
    api = ApiClient(personas.owner)
    data = b"Surname,Mail,Ignored\nDoe,jane@example.com,x\n"
    response = api.post("imports", {"record_type": "contact", "file_name": "p.csv",
                                    "content_base64": base64.b64encode(data).decode(),
                                    "mapping": {"Surname": "last_name", "Mail": "email"}})
    assert response.status_code == 202, response.content
    run(response.json())
    assert Contact.objects.get().email == "jane@example.com"


def test_a_mapping_as_json_text_in_a_form(personas):
    api = ApiClient(personas.owner)
    response = upload(api, b"Surname\nDoe\n", record_type="contact", mapping=json.dumps({"Surname": "last_name"}))
    assert response.status_code == 202
    response = upload(api, b"Surname\nDoe\n", record_type="contact", mapping="{not json")
    assert response.status_code == 422 and "mapping" in response.json()["errors"]


def test_the_error_report_lists_every_bad_row(personas):
    api = ApiClient(personas.owner)
    body = run(upload(api, files.people_csv(600, bad={500: "nope", 7: "bad"}).encode(),
                      record_type="contact").json())
    status = api.get(f"imports/{body['id']}").json()
    assert status["status"] == "refused" and status["counts"]["rejected"] == 2 and status["counts"]["created"] == 0
    errors = api.get(f"imports/{body['id']}/errors").json()
    assert errors["items"] == [{"row": 7, "column": "Email", "message": "bad is not an email address."},
                               {"row": 500, "column": "Email", "message": "nope is not an email address."}]
    page = api.get(f"imports/{body['id']}/errors", limit=1).json()
    assert len(page["items"]) == 1 and page["next"]
    csv = api.get(f"imports/{body['id']}/errors", format="csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[1] == "7,Email,bad is not an email address."
    assert not Contact.objects.exists()


def test_dry_run_checks_and_stores_nothing(personas):
    api = ApiClient(personas.owner)
    body = run(upload(api, files.outlook_csv(), record_type="contact", dry_run="true").json())
    status = api.get(f"imports/{body['id']}").json()
    assert status["status"] == "checked" and status["counts"]["created"] == 2
    assert not Contact.objects.exists()


@pytest.mark.parametrize(("data", "name", "field", "text"), [
    (files.PNG, "a.csv", "file", "PNG image"),
    (b"", "a.csv", "file", "empty"),
    (b"Name\nX\n", "a.xlsx", "file", "CSV text"),
])
def test_bad_files_answer_422_and_store_nothing(personas, data, name, field, text):
    response = upload(ApiClient(personas.owner), data, name, record_type="contact")
    assert response.status_code == 422 and text in " ".join(response.json()["errors"][field])
    assert not ImportJob.objects.exists()


def test_bad_options_answer_422(personas):
    api = ApiClient(personas.owner)
    assert upload(api, b"Last name\nX\n", record_type="shoes").status_code == 422
    assert upload(api, b"Last name\nX\n", record_type="contact", duplicates="merge").status_code == 422
    assert upload(api, b"Email\nx@example.com\n", record_type="contact").json()["errors"]["mapping"]
    response = api.post("imports", {"record_type": "contact"})
    assert response.status_code == 422 and "file" in response.json()["errors"]
    response = api.post("imports", {"record_type": "contact", "content_base64": "***"})
    assert response.status_code == 422 and "content_base64" in response.json()["errors"]
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_refused_naming_the_limit(personas, settings):
    settings.RAPPORT_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    response = upload(ApiClient(personas.owner), b"Last name\n" + b"Doe\n" * 1_000_000, record_type="contact")
    assert response.status_code == 422
    assert "at most 2 MB (RAPPORT_IMPORT_MAX_BYTES)" in response.json()["errors"]["file"][0]


def test_read_only_users_get_403_and_others_jobs_are_404(personas):
    assert upload(ApiClient(personas.viewer), b"Last name\nX\n", record_type="contact").status_code == 403
    body = upload(ApiClient(personas.owner), b"Last name\nX\n", record_type="contact").json()
    for persona, status in (("teammate", 404), ("manager", 404), ("admin", 200)):
        api = ApiClient(getattr(personas, persona))
        assert api.get(f"imports/{body['id']}").status_code == status
        assert api.get(f"imports/{body['id']}/errors").status_code == status
    assert ApiClient(personas.teammate).get("imports").json()["items"] == []
    assert len(ApiClient(personas.admin).get("imports").json()["items"]) == 1


def test_unknown_query_parameters_are_refused(personas):
    assert ApiClient(personas.owner).get("imports", status="done").status_code == 400
