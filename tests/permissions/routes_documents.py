"""The permission matrix entries of the documents app: pages and API. See routes.py for the form.

A document is a business record: read as any record of its owner's is (SEE_OWNERS_RECORD) — and only
with the record it is about, which the subjects share with everyone; changed, given new versions,
deleted and restored with the update and delete rights on the owner's records. The Files panel is
about an account: whoever sees the account sees the panel; uploading onto it takes seeing the account
and the right to create records.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.permissions.routes import Call, Route, api, page, version_of
from tests.permissions.rules import (
    CHANGE_OWNERS_RECORD,
    CREATE,
    EVERYONE,
    OK,
    PERSONAS,
    SEE_OWNERS_RECORD,
    table,
)
from tests.permissions.world import World

DOCUMENT = "document"
ACCOUNT = "account"

# Uploading onto an account of `owner`'s: 404 where the account is not seen, 403 for the read-only viewer.
#                               private  team   everyone
SEE_RECORD_AND_CREATE = {
    persona: tuple(cell if cell != OK else (OK if CREATE[persona] == OK else 403)
                   for cell in SEE_OWNERS_RECORD[persona])
    for persona in PERSONAS
}


@dataclass(frozen=True)
class VersionRoute(Route):
    """A route naming a document and its version number (1)."""

    def url(self, world: World, *, value: str | None = None) -> str:
        public_id = value if value is not None else world.subject(DOCUMENT).public_id
        if self.is_api:
            return self.path.replace("{document_id}", public_id).replace("{number}", "1")
        return reverse(self.key, args=[public_id, 1])


class _File(SimpleUploadedFile):
    """A file a test can post twice (the CSRF check sends one body without the token, then with it)."""

    def read(self, *args: Any) -> bytes:
        if self.tell() and not args:
            self.seek(0)
        return super().read(*args)


def _upload(world: World, actor: str) -> dict[str, Any]:
    return {"kind": "files", "upload-folder": "publications",
            "upload-files": _File("matrix.txt", b"Uploaded by the matrix.\n")}


def _api_upload(world: World, actor: str) -> dict[str, Any]:
    return {"about": world.subject(ACCOUNT).ref, "file_name": "matrix.txt",
            "content_base64": base64.b64encode(b"Uploaded by the matrix.\n").decode()}


def _api_version(world: World, actor: str) -> dict[str, Any]:
    return {"file_name": "subject.txt", "content_base64": base64.b64encode(b"Version two.\n").decode(),
            "version": world.subject(DOCUMENT).version}


def _edit(world: World, actor: str) -> dict[str, Any]:
    record = world.subject(DOCUMENT)
    return {"title": "Renamed by the matrix", "description": "", "folder": "contracts",
            "visibility": record.visibility, "version": str(record.version)}


def _new_version(world: World, actor: str) -> dict[str, Any]:
    return {"file": _File("subject.txt", b"Version two.\n"),
            "version": str(world.subject(DOCUMENT).version)}


ROUTES: list[Route] = [
    # Pages
    page("record_documents", Call("GET", table(SEE_OWNERS_RECORD, 200)),
         Call("POST", table(SEE_RECORD_AND_CREATE, 302), writes=True, body=_upload), subject=ACCOUNT, arg="ref"),
    page("document_detail", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=DOCUMENT),
    page("document_edit", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_edit), subject=DOCUMENT),
    page("document_version_add", Call("GET", table(EVERYONE, 405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=_new_version),
         subject=DOCUMENT),
    page("document_download", Call("GET", table(SEE_OWNERS_RECORD, 200)), subject=DOCUMENT),
    VersionRoute(key="document_version_download", calls=(Call("GET", table(SEE_OWNERS_RECORD, 200)),),
                 subject=DOCUMENT),
    page("document_delete", Call("GET", table(EVERYONE, 405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=version_of(DOCUMENT)),
         subject=DOCUMENT),
    page("document_restore", Call("GET", table(EVERYONE, 405)),
         Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True), subject=f"deleted {DOCUMENT}"),

    # API
    api("GET /api/v1/documents", table(EVERYONE, 200)),
    api("POST /api/v1/documents", table(CREATE, 201), writes=True, body=_api_upload),
    api("GET /api/v1/documents/{document_id}", table(SEE_OWNERS_RECORD, 200), subject=DOCUMENT),
    api("PATCH /api/v1/documents/{document_id}", table(CHANGE_OWNERS_RECORD, 200), subject=DOCUMENT, writes=True,
        version=True, body=lambda w, a: {"version": w.subject(DOCUMENT).version, "title": "Renamed by the matrix"}),
    api("DELETE /api/v1/documents/{document_id}", table(CHANGE_OWNERS_RECORD, 204), subject=DOCUMENT, writes=True,
        version=True),
    api("POST /api/v1/documents/{document_id}/restore", table(CHANGE_OWNERS_RECORD, 200),
        subject=f"deleted {DOCUMENT}", writes=True),
    api("GET /api/v1/documents/{document_id}/versions", table(SEE_OWNERS_RECORD, 200), subject=DOCUMENT),
    api("POST /api/v1/documents/{document_id}/versions", table(CHANGE_OWNERS_RECORD, 201), subject=DOCUMENT,
        writes=True, version=True, body=_api_version),
    api("GET /api/v1/documents/{document_id}/download", table(SEE_OWNERS_RECORD, 200), subject=DOCUMENT),
    VersionRoute(key="GET /api/v1/documents/{document_id}/versions/{number}/download",
                 calls=(Call("GET", table(SEE_OWNERS_RECORD, 200)),), subject=DOCUMENT),
]
