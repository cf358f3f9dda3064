"""Files users give Rapport and take back out: type from content, clean names, safe serving.

One place for what every app that keeps files needs (logged mail's attachments, documents): what a
file is (`sniff_type`, from its first bytes, never its name), whether its content agrees with its name
(`content_mismatch`), a name fit to show (`safe_filename`) and a response that hands a stored file out
without ever letting the browser render or run it (`download`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import Any

from django.http import FileResponse, Http404
from django.utils.text import get_valid_filename

MAX_FILENAME = 255

# Types a download may be labelled with: none of them runs in a browser. Everything else
# (HTML, SVG, XML, scripts) goes out as application/octet-stream.
SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain",
                        "text/csv", "text/calendar", "text/vcard", "application/zip"})

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_OOXML = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<meta|<title|<style|<div|"
                         rb"<table|<a\s|<p>|<img|<form|<object|<embed|<svg)", re.IGNORECASE)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def sniff_type(data: bytes) -> str:
    """The type a file's first bytes show (a small magic-number table), whatever it claims to be."""
    head = data[:2048]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except Exception:
            return "application/zip"
        if "[Content_Types].xml" in names:
            for prefix, mime in _OOXML:
                if any(name.startswith(prefix) for name in names):
                    return mime
        return "application/zip"
    text = head.removeprefix(b"\xef\xbb\xbf")
    stripped = text.lstrip()
    if stripped.lower().startswith(b"<?xml") and _SVG.search(text):
        return "image/svg+xml"
    if stripped.lower().startswith(b"<svg"):
        return "image/svg+xml"
    if _HTML_START.match(text):
        return "text/html"
    if not data:
        return "application/x-empty"
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "application/octet-stream"
        sample = head[: exc.start].decode("utf-8")
    printable = sum(1 for char in sample if char.isprintable() or char in "\r\n\t\f")
    return "text/plain" if not sample or printable / len(sample) > 0.95 else "application/octet-stream"


_TEXT = frozenset({"text/plain"})
# What a name's extension promises, as the types sniff_type can find. An extension missing here promises
# nothing we can check (a .doc, a .dat), so any content passes; it is still served as a download only.
_EXTENSION_TYPES: dict[str, frozenset[str]] = {
    "pdf": frozenset({"application/pdf"}),
    "png": frozenset({"image/png"}),
    "jpg": frozenset({"image/jpeg"}), "jpeg": frozenset({"image/jpeg"}),
    "gif": frozenset({"image/gif"}),
    "webp": frozenset({"image/webp"}),
    "docx": frozenset({DOCX}), "xlsx": frozenset({XLSX}), "pptx": frozenset({PPTX}),
    "zip": frozenset({"application/zip", DOCX, XLSX, PPTX}),
    "txt": _TEXT, "csv": _TEXT, "tsv": _TEXT, "md": _TEXT, "json": _TEXT, "ics": _TEXT, "vcf": _TEXT,
    "log": _TEXT, "eml": _TEXT,
    "html": frozenset({"text/html", "text/plain"}), "htm": frozenset({"text/html", "text/plain"}),
    "svg": frozenset({"image/svg+xml"}),
    "xml": frozenset({"text/plain", "text/html", "image/svg+xml"}),
}
_DESCRIPTIONS = {"application/pdf": "a PDF", "image/png": "a PNG image", "image/jpeg": "a JPEG image",
                 "image/gif": "a GIF image", "image/webp": "a WebP image", "text/html": "an HTML page",
                 "image/svg+xml": "an SVG image", "text/plain": "text", "application/zip": "a ZIP archive",
                 DOCX: "a Word document", XLSX: "an Excel workbook", PPTX: "a PowerPoint presentation",
                 "application/octet-stream": "binary data"}
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
               "text/html": ".html", "text/plain": ".txt", "image/svg+xml": ".svg", "message/rfc822": ".eml",
               "application/zip": ".zip", "text/calendar": ".ics"}


def describe_type(content_type: str) -> str:
    """A content type as a reader says it: "an HTML page"."""
    return _DESCRIPTIONS.get(content_type, content_type)


def content_mismatch(name: str, detected: str) -> str | None:
    """What the name's extension promises, if the content is something else ("a PDF"); else None."""
    stem, dot, extension = name.rpartition(".")
    allowed = _EXTENSION_TYPES.get(extension.lower()) if dot and stem else None
    if allowed is None or detected in allowed:
        return None
    return describe_type(min(allowed))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_UNSAFE_IN_NAME = re.compile(r'[<>:"|?*;]')


def safe_filename(name: str, *, fallback: str = "attachment", content_type: str = "") -> str:
    """A file name fit to show and to keep: no folders (`../` is gone), no control characters, at most
    255 characters (the extension kept), never empty or only dots."""
    name = _SPACES.sub(" ", _CONTROL.sub(" ", name or "")).strip()
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("_", name).strip(" .")
    if not name:
        name = fallback + _EXTENSIONS.get(content_type, "")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name


def download_name(name: str, fallback: str) -> str:
    """A file name that cannot break a header or climb a directory: letters, digits, dots, dashes."""
    cleaned = get_valid_filename("".join(ch for ch in name if ch.isprintable()).replace("/", "_").replace("\\", "_")
                                 .strip(" .")) if name.strip(" ./\\") else ""
    return (cleaned or fallback)[:150]


def served_type(content_type: str) -> str:
    """The type a download is labelled with: the file's own if a browser cannot run it."""
    return content_type if content_type in SAFE_TYPES else "application/octet-stream"


def download(stored: Any, *, filename: str, content_type: str, fallback: str = "download") -> FileResponse:
    """A stored file as a download: always an attachment, never sniffed, run or framed. The caller has
    checked that the user may see what the file belongs to."""
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=download_name(filename, fallback),
                            content_type=served_type(content_type))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def human_size(size: int) -> str:
    """1536 -> "1.5 kB", 26214400 -> "25 MB" (decimal-free where it is whole)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover
