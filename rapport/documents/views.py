"""Pages of the documents app: the Files panel of a record page, the document page, downloads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from rapport.activities.selectors import panel_record
from rapport.core.access import can
from rapport.core.errors import StaleVersion
from rapport.core.files import download
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show, show_errors
from rapport.core.registry import detail_url
from rapport.documents import selectors, services
from rapport.documents.apps import FILES_PANEL_TYPES
from rapport.documents.forms import DocumentForm, LinkForm, UploadForm, VersionForm, folder_choices
from rapport.documents.models import Document

RECORD_TYPE = Document.record_type


def _record_page(record: Any) -> str:
    url = detail_url(record) or reverse("home")
    return f"{url}#files-heading-{record.public_id}"


def _panel(request: HttpRequest, record: Any, *, upload_form: UploadForm | None = None,
           link_form: LinkForm | None = None, added: str = "", status: int = 200) -> HttpResponse:
    undo = request.session.get("rapport_undo") or {}
    choices = folder_choices()  # one query for both forms
    return render(request, "documents/_record_documents.html", {
        "record": record,
        "rows": selectors.documents_for_panel(user=request.user, record=record),
        "upload_form": upload_form or UploadForm(prefix="upload", choices=choices),
        "link_form": link_form or LinkForm(prefix="link", choices=choices),
        "added": added,
        "can_create": can(request.user, RECORD_TYPE, Action.CREATE),
        "is_account": record.record_type == "account",
        # A document deleted from this panel is offered back here (the record pages show no undo of their own).
        "undo": undo if str(undo.get("url", "")).startswith("/documents/") else None,
    }, status=status)


@login_required
def record_documents(request: HttpRequest, ref: str) -> HttpResponse:
    """The Files panel of a record page (GET); uploading files or adding a link onto the record (POST)."""
    record = panel_record(user=request.user, ref=ref, types=FILES_PANEL_TYPES)
    if request.method != "POST":
        return _panel(request, record)
    try:
        request.FILES  # noqa: B018 -- read the body here, where a refusal can be shown on the panel
    except (TooManyFilesSent, RequestDataTooBig):
        form = UploadForm({}, prefix="upload")
        form.is_valid()
        form.add_error("files", _("Upload at most %(count)d files at once.")
                       % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES})
        return _panel(request, record, upload_form=form, status=400)
    if request.POST.get("kind") == "link":
        return _add_link(request, record)
    return _upload(request, record)


def _upload(request: HttpRequest, record: Any) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES, prefix="upload")
    if not form.is_valid():
        return _panel(request, record, upload_form=form, status=400)
    uploads = form.cleaned_data["files"]
    if not uploads:
        form.add_error("files", _("Choose one or more files first."))
        return _panel(request, record, upload_form=form, status=400)
    added: list[Document] = []
    errors: list[str] = []
    for upload in uploads:
        try:
            added.append(services.document_add(actor=request.user, about=record, upload=upload,
                                               description=form.cleaned_data["description"],
                                               folder=form.cleaned_data["folder"]))
        except ValidationError as exc:
            errors.append(error_text(exc))
    for message in errors:
        form.add_error("files", message)
    added_text = (ngettext("%(count)d file was added.", "%(count)d files were added.", len(added))
                  % {"count": len(added)}) if added else ""
    if not request.htmx and not errors:
        messages.success(request, added_text)
        return redirect(_record_page(record))
    if request.htmx:
        return _panel(request, record, upload_form=form if errors else None, added=added_text,
                      status=400 if errors else 200)
    return _panel_page(request, record, upload_form=form, added=added_text, status=400)


def _add_link(request: HttpRequest, record: Any) -> HttpResponse:
    form = LinkForm(request.POST, prefix="link")
    if form.is_valid():
        try:
            services.document_add(actor=request.user, about=record, link_url=form.cleaned_data["link_url"],
                                  title=form.cleaned_data["title"], description=form.cleaned_data["description"],
                                  folder=form.cleaned_data["folder"])
        except ValidationError as exc:
            show_errors(form, exc, rename={"file": "link_url"})
        else:
            if not request.htmx:
                messages.success(request, _("The link was added."))
                return redirect(_record_page(record))
            return _panel(request, record, added=_("The link was added."))
    if request.htmx:
        return _panel(request, record, link_form=form, status=400)
    return _panel_page(request, record, link_form=form, status=400)


def _panel_page(request: HttpRequest, record: Any, **forms: Any) -> HttpResponse:
    """Without JavaScript a refused upload shows the panel on a page of its own, with the reasons."""
    response = _panel(request, record, **forms)
    return render(request, "documents/panel_page.html", {"record": record, "panel": response.content.decode()},
                  status=response.status_code)


@login_required
def document_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    document = selectors.document_get(user=request.user, public_id=public_id)
    return render(request, "documents/document_detail.html", _detail_context(request, document))


def _detail_context(request: HttpRequest, document: Document, **extra: Any) -> dict[str, Any]:
    return {
        "document": document,
        "record": document,
        "about": document.about,  # type: ignore[attr-defined]
        "about_url": detail_url(document.about),  # type: ignore[attr-defined]
        "versions": selectors.document_versions(document=document),
        "history": selectors.document_history(user=request.user, document=document),
        "can_update": can(request.user, RECORD_TYPE, Action.UPDATE, document),
        "can_delete": can(request.user, RECORD_TYPE, Action.DELETE, document),
        "version_form": extra.pop("version_form", None) or VersionForm(initial={"version": document.version}),
        **extra,
    }


@login_required
@require_POST
def document_version_add(request: HttpRequest, public_id: str) -> HttpResponse:
    """Upload a new version of a document's file; the older ones stay."""
    document = selectors.document_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    form = VersionForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        if not form.cleaned_data["file"]:
            form.add_error("file", _("Choose the file of the new version."))
        else:
            try:
                document = services.document_version_add(actor=request.user, document=document,
                                                         upload=form.cleaned_data["file"],
                                                         version=form.cleaned_data["version"])
            except ValidationError as exc:
                show_errors(form, exc)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("Version %(number)d was added.")
                                 % {"number": document.current_version.number})  # type: ignore[union-attr]
                return redirect("document_detail", public_id=document.public_id)
    document = selectors.document_get(user=request.user, public_id=public_id)
    return render(request, "documents/document_detail.html",
                  _detail_context(request, document, version_form=form), status=status)


@login_required
def document_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    document = selectors.document_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    initial = {"title": document.title, "description": document.description, "link_url": document.link_url,
               "folder": document.folder.key if document.folder else "", "visibility": document.visibility,
               "version": document.version}
    form = DocumentForm(request.POST if request.method == "POST" else None, initial=initial,
                        is_link=document.is_link)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in ("title", "description", "folder", "link_url",
                                                               "visibility") if name in form.fields}
            try:
                services.document_update(actor=request.user, document=document, data=data,
                                         version=form.cleaned_data["version"])
            except ValidationError as exc:
                show_errors(form, exc)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("The document was saved."))
                return redirect("document_detail", public_id=document.public_id)
        status = status if status != 200 else 400
    return render(request, "documents/document_form.html", {"document": document, "form": form}, status=status)


@login_required
@require_POST
def document_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    document = selectors.document_get(user=request.user, public_id=public_id, action=Action.DELETE)
    return delete_and_offer_undo(
        request, record=document, detail="document_detail", restore="document_restore",
        then=_record_page(document.about),  # type: ignore[attr-defined]
        delete=lambda version: services.document_delete(actor=request.user, document=document, version=version))


@login_required
@require_POST
def document_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    document = selectors.document_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=document, detail="document_detail",
                            then=_record_page(document.about),  # type: ignore[attr-defined]
                            restore=lambda: services.document_restore(actor=request.user, document=document))


@login_required
def document_download(request: HttpRequest, public_id: str, number: int | None = None) -> FileResponse:
    """A version of a document's file (the current one without a number), after checking again that the
    user may see the document and its record; always an attachment."""
    document = selectors.document_get(user=request.user, public_id=public_id)
    version = selectors.version_get(document=document, number=number)
    return download(version.file, filename=version.original_name, content_type=version.content_type,
                    fallback="document")


