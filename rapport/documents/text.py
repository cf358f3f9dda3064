"""The text of a stored file, for search: plain text, CSV, HTML (tags stripped), PDF, Word.

Best effort: a file that cannot be read (a damaged PDF, an encrypted one) gives no text and no
error; it is still found by its title and name.
"""

from __future__ import annotations

import html
import io
import logging
import re

from django.utils.html import strip_tags

from rapport.core.files import DOCX

MAX_TEXT_CHARS = 100_000
logger = logging.getLogger(__name__)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _tidy(text: str) -> str:
    text = _BLANK_LINES.sub("\n", _SPACES.sub(" ", text.replace("\x00", "")))
    return text.strip()[:MAX_TEXT_CHARS]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts: list[str] = []
    length = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        length += len(text)
        if length >= MAX_TEXT_CHARS:  # enough for search: stop reading a 500-page manual
            break
    return "\n".join(parts)


def _docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def extract_text(data: bytes, content_type: str) -> str:
    """Up to MAX_TEXT_CHARS of the file's text; "" for types without text, or when reading fails."""
    try:
        if content_type == "text/plain":
            return _tidy(_decode(data[: MAX_TEXT_CHARS * 4]))
        if content_type == "text/html":
            return _tidy(html.unescape(strip_tags(_decode(data[: MAX_TEXT_CHARS * 8]))))
        if content_type == "application/pdf":
            return _tidy(_pdf_text(data))
        if content_type == DOCX:
            return _tidy(_docx_text(data))
    except Exception as exc:  # a damaged or encrypted file: found by its name only
        logger.info("No text from a %s file: %s", content_type, type(exc).__name__)
    return ""
