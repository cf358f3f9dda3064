"""The Files panel and the document page: upload many, add a link, new version, edit, delete and undo."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.documents.models import Document
from tests.conftest import client_for
from tests.documents.factories import add_document, stored_files
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, SupportItemFactory


def _panel(record) -> str:
    return f"/documents/about/{record.ref}/"


def test_upload_many_files_without_javascript(personas):
    account = AccountFactory(owner=personas.owner)
    client = client_for(personas.owner)
    response = client.post(_panel(account), {
        "kind": "files", "upload-folder": "publications", "upload-description": "Spring",
        "upload-files": [SimpleUploadedFile("a.txt", b"alpha\n"), SimpleUploadedFile("b.txt", b"beta\n")]})
    assert response.status_code == 302 and response["Location"].startswith(f"/accounts/{account.public_id}/")
    documents = Document.objects.order_by("title")
    assert [(d.title, d.folder.key, d.description) for d in documents] == [
        ("a.txt", "publications", "Spring"), ("b.txt", "publications", "Spring")]
    panel = client.get(_panel(account)).content.decode()
    assert "a.txt" in panel and "b.txt" in panel and personas.owner.display_name in panel


def test_htmx_upload_redraws_the_panel_and_names_refused_files(personas, media):
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.owner).post(_panel(account), {
        "kind": "files",
        "upload-files": [SimpleUploadedFile("good.txt", b"fine\n"), SimpleUploadedFile("bad.pdf", b"<html>x")]},
        headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "good.txt" in page and "1 file was added." in page
    assert "“bad.pdf” is named as a PDF but its content is an HTML page" in page
    assert [d.title for d in Document.objects.all()] == ["good.txt"] and len(stored_files(media)) == 1


def test_oversized_upload_gets_a_page_naming_the_limit(personas, settings, media):
    settings.RAPPORT_UPLOAD_MAX_BYTES = 10
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.owner).post(_panel(account), {
        "kind": "files", "upload-files": SimpleUploadedFile("big.txt", b"x" * 11)})
    assert response.status_code == 400
    assert "files may be at most 10 bytes" in response.content.decode()
    assert not Document.objects.exists() and stored_files(media) == []


def test_add_a_link(personas):
    opportunity = OpportunityFactory(owner=personas.owner)
    client = client_for(personas.owner)
    bad = client.post(_panel(opportunity), {"kind": "link", "link-link_url": "javascript:alert(1)"},
                      headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "https://" in bad.content.decode() and not Document.objects.exists()
    client.post(_panel(opportunity), {"kind": "link", "link-link_url": "https://docs.example.com/spec",
                                      "link-title": "Spec", "link-folder": "templates"})
    document = Document.objects.get()
    assert (document.title, document.link_url, document.folder.key) == (
        "Spec", "https://docs.example.com/spec", "templates")
    page = client.get(f"/documents/{document.public_id}/").content.decode()
    assert 'href="https://docs.example.com/spec"' in page and "Open link" in page


def test_document_page_shows_versions_and_takes_a_new_one(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account, name="plan.txt", content=b"one\n",
                            description="The plan")
    client = client_for(personas.owner)
    response = client.post(f"/documents/{document.public_id}/versions/", {
        "file": SimpleUploadedFile("plan.txt", b"two\n"), "version": document.version})
    assert response.status_code == 302
    page = client.get(f"/documents/{document.public_id}/").content.decode()
    assert "The plan" in page and account.name in page
    assert f"/documents/{document.public_id}/versions/1/download/" in page
    assert f"/documents/{document.public_id}/versions/2/download/" in page
    old = client.get(f"/documents/{document.public_id}/versions/1/download/")
    assert b"".join(old.streaming_content) == b"one\n"
    stale = client.post(f"/documents/{document.public_id}/versions/", {
        "file": SimpleUploadedFile("plan.txt", b"three\n"), "version": document.version})
    assert stale.status_code == 409 and document.versions.count() == 2


def test_edit_delete_and_undo(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account)
    client = client_for(personas.owner)
    response = client.post(f"/documents/{document.public_id}/edit/", {
        "title": "Minutes", "description": "Kick-off", "folder": "contracts", "visibility": "team",
        "version": document.version})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.folder.key, document.visibility) == ("Minutes", "contracts", "team")
    assert client_for(personas.outsider).get(f"/documents/{document.public_id}/").status_code == 404
    stale = client.post(f"/documents/{document.public_id}/edit/", {"title": "Other", "visibility": "team",
                                                                    "version": 1})
    assert stale.status_code == 409
    response = client.post(f"/documents/{document.public_id}/delete/", {"version": document.version})
    assert response.status_code == 302 and f"/accounts/{account.public_id}/" in response["Location"]
    panel = client.get(_panel(account)).content.decode()
    assert "Minutes" in panel and "Undo" in panel  # only in the trash notice
    assert client.get(f"/documents/{document.public_id}/").status_code == 404
    client.post(f"/documents/{document.public_id}/restore/")
    assert client.get(f"/documents/{document.public_id}/").status_code == 200


def test_a_panel_for_each_kind_of_record(personas):
    client = client_for(personas.owner)
    assert client.get(_panel(SupportItemFactory(owner=personas.owner))).status_code == 200
    for record in (AccountFactory(owner=personas.owner), ContactFactory(owner=personas.owner),
                   OpportunityFactory(owner=personas.owner)):
        assert client.get(_panel(record)).status_code == 200
        page = client.get(record_page(record)).content.decode()
        assert f"/documents/about/{record.ref}/" in page


def record_page(record) -> str:
    from rapport.core.registry import detail_url

    return detail_url(record)


def test_a_read_only_user_sees_files_but_no_upload(personas):
    account = AccountFactory(owner=personas.owner)
    add_document(actor=personas.owner, about=account, name="shared.txt")
    client = client_for(personas.viewer)
    panel = client.get(_panel(account)).content.decode()
    assert "shared.txt" in panel and 'type="file"' not in panel
    response = client.post(_panel(account), {"kind": "files", "upload-files": SimpleUploadedFile("x.txt", b"x")})
    assert response.status_code in (400, 403) and Document.objects.count() == 1


def test_too_many_files_at_once_are_refused_on_the_panel(personas, settings, media):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.owner).post(_panel(account), {
        "kind": "files", "upload-files": [SimpleUploadedFile(f"{n}.txt", b"x") for n in range(3)]},
        headers={"HX-Request": "true"})
    assert response.status_code == 400 and "at most 2 files at once" in response.content.decode()
    assert not Document.objects.exists() and stored_files(media) == []
