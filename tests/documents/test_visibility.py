"""Who sees a document: whoever may see it and the record it is about; everyone else gets 404, downloads too."""

from __future__ import annotations

from rapport.core.models import Visibility
from rapport.documents.selectors import documents_about
from tests.conftest import client_for
from tests.documents.factories import SVG_WITH_SCRIPT, add_document
from tests.factories import AccountFactory, TeamFactory, UserFactory


def test_another_team_gets_404_on_the_document_and_its_download(personas):
    account = AccountFactory(owner=personas.owner, visibility=Visibility.TEAM)
    document = add_document(actor=personas.owner, about=account)
    outsider = client_for(personas.outsider)
    for url in (f"/documents/{document.public_id}/", f"/documents/{document.public_id}/download/",
                f"/documents/{document.public_id}/versions/1/download/", f"/documents/about/{account.ref}/"):
        assert outsider.get(url).status_code == 404, url
    for url in (f"/api/v1/documents/{document.public_id}", f"/api/v1/documents/{document.public_id}/download",
                f"/api/v1/documents/{document.public_id}/versions"):
        assert outsider.get(url).status_code == 404, url
    teammate = client_for(personas.teammate)
    assert teammate.get(f"/documents/{document.public_id}/download/").status_code == 200


def test_a_private_document_on_a_shared_record_is_the_owners(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account)
    document.visibility = Visibility.PRIVATE
    document.save(update_fields=["visibility"])
    assert documents_about(user=personas.teammate, record=account) == []
    assert client_for(personas.teammate).get(f"/documents/{document.public_id}/").status_code == 404
    assert [d.pk for d in documents_about(user=personas.owner, record=account)] == [document.pk]


def test_when_the_record_becomes_private_its_documents_follow(personas):
    account = AccountFactory(owner=personas.owner)
    document = add_document(actor=personas.owner, about=account)
    assert client_for(personas.outsider).get(f"/documents/{document.public_id}/download/").status_code == 200
    account.visibility = Visibility.PRIVATE
    account.save(update_fields=["visibility"])
    assert client_for(personas.outsider).get(f"/documents/{document.public_id}/download/").status_code == 404


def test_an_svg_with_script_is_served_as_an_attachment_never_inline(personas):
    document = add_document(actor=personas.owner, about=AccountFactory(owner=personas.owner), name="logo.svg",
                            content=SVG_WITH_SCRIPT)
    assert document.current_version.content_type == "image/svg+xml"
    for url in (f"/documents/{document.public_id}/download/", f"/api/v1/documents/{document.public_id}/download"):
        response = client_for(personas.owner).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == SVG_WITH_SCRIPT
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == 'attachment; filename="logo.svg"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_a_manager_sees_the_documents_of_the_team(personas):
    account = AccountFactory(owner=personas.owner, visibility=Visibility.PRIVATE)
    add_document(actor=personas.owner, about=account)
    assert len(documents_about(user=personas.manager, record=account)) == 1
    stranger = UserFactory(team=TeamFactory(name="Elsewhere"), role_slugs="manager")
    assert documents_about(user=stranger, record=account) == []
