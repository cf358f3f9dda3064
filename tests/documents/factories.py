"""Documents for tests, made through the service (so versions, names and text are real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.documents.models import Document
from rapport.documents.services import document_add


def upload(name: str = "notes.txt", content: bytes = b"Some notes about the deal.\n",
           content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def add_document(*, actor: Any, about: Any, name: str = "notes.txt", content: bytes = b"Some notes.\n",
                 **kwargs: Any) -> Document:
    return document_add(actor=actor, about=about, upload=upload(name, content), **kwargs)


def stored_files(media: Path) -> list[Path]:
    """Every file under MEDIA_ROOT (what a failed upload must not leave behind)."""
    return [path for path in Path(media).rglob("*") if path.is_file()] if Path(media).exists() else []


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e0a7d9"
    "bf0000000049454e44ae426082")
SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
                   b'<script>alert(document.cookie)</script></svg>')
