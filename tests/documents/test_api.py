"""The documents API: multipart upload, versions, downloads, changes with versions, delete and restore."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.core.services import token_create
from rapport.documents.models import Document
from tests.documents.factories import PNG_1PX, add_document, stored_files
from tests.factories import AccountFactory, ContactFactory


def _client(user) -> tuple[Client, dict]:
    return Client(), {"Authorization": f"Bearer {token_create(user=user, name='t').plaintext}"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_upload_versions_and_download_round_trip(personas):
    account = AccountFactory(owner=personas.owner)
    client, headers = _client(personas.owner)
    response = client.post("/api/v1/documents", {"about": account.ref, "folder": "logos", "description": "Our logo",
                                                 "file": SimpleUploadedFile("logo.png", PNG_1PX)}, headers=headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "logo.png" and body["folder"] == "logos" and body["version_count"] == 1
    assert body["about"] == {"type": "account", "id": account.public_id, "name": account.name}
    assert body["current_version"]["content_type"] == "image/png"
    doc_id = body["id"]

    second = PNG_1PX + b"\x00"
    response = client.post(f"/api/v1/documents/{doc_id}/versions",
                           {"file": SimpleUploadedFile("logo.png", second), "version": body["version"]},
                           headers=headers)
    assert response.status_code == 201, response.content
    assert response.json()["current_version"]["number"] == 2

    versions = client.get(f"/api/v1/documents/{doc_id}/versions", headers=headers).json()["items"]
    assert [v["number"] for v in versions] == [2, 1]
    current = client.get(f"/api/v1/documents/{doc_id}/download", headers=headers)
    first = client.get(versions[1]["download_url"], headers=headers)
    assert _body(current) == second and _body(first) == PNG_1PX
    assert first["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/api/v1/documents/{doc_id}/versions/9/download", headers=headers).status_code == 404


def test_list_filters_by_record_and_folder(personas):
    account = AccountFactory(owner=personas.owner)
    other = AccountFactory(owner=personas.owner)
    mine = add_document(actor=personas.owner, about=account, folder="contracts")
    add_document(actor=personas.owner, about=account)
    add_document(actor=personas.owner, about=other, folder="contracts")
    client, headers = _client(personas.owner)
    items = client.get(f"/api/v1/documents?about={account.ref}&folder=contracts", headers=headers).json()["items"]
    assert [item["id"] for item in items] == [mine.public_id]
    assert client.get("/api/v1/documents?folder=nope", headers=headers).status_code == 400
    assert client.get("/api/v1/documents?colour=red", headers=headers).status_code == 400
    assert len(client.get("/api/v1/documents", headers=headers).json()["items"]) == 3


def test_patch_with_a_stale_version_is_a_conflict(personas, api_for):
    document = add_document(actor=personas.owner, about=AccountFactory(owner=personas.owner))
    api = api_for(personas.owner)
    response = api.patch(f"documents/{document.public_id}", {"title": "Signed contract", "folder": "contracts",
                                                             "version": document.version})
    assert response.status_code == 200 and response.json()["folder"] == "contracts"
    stale = api.patch(f"documents/{document.public_id}", {"title": "Other", "version": document.version})
    assert stale.status_code == 409
    assert Document.objects.get(pk=document.pk).title == "Signed contract"
    assert api.patch(f"documents/{document.public_id}", {"colour": "red", "version": 2}).status_code == 422
    private = api.patch(f"documents/{document.public_id}", {"visibility": "private", "version": 2})
    assert private.status_code == 200 and private.json()["visibility"] == "private"
    assert api_for(personas.teammate).get(f"documents/{document.public_id}").status_code == 404
    assert api.patch(f"documents/{document.public_id}", {"visibility": None, "version": 3}).status_code == 422


def test_delete_and_restore(personas, api_for):
    document = add_document(actor=personas.owner, about=AccountFactory(owner=personas.owner))
    api = api_for(personas.owner)
    assert api.delete(f"documents/{document.public_id}").status_code == 204
    assert api.get(f"documents/{document.public_id}").status_code == 404
    assert api.get(f"documents/{document.public_id}/download").status_code == 404
    restored = api.post(f"documents/{document.public_id}/restore")
    assert restored.status_code == 200 and restored.json()["version"] == document.version + 2


def test_bad_uploads_answer_422_naming_the_field_and_store_nothing(personas, media, settings):
    settings.RAPPORT_UPLOAD_MAX_BYTES = 100
    account = AccountFactory(owner=personas.owner)
    client, headers = _client(personas.owner)
    cases = [
        ({"about": account.ref, "file": SimpleUploadedFile("big.txt", b"x" * 101)}, "file", "100 bytes"),
        ({"about": account.ref, "file": SimpleUploadedFile("empty.txt", b"")}, "file", "empty"),
        ({"about": account.ref, "file": SimpleUploadedFile("a.pdf", b"<html><script>x</script>")}, "file", "PDF"),
        ({"about": account.ref}, "file", "link"),
        ({"about": "account:nope", "file": SimpleUploadedFile("a.txt", b"a")}, "about", "No such"),
        ({"about": account.ref, "link_url": "ftp://x.example/a"}, "link_url", "https://"),
        ({"about": account.ref, "colour": "red"}, "colour", "Unknown"),
    ]
    for data, field, words in cases:
        response = client.post("/api/v1/documents", data, headers=headers)
        assert response.status_code == 422, (data, response.content)
        assert words in " ".join(response.json()["errors"][field]), response.json()
    assert not Document.objects.exists() and stored_files(media) == []


def test_documents_of_a_contact_are_listed_with_the_account(personas, client):
    account = AccountFactory(owner=personas.owner)
    contact = ContactFactory(owner=personas.owner, account=account)
    add_document(actor=personas.owner, about=contact, name="cv.txt")
    client.force_login(personas.owner)
    page = client.get(f"/documents/about/{account.ref}/").content.decode()
    assert "cv.txt" in page and str(contact) in page


def test_json_uploads_and_their_limits(personas, settings, media):
    import base64
    import json

    account = AccountFactory(owner=personas.owner)
    client, headers = _client(personas.owner)

    def post(body: dict):
        return client.post("/api/v1/documents", json.dumps(body), content_type="application/json", headers=headers)

    created = post({"about": account.ref, "file_name": "notes.txt",
                    "content_base64": base64.b64encode(b"hi\n").decode()})
    assert created.status_code == 201 and created.json()["file_name"] == "notes.txt"
    assert "base64" in post({"about": account.ref, "content_base64": "%%%"}).json()["errors"]["content_base64"][0]
    big = base64.b64encode(b"a" * 3_000_000).decode()  # over Django's 2.5 MB for a body that is not a file
    response = post({"about": account.ref, "file_name": "a.txt", "content_base64": big})
    assert response.status_code == 422 and "multipart/form-data" in response.json()["errors"]["file"][0]
    settings.RAPPORT_UPLOAD_MAX_BYTES = 100_000
    response = client.post("/api/v1/documents",
                           {"about": account.ref, "file": SimpleUploadedFile("a.txt", b"a" * 2_000_000)},
                           headers=headers)
    assert response.status_code == 422 and "97.7 kB" in response.json()["errors"]["file"][0]
    two = client.post("/api/v1/documents", {"about": account.ref, "file": [SimpleUploadedFile("a.txt", b"a"),
                                                                           SimpleUploadedFile("b.txt", b"b")]},
                      headers=headers)
    assert two.status_code == 422 and "one file" in two.json()["errors"]["file"][0]
    assert Document.objects.count() == 1 and len(stored_files(media)) == 1
