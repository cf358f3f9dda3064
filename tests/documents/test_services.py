"""Adding documents: files with versions, links, folders; bad input stores nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.documents.models import Document, DocumentVersion
from rapport.documents.selectors import documents_about
from rapport.documents.services import document_add, document_version_add
from tests.documents.factories import add_document, stored_files, upload
from tests.factories import AccountFactory


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_a_file_is_stored_under_a_generated_name_with_its_facts(personas, media):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account, name="Price list.csv",
                            content=b"product,price\nWidget,10\n", folder="publications")
    version = document.current_version
    assert document.title == "Price list.csv" and document.folder.key == "publications"
    assert (version.number, version.original_name, version.size) == (1, "Price list.csv", 24)
    assert version.content_type == "text/plain" and len(version.sha256) == 64
    assert "Price" not in version.file.name and version.file.name.startswith("documents/")
    assert version.uploaded_by == personas.owner
    assert [d.pk for d in documents_about(user=personas.owner, record=account)] == [document.pk]
    assert "Widget" in Document.objects.get(pk=document.pk).search_text
    assert len(stored_files(media)) == 1


def test_a_new_upload_adds_a_version_and_keeps_the_old_one(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account, content=b"first\n")
    document = document_version_add(actor=personas.owner, document=document, upload=upload("notes.txt", b"second\n"),
                                     version=document.version)
    versions = list(DocumentVersion.objects.filter(document=document).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert [v.file.open("rb").read() for v in versions] == [b"first\n", b"second\n"]
    assert document.current_version == versions[1]


def test_a_link_needs_http_or_https(personas):
    account = AccountFactory(owner=personas.owner)
    document = document_add(actor=personas.owner, about=account, link_url="https://drive.example.com/doc/1")
    assert document.is_link and document.title == "drive.example.com"
    with pytest.raises(ValidationError) as excinfo:
        document_add(actor=personas.owner, about=account, link_url="javascript:alert(1)")
    assert "link_url" in _errors(excinfo)


@pytest.mark.parametrize(("name", "content", "words"), [
    ("empty.txt", b"", "empty"),
    ("invoice.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML"),
    ("photo.png", b"%PDF-1.4 not a png", "PNG"),
])
def test_bad_files_are_refused_and_nothing_is_stored(personas, media, name, content, words):
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as excinfo:
        add_document(actor=personas.owner, about=account, name=name, content=content)
    assert words in " ".join(_errors(excinfo)["file"])
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert stored_files(media) == []


def test_an_oversized_file_names_the_limit(personas, media, settings):
    settings.RAPPORT_UPLOAD_MAX_BYTES = 1000
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as excinfo:
        add_document(actor=personas.owner, about=account, content=b"x" * 1001)
    message = _errors(excinfo)["file"][0]
    assert "1000 bytes" in message and "RAPPORT_UPLOAD_MAX_BYTES" in message
    assert not Document.objects.exists() and stored_files(media) == []


def test_a_failure_after_storing_removes_the_file(personas, media, monkeypatch):
    account = AccountFactory(owner=personas.owner)

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Document.objects, "filter", fail)
    with pytest.raises(RuntimeError):
        add_document(actor=personas.owner, about=account)
    assert not DocumentVersion.objects.exists() and stored_files(media) == []


def test_names_with_folders_and_control_characters_are_cleaned(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account, name="../../etc/pass\x00wd\r\n.txt")
    assert document.current_version.original_name == "pass wd .txt"
    assert "/" not in document.title and "\x00" not in document.title


def test_an_unknown_folder_is_refused(personas):
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(ValidationError) as excinfo:
        add_document(actor=personas.owner, about=account, folder="nonsense")
    assert "receipts" in _errors(excinfo)["folder"][0]


def test_a_read_only_user_may_not_add(personas):
    account = AccountFactory(owner=personas.owner)
    with pytest.raises(PermissionDenied):
        add_document(actor=personas.viewer, about=account)


def test_a_file_left_by_a_callers_rollback_is_swept_after_an_hour(personas, media):
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from rapport.documents.services import orphan_files_remove

    account = AccountFactory(owner=personas.owner)
    kept = add_document(actor=personas.owner, about=account)
    with pytest.raises(RuntimeError), transaction.atomic():  # an expense whose own check fails after the receipt
        add_document(actor=personas.owner, about=account, name="receipt.txt")
        raise RuntimeError("the caller's transaction fails")
    assert len(stored_files(media)) == 2
    assert orphan_files_remove() == 0  # too fresh: it may be an upload in flight
    assert orphan_files_remove(now=timezone.now() + dt.timedelta(hours=2)) == 1
    assert [p.name for p in stored_files(media)] == [kept.current_version.file.name.rsplit("/", 1)[-1]]


def test_the_default_folders_come_back_in_an_emptied_database(personas):
    from rapport.documents.models import DocumentFolder
    from rapport.documents.selectors import folders

    DocumentFolder.objects.all().delete()
    assert [folder.key for folder in folders()][:3] == ["publications", "templates", "logos"]
    document = add_document(actor=personas.owner, about=AccountFactory(owner=personas.owner), folder="receipts")
    assert document.folder.label == "Receipts"
