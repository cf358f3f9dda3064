"""Writes of documents: add (a file or a link), new version, change, delete, restore.

Every check runs before a byte is stored; the file is written last, and removed again if the
transaction it was written in fails, so a refused or failed upload leaves neither a row nor a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import record_visible, require
from rapport.core.errors import StaleVersion
from rapport.core.files import content_mismatch, describe_type, human_size, safe_filename, sniff_type
from rapport.core.models import Action
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.core.registry import linkables
from rapport.documents.models import DEFAULT_FOLDERS, Document, DocumentFolder, DocumentVersion
from rapport.documents.text import extract_text

logger = logging.getLogger(__name__)
MAX_TITLE = 200


def max_upload_bytes() -> int:
    return int(getattr(settings, "RAPPORT_UPLOAD_MAX_BYTES", 25 * 1024 * 1024))


# --- Checks (no writes) ----------------------------------------------------------------------------------


class CheckedFile:
    """An upload that passed every check: its bytes, cleaned name, type found from content, hash, text."""

    def __init__(self, *, data: bytes, name: str, content_type: str) -> None:
        self.data = data
        self.name = name
        self.content_type = content_type
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.text = extract_text(data, content_type)


def check_upload(upload: Any, *, field: str = "file") -> CheckedFile:
    """Refuse an empty or oversized file, or one whose content is not what its name says (a .pdf that
    is an HTML page); else the file's bytes with a clean name. Errors name `field`."""
    limit = max_upload_bytes()
    raw_name = str(getattr(upload, "name", "") or "")
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError({field: [_("“%(name)s” is %(size)s; files may be at most %(limit)s "
                                         "(RAPPORT_UPLOAD_MAX_BYTES).")
                                       % {"name": safe_filename(raw_name, fallback="file"),
                                          "size": human_size(size), "limit": human_size(limit)}]})
    data = b"".join(upload.chunks()) if hasattr(upload, "chunks") else upload.read()
    if len(data) > limit:
        raise ValidationError({field: [_("“%(name)s” is %(size)s; files may be at most %(limit)s "
                                         "(RAPPORT_UPLOAD_MAX_BYTES).")
                                       % {"name": safe_filename(raw_name, fallback="file"),
                                          "size": human_size(len(data)), "limit": human_size(limit)}]})
    detected = sniff_type(data)
    name = safe_filename(raw_name, fallback="file", content_type=detected)
    if not data:
        raise ValidationError({field: [_("“%(name)s” is empty; choose a file with something in it.")
                                       % {"name": name}]})
    promised = content_mismatch(name, detected)
    if promised is not None:
        raise ValidationError({field: [_("“%(name)s” is named as %(promised)s but its content is %(found)s; "
                                         "rename it or choose the right file.")
                                       % {"name": name, "promised": promised, "found": describe_type(detected)}]})
    return CheckedFile(data=data, name=name, content_type=detected)


def check_link(link_url: str) -> str:
    link_url = (link_url or "").strip()
    parts = urlsplit(link_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError({"link_url": [_("Give the document's address starting with https:// or http://.")]})
    if len(link_url) > 1000:
        raise ValidationError({"link_url": [_("The address is longer than 1000 characters.")]})
    return link_url


def folder_for(folder: Any) -> DocumentFolder | None:
    """A folder by key (or the folder itself); None for none. The default folders are made on first use,
    so a database emptied by a test, or made before folders existed, still has them."""
    if folder is None or folder == "":
        return None
    if isinstance(folder, DocumentFolder):
        return folder
    key = str(folder).strip().lower()
    found = DocumentFolder.objects.filter(key=key, is_active=True).first()
    if found is not None:
        return found
    defaults = dict(DEFAULT_FOLDERS)
    if key in defaults and not DocumentFolder.objects.filter(key=key).exists():
        position = [k for k, _label in DEFAULT_FOLDERS].index(key) * 10 + 10
        return DocumentFolder.objects.create(key=key, label=defaults[key], position=position)
    offered = ", ".join(DocumentFolder.objects.filter(is_active=True).values_list("key", flat=True)) or ", ".join(
        defaults)
    raise ValidationError({"folder": [_("No folder “%(key)s”; choose one of: %(keys)s.")
                                      % {"key": key[:40], "keys": offered}]})


def _check_about(actor: Any, about: Any) -> None:
    if about is None or getattr(about, "record_type", "") not in linkables():
        raise ValidationError({"about": [_("Name the record the document is about.")]})
    if not record_visible(actor, about) and not type(about).objects.visible_to(actor).filter(pk=about.pk).exists():
        raise ValidationError({"about": [_("No such %(type)s.") % {"type": about.record_type}]})


def _clean_title(title: str) -> str:
    return " ".join((title or "").split())


def _refuse_nul(**values: Any) -> None:
    """PostgreSQL cannot store a NUL character: refuse it, naming the field, on every database."""
    for name, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError({name: [_("A NUL character is not allowed.")]})


# --- Storing -----------------------------------------------------------------------------------------------


def _forget_on_failure(stored: list[str]) -> None:
    for name in stored:
        try:
            default_storage.delete(name)
        except Exception:  # the row is gone anyway; a leftover file is only disk space
            logger.warning("Could not remove the stored file %s after a failed upload", name)


def _store_version(document: Document, checked: CheckedFile, actor: Any, stored: list[str]) -> DocumentVersion:
    number = (document.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = DocumentVersion(document=document, number=number, original_name=checked.name, size=checked.size,
                              content_type=checked.content_type, sha256=checked.sha256, uploaded_by=actor,
                              uploaded_at=timezone.now())
    version.file.save(checked.name, ContentFile(checked.data), save=False)
    stored.append(str(version.file.name))
    version.save()
    return version


def document_add(*, actor: Any, about: Any, upload: Any = None, link_url: str = "", title: str = "",
                 description: str = "", folder: Any = "") -> Document:
    """Add a file (a Django UploadedFile) or a link to a record the actor can see. Raises ValidationError
    naming "file", "link_url", "title", "folder" or "about"; nothing is stored then."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            return _document_add(actor=actor, about=about, upload=upload, link_url=link_url, title=title,
                                 description=description, folder=folder, stored=stored)
    except BaseException:
        _forget_on_failure(stored)
        raise


def _document_add(*, actor: Any, about: Any, upload: Any, link_url: str, title: str, description: str,
                  folder: Any, stored: list[str]) -> Document:
    require(actor, Document.record_type, Action.CREATE)
    _refuse_nul(link_url=link_url, title=title, description=description, folder=folder)
    _check_about(actor, about)
    link_url = (link_url or "").strip()
    if upload is not None and link_url:
        raise ValidationError({"link_url": [_("Give a file or a link, not both.")]})
    if upload is None and not link_url:
        raise ValidationError({"file": [_("Choose a file, or give a link to a document kept elsewhere.")]})
    checked = check_upload(upload) if upload is not None else None
    if link_url:
        link_url = check_link(link_url)
    title = _clean_title(title)
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": [_("The title is longer than %(max)d characters.") % {"max": MAX_TITLE}]})
    if not title:
        title = (checked.name if checked is not None else urlsplit(link_url).netloc)[:MAX_TITLE]
    data: dict[str, Any] = {"about_type": about.record_type, "about_id": about.pk, "title": title,
                            "description": (description or "").strip(), "folder": folder_for(folder),
                            "link_url": link_url}
    if checked is not None:
        data.update(file_name=checked.name, search_text=checked.text)
    document = record_create(Document, actor=actor, data=data)
    if checked is not None:
        version = _store_version(document, checked, actor, stored)
        Document.objects.filter(pk=document.pk).update(current_version=version)
        document.current_version = version
    return document


def document_version_add(*, actor: Any, document: Document, upload: Any, version: int | None = None) -> Document:
    """A new upload of a document's file: the older versions stay. `version` (the document's, if given)
    must still be current."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            require(actor, Document.record_type, Action.UPDATE, owner_id=document.owner_id)
            if document.is_link:
                raise ValidationError({"file": [_("This document is a link; add the file as a new document.")]})
            checked = check_upload(upload)
            # Lock the row, so two uploads at once get numbers 2 and 3 rather than one failing.
            current = Document.objects.select_for_update().values_list("version", flat=True).get(pk=document.pk)
            if version is not None and version != current:
                raise StaleVersion(current_version=current)
            document.version = current
            new = _store_version(document, checked, actor, stored)
            # The history says which file and which version; the pointer and the text are bookkeeping. Set on
            # the instance first, so the search index (told by record_update) reads the new text.
            document.current_version = new
            document.search_text = checked.text
            document = record_update(document, actor=actor, version=current, data={"file_name": checked.name},
                                     related_changes={"versions": [str(new.number - 1), str(new.number)]})
            Document.objects.filter(pk=document.pk).update(current_version=new, search_text=checked.text)
            return document
    except BaseException:
        _forget_on_failure(stored)
        raise


@transaction.atomic
def document_update(*, actor: Any, document: Document, data: dict[str, Any], version: int | None) -> Document:
    """Change a document's title, description, folder, visibility or link."""
    allowed = {"title", "description", "folder", "link_url", "visibility"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({unknown[0]: [_("This field cannot be changed.")]})
    changes = dict(data)
    _refuse_nul(**changes)
    if "title" in changes:
        changes["title"] = _clean_title(changes["title"])
        if not changes["title"]:
            raise ValidationError({"title": [_("A document needs a title.")]})
        if len(changes["title"]) > MAX_TITLE:
            raise ValidationError({"title": [_("The title is longer than %(max)d characters.")
                                             % {"max": MAX_TITLE}]})
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    if "folder" in changes:
        changes["folder"] = folder_for(changes["folder"])
    if "link_url" in changes:
        if not document.is_link:
            raise ValidationError({"link_url": [_("This document is a file; upload a new version instead.")]})
        changes["link_url"] = check_link(changes["link_url"])
    return record_update(document, actor=actor, data=changes, version=version)


@transaction.atomic
def document_delete(*, actor: Any, document: Document, version: int | None = None) -> Document:
    """Soft delete: the document leaves the record's Files but can be restored; its files are kept."""
    return record_delete(document, actor=actor, version=version)


@transaction.atomic
def document_restore(*, actor: Any, document: Document) -> Document:
    return record_restore(document, actor=actor)


# --- Orphaned files ------------------------------------------------------------------------------------------

ORPHAN_GRACE = dt.timedelta(hours=1)


def orphan_files_remove(*, now: dt.datetime | None = None, grace: dt.timedelta = ORPHAN_GRACE) -> int:
    """Delete stored files no version points to: left by an upload whose transaction rolled back after the
    file was written (a caller's own transaction around document_add failing later). Only files older than
    `grace` (an upload in flight has no row yet), and only this month's and last month's folders (a file is
    stored under the month of its upload, and the sweep runs every few hours). Idempotent."""
    now = now or timezone.now()
    first_of_month = now.replace(day=1)
    months = {f"documents/{now:%Y/%m}", f"documents/{(first_of_month - dt.timedelta(days=1)):%Y/%m}"}
    removed = 0
    for folder in sorted(months):
        try:
            _dirs, names = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        paths = [f"{folder}/{name}" for name in names]
        for start in range(0, len(paths), 500):
            batch = paths[start:start + 500]
            known = set(DocumentVersion.objects.filter(file__in=batch).values_list("file", flat=True))
            for path in batch:
                if path in known:
                    continue
                try:
                    if now - default_storage.get_modified_time(path) < grace:
                        continue
                    default_storage.delete(path)
                except FileNotFoundError:
                    continue
                removed += 1
    return removed
