"""Pinned query counts of the Files panel, the document page and the API list: the same for one document as
for several, with versions, on the account and its people (no query per row).

If a change adds a query on purpose, update the number here and say why.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.documents.services import document_add, document_version_add
from tests.conftest import ApiClient, client_for
from tests.documents.factories import add_document, upload
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

# session + user (2), rights (1), the record by its ref (1), the account's contacts (1), the documents with
# their folders, versions count, owners and uploaders (1), the folders of the forms (1)
PANEL = 7
# A page: session + user (2), rights (1), the top bar's badges (1); the document with its owner, creator,
# folder and current version (1), the record it is about (1), its versions with their uploaders (1), its
# history with its actors (1)
DOCUMENT_PAGE = 8
# token (1), rights (1), the documents with their folders, owners and current versions (1), the records they
# are about (1 per type: accounts and contacts here)
API_LIST = 5


def _world(personas, count: int):
    account = AccountFactory(owner=personas.owner)
    contact = ContactFactory(owner=personas.owner, account=account)
    first = None
    for index in range(count):
        document = add_document(actor=personas.owner, about=account, name=f"file{index}.txt",
                                folder="publications")
        document_version_add(actor=personas.owner, document=document, upload=upload(f"file{index}.txt", b"v2\n"))
        document_add(actor=personas.teammate, about=contact, upload=upload(f"cv{index}.txt", b"cv\n"))
        first = first or document
    return account, first


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("count", [1, 4])
def test_panel(personas, count):
    account, _document = _world(personas, count)
    client = client_for(personas.owner)
    client.get(f"/documents/about/{account.ref}/")
    assert _count(lambda: client.get(f"/documents/about/{account.ref}/")) == PANEL


@pytest.mark.parametrize("count", [1, 4])
def test_document_page(personas, count):
    _account, document = _world(personas, count)
    for _ in range(count):
        document = document_version_add(actor=personas.owner, document=document, upload=upload("x.txt", b"more\n"))
    client = client_for(personas.owner)
    client.get(f"/documents/{document.public_id}/")
    assert _count(lambda: client.get(f"/documents/{document.public_id}/")) == DOCUMENT_PAGE


@pytest.mark.parametrize("count", [1, 4])
def test_api_list(personas, count):
    _world(personas, count)
    api = ApiClient(personas.owner)
    api.get("documents")
    assert _count(lambda: api.get("documents")) == API_LIST
