"""The documents API (see docs/documents.md).

- GET    /documents?about=account:<id>&folder=<key>   documents you may see ({items, next})
- POST   /documents                                   multipart/form-data: about, file (or link_url), title,
                                                      description, folder; or JSON with file_name and
                                                      content_base64 in place of the file part
- GET    /documents/{id}; PATCH /documents/{id} (title, description, folder, link_url, version → 409 if stale)
- DELETE /documents/{id}?version=; POST /documents/{id}/restore
- GET    /documents/{id}/versions; POST /documents/{id}/versions (multipart: file, version)
- GET    /documents/{id}/download; GET /documents/{id}/versions/{n}/download   always as an attachment
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rapport.activities.selectors import record_ref
from rapport.core.apitools import (
    FORM_CONTENT,
    BusinessRecordOut,
    InputSchema,
    ListParams,
    RefOut,
    UploadIn,
    UploadLimit,
    api_page,
    file_body,
    ref_out,
    refuse_unknown_params,
    uploaded_file,
    utc_time,
)
from rapport.core.files import download, human_size
from rapport.core.models import Action, Visibility
from rapport.core.selectors import written
from rapport.documents import selectors, services
from rapport.documents.models import Document, DocumentVersion

router = Router(tags=["documents"])

ORDERINGS = {"created_at": "created_at", "updated_at": "updated_at", "title": "title"}


class AboutOut(Schema):
    type: str
    id: str
    name: str


class VersionOut(Schema):
    number: int
    file_name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: RefOut | None
    uploaded_at: dt.datetime
    download_url: str


class DocumentOut(BusinessRecordOut):
    title: str
    description: str
    folder: str | None = Field(..., description="The folder's key (publications, templates, logos, receipts, …)")
    about: AboutOut | None
    link_url: str = Field(..., description="For a document kept elsewhere; empty for a file")
    file_name: str
    version_count: int
    current_version: VersionOut | None
    created_by: RefOut | None

    @staticmethod
    def resolve_folder(obj: Document) -> str | None:
        return obj.folder.key if obj.folder_id and obj.folder else None

    @staticmethod
    def resolve_about(obj: Document) -> dict[str, str] | None:
        about = getattr(obj, "about", None)
        return {"type": about.record_type, "id": about.public_id, "name": str(about)} if about else None

    @staticmethod
    def resolve_version_count(obj: Document) -> int:
        count = getattr(obj, "version_count", None)
        return count if count is not None else obj.versions.count()

    @staticmethod
    def resolve_current_version(obj: Document) -> dict[str, Any] | None:
        return version_out(obj, obj.current_version) if obj.current_version is not None else None

    @staticmethod
    def resolve_created_by(obj: Document) -> dict[str, str] | None:
        return ref_out(obj.created_by)


class DocumentsOut(Schema):
    items: list[DocumentOut]
    next: str | None


class VersionsOut(Schema):
    items: list[VersionOut]
    next: str | None = None


class DocumentUpdate(InputSchema):
    title: str | None = None
    description: str | None = None
    folder: str | None = Field(None, description="A folder's key; empty for none")
    link_url: str | None = None
    visibility: Visibility | None = Field(None, description="private, team or everyone; never more than the "
                                                            "record it is about")
    version: int = Field(..., description="The version you read; a stale one answers 409")


def version_out(document: Document, version: DocumentVersion) -> dict[str, Any]:
    return {
        "number": version.number, "file_name": version.original_name, "size": version.size,
        "content_type": version.content_type, "sha256": version.sha256,
        "uploaded_by": ref_out(version.uploaded_by), "uploaded_at": utc_time(version.uploaded_at),
        "download_url": reverse("api:document_version_download_api",
                                kwargs={"document_id": document.public_id, "number": version.number}),
    }


def _one(request: HttpRequest, document: Document) -> Document:
    """A document just written, as the answer: read again (with the record it is about) when the writer can
    still see it."""
    found = written(selectors.document_get, Document, user=request.user, record=document)
    if getattr(found, "about", None) is None:
        found.about = selectors.abouts(user=request.user, documents=[found]).get(
            (found.about_type, found.about_id))
    return found


def _too_large(size: int) -> ValidationError:
    message = _("The upload is %(size)s; files may be at most %(limit)s (RAPPORT_UPLOAD_MAX_BYTES).")
    return ValidationError({"file": [message % {"size": human_size(size),
                                                "limit": human_size(services.max_upload_bytes())}]})


UPLOAD_LIMIT = UploadLimit(max_bytes=services.max_upload_bytes, too_large=_too_large)


class DocumentIn(UploadIn):
    about: str = Field(..., description="The record the document is about, as type:id (account:<id>)")
    title: str = ""
    description: str = ""
    folder: str = Field("", description="A folder's key (publications, templates, logos, receipts, contracts, …)")
    link_url: str = Field("", description="A document kept elsewhere (http or https), instead of a file")


class VersionIn(UploadIn):
    version: int | None = Field(None, description="The document's version you read; a stale one answers 409")


def _upload(request: HttpRequest, payload: UploadIn) -> Any:
    return uploaded_file(request, payload, UPLOAD_LIMIT)


def _upload_form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"requestBody": {"content": {FORM_CONTENT: {"schema": {
        "type": "object", "required": required, "properties": properties}}}}}


DOCUMENT_BODY = file_body(UPLOAD_LIMIT)
VERSION_BODY = file_body(UPLOAD_LIMIT)


@router.get("/documents", response=DocumentsOut, summary="List documents",
            description="Documents you may see that are about records you may see; `about=account:<id>` (any "
                        "record as type:id) narrows to one record, `folder=<key>` to one folder. Orderings: "
                        "created_at (default newest first: -created_at), updated_at, title.")
def list_documents(request: HttpRequest, params: Query[ListParams], about: str | None = None,
                   folder: str | None = None) -> dict[str, Any]:
    refuse_unknown_params(request, {"about", "folder"})
    page = api_page(selectors.document_list(user=request.user, params={"about": about, "folder": folder}),
                    params=params, allowed_orderings=ORDERINGS, default_ordering="-created_at")
    records = selectors.abouts(user=request.user, documents=page["items"])
    for document in page["items"]:
        document.about = records.get((document.about_type, document.about_id))
    return page


@router.post("/documents", response={201: DocumentOut}, summary="Add a document (upload a file or give a link)",
             description="multipart/form-data with `about` (the record, as type:id such as account:<id>) and either "
                         "a `file` part or a `link_url` (http or https); optional title (default: the file's "
                         "name), description and folder (a folder's key). The file's type is found from its "
                         "content: a file whose content contradicts its name, an empty one or one larger than "
                         "RAPPORT_UPLOAD_MAX_BYTES is refused (422, naming `file`).",
             openapi_extra=_upload_form({
                 "about": {"type": "string", "description": "The record, as type:id (account:<id>)"},
                 "file": {"type": "string", "format": "binary"},
                 "link_url": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                 "folder": {"type": "string"}}, ["about"]))
def create_document(request: HttpRequest, payload: DocumentIn = DOCUMENT_BODY) -> Status:  # type: ignore[assignment]
    record = record_ref(user=request.user, ref=payload.about, field="about")
    document = services.document_add(actor=request.user, about=record, upload=_upload(request, payload),
                                     link_url=payload.link_url, title=payload.title,
                                     description=payload.description, folder=payload.folder)
    return Status(201, _one(request, document))


@router.get("/documents/{document_id}", response=DocumentOut, summary="Get a document")
def get_document(request: HttpRequest, document_id: str) -> Document:
    return selectors.document_get(user=request.user, public_id=document_id)


@router.patch("/documents/{document_id}", response=DocumentOut, summary="Change a document",
              description="Its title, description, folder (a key, or empty for none), visibility or, for a link, its "
                          "address. "
                          "`version` is the one you read; a stale one answers 409.")
def update_document(request: HttpRequest, document_id: str, payload: DocumentUpdate) -> Document:
    document = selectors.document_get(user=request.user, public_id=document_id, action=Action.UPDATE)
    data = payload.model_dump(exclude_unset=True)
    data.pop("version", None)
    for name, value in data.items():
        if value is None and name != "folder":
            raise ValidationError({name: [_("This field may not be null.")]})
    document = services.document_update(actor=request.user, document=document, data=data, version=payload.version)
    return _one(request, document)


@router.delete("/documents/{document_id}", response={204: None},
               summary="Delete a document (it can be restored; its files are kept)")
def delete_document(request: HttpRequest, document_id: str, version: int | None = None) -> Status:
    document = selectors.document_get(user=request.user, public_id=document_id, action=Action.DELETE)
    services.document_delete(actor=request.user, document=document, version=version)
    return Status(204, None)


@router.post("/documents/{document_id}/restore", response=DocumentOut, summary="Restore a deleted document")
def restore_document(request: HttpRequest, document_id: str) -> Document:
    document = selectors.document_get(user=request.user, public_id=document_id, action=Action.DELETE, deleted=True)
    return _one(request, services.document_restore(actor=request.user, document=document))


@router.get("/documents/{document_id}/versions", response=VersionsOut, summary="List a document's versions",
            description="Newest first; each with its own download address.")
def list_versions(request: HttpRequest, document_id: str) -> dict[str, Any]:
    refuse_unknown_params(request)
    document = selectors.document_get(user=request.user, public_id=document_id)
    return {"items": [version_out(document, v) for v in selectors.document_versions(document=document)],
            "next": None}


@router.post("/documents/{document_id}/versions", response={201: DocumentOut}, summary="Upload a new version",
             description="multipart/form-data with a `file` part (and optionally the document's `version` you "
                         "read: a stale one answers 409). The older versions stay downloadable.",
             openapi_extra=_upload_form({"file": {"type": "string", "format": "binary"},
                                         "version": {"type": "integer"}}, ["file"]))
def add_version(request: HttpRequest, document_id: str,
                payload: VersionIn = VERSION_BODY) -> Status:  # type: ignore[assignment]
    document = selectors.document_get(user=request.user, public_id=document_id, action=Action.UPDATE)
    upload = _upload(request, payload)
    if upload is None:
        raise ValidationError({"file": [_("Send the new version as the `file` part (or content_base64).")]})
    document = services.document_version_add(actor=request.user, document=document, upload=upload,
                                             version=payload.version)
    return Status(201, _one(request, document))


@router.get("/documents/{document_id}/download", response={200: None}, summary="Download a document's file",
            description="The current version, always as an attachment (never shown inline).")
def download_document(request: HttpRequest, document_id: str) -> HttpResponseBase:
    document = selectors.document_get(user=request.user, public_id=document_id)
    version = selectors.version_get(document=document)
    return download(version.file, filename=version.original_name, content_type=version.content_type,
                    fallback="document")


@router.get("/documents/{document_id}/versions/{number}/download", response={200: None},
            summary="Download one version of a document's file", url_name="document_version_download_api")
def download_version(request: HttpRequest, document_id: str, number: int) -> HttpResponseBase:
    document = selectors.document_get(user=request.user, public_id=document_id)
    version = selectors.version_get(document=document, number=number)
    return download(version.file, filename=version.original_name, content_type=version.content_type,
                    fallback="document")
