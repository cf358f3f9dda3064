"""Serial letters: one letter per recipient from a letter template, as one DOCX or PDF document.

Each recipient is the values dict of merge.merge_values (plus merge.ADDRESS_KEY, the postal
address as lines); each letter starts on a new page and carries the sender's name, the date, the
recipient's name, company and address, the template's subject line if it has one, the merged body
and the signature. Values are only ever inserted as text.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from rapport.templating.merge import ADDRESS_KEY, one_line, render

if TYPE_CHECKING:
    from rapport.templating.models import Template

# fontTools reports every font subset at INFO level; one letter run is not worth thousands of log lines.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# The most letters one document holds: beyond this, split the list.
MAX_LETTERS = 5000

# Characters XML 1.0 (DOCX) cannot hold and a PDF has no use for: control characters but tab and
# newline, lone surrogates, the two non-characters.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

# A Unicode TrueType font for PDF letters, first found wins; settings.RAPPORT_PDF_FONT overrides.
# Debian/Ubuntu: fonts-dejavu-core; Fedora: dejavu-sans-fonts; Arch: ttf-dejavu; Alpine: font-dejavu.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)
# Fonts for scripts DejaVu lacks (Chinese, Japanese, Korean), used where present.
FALLBACK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


class TooManyLetters(ValueError):
    """More recipients than one document may hold."""


class FontMissing(RuntimeError):
    """No Unicode font for PDF letters on this machine."""


@dataclass(frozen=True)
class Letter:
    sender: list[str]
    date: str
    recipient: list[str]
    subject: str
    body: str
    closing: list[str]


def clean(text: str) -> str:
    return _UNPRINTABLE.sub("", text or "")


def letter_parts(template: Template, values: Mapping[str, str]) -> Letter:
    """What one letter says, in the order it is printed."""
    sender = [line for line in (values.get("user.full_name", ""), values.get("user.email", "")) if line]
    recipient = [values.get("contact.full_name", ""), values.get("account.name", "")]
    recipient += (values.get(ADDRESS_KEY, "") or "").splitlines()
    body = render(template.body, values)
    closing: list[str] = []
    if "user.signature" not in _names_used(template.body):
        signature = values.get("user.signature", "") or values.get("user.full_name", "")
        closing = signature.splitlines()
    return Letter(
        sender=[clean(line) for line in sender],
        date=clean(values.get("today", "")),
        recipient=[clean(line) for line in recipient if line and line.strip()],
        subject=clean(one_line(render(template.subject, values))),
        body=clean(body).replace("\r\n", "\n").replace("\r", "\n"),
        closing=[clean(line) for line in closing],
    )


def _names_used(text: str) -> set[str]:
    from rapport.templating.merge import _PLACEHOLDER

    return {match.group(1) for match in _PLACEHOLDER.finditer(text or "")}


def _limit(recipients: Sequence[Mapping[str, str]]) -> None:
    if len(recipients) > MAX_LETTERS:
        raise TooManyLetters(
            _("One document holds at most %(max)s letters; this one would have %(count)s. "
              "Split the list and make several documents.") % {"max": MAX_LETTERS, "count": len(recipients)}
        )


def letters_docx(template: Template, recipients: Sequence[Mapping[str, str]]) -> bytes:
    """One DOCX with a letter per recipient, each in its own section starting on a new page."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    _limit(recipients)
    document = Document()
    # A4 with the PDF's margins; each letter's section copies the one before it.
    first = document.sections[0]
    first.page_width, first.page_height = Mm(210), Mm(297)
    first.left_margin, first.right_margin, first.top_margin, first.bottom_margin = Mm(25), Mm(20), Mm(20), Mm(20)
    normal = document.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(0)
    document.core_properties.title = clean(template.name)
    for index, values in enumerate(recipients):
        if index:
            document.add_section(WD_SECTION.NEW_PAGE)
        letter = letter_parts(template, values)
        for line in letter.sender:
            document.add_paragraph(line)
        document.add_paragraph()
        for line in letter.recipient:
            document.add_paragraph(line)
        document.add_paragraph()
        document.add_paragraph(letter.date).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        document.add_paragraph()
        if letter.subject:
            document.add_paragraph().add_run(letter.subject).bold = True
            document.add_paragraph()
        for line in letter.body.split("\n"):
            document.add_paragraph(line)
        if letter.closing:
            document.add_paragraph()
            for line in letter.closing:
                document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@functools.cache
def _font_paths() -> tuple[str | None, str | None, tuple[str, ...]]:
    """(regular, bold, fallbacks): the first candidate fonts that exist."""
    configured = getattr(settings, "RAPPORT_PDF_FONT", "") or ""
    regular = next((path for path in (configured, *FONT_CANDIDATES) if path and Path(path).is_file()), None)
    bold = None
    if regular is not None:
        candidate = Path(regular).with_name(Path(regular).stem + "-Bold" + Path(regular).suffix)
        bold = str(candidate) if candidate.is_file() else None
    fallbacks = tuple(path for path in FALLBACK_FONT_CANDIDATES if Path(path).is_file())
    return regular, bold, fallbacks


@functools.cache
def _shaping_available() -> bool:
    """Whether HarfBuzz (uharfbuzz) is installed: it joins Arabic letters and orders right-to-left text."""
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


def _complex(ch: str) -> bool:
    """A character that is written right to left, or whose letters join or reorder (Indic scripts)."""
    return unicodedata.bidirectional(ch) in ("R", "AL") or "\u0900" <= ch <= "\u0dff"


def _needs_shaping(template: Template, recipients: Sequence[Mapping[str, str]]) -> bool:
    """Whether any text of the document needs HarfBuzz. Shaping costs about twice the time, so a
    document in Latin, Greek or Cyrillic letters goes without it."""
    texts = [template.subject, template.body, *(value for values in recipients for value in values.values())]
    return any(_complex(ch) for text in texts if text and not text.isascii() for ch in text)


def pdf_font_available() -> bool:
    return _font_paths()[0] is not None


def letters_pdf(template: Template, recipients: Sequence[Mapping[str, str]]) -> bytes:
    """One PDF with a letter per recipient, each starting on a new page, in a Unicode font."""
    from fpdf import FPDF

    _limit(recipients)
    regular, bold, fallbacks = _font_paths()
    if regular is None:
        raise FontMissing(
            _("PDF letters need a Unicode font, and none was found on the server (install the package "
              "fonts-dejavu-core, or set RAPPORT_PDF_FONT to a .ttf file). DOCX letters work without it.")
        )
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(clean(template.name))
    pdf.set_creator("Rapport")
    pdf.set_margins(25, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("Letter", "", regular)
    pdf.add_font("Letter", "B", bold or regular)
    fallback_names = []
    for number, path in enumerate(fallbacks):
        name = f"Fallback{number}"
        pdf.add_font(name, "", path)
        pdf.add_font(name, "B", path)
        fallback_names.append(name)
    if fallback_names:
        pdf.set_fallback_fonts(fallback_names, exact_match=False)
    if _shaping_available() and _needs_shaping(template, recipients):
        pdf.set_text_shaping(True)
    line_height = 5.5
    width = pdf.epw

    def lines(texts: Sequence[str], *, align: str = "L") -> None:
        for text in texts:
            pdf.multi_cell(width, line_height, text, align=align, new_x="LMARGIN", new_y="NEXT")

    for values in recipients:
        letter = letter_parts(template, values)
        pdf.add_page()
        pdf.set_font("Letter", "", 9)
        lines(letter.sender)
        pdf.ln(line_height * 2)
        pdf.set_font("Letter", "", 11)
        lines(letter.recipient)
        pdf.ln(line_height * 2)
        lines([letter.date], align="R")
        pdf.ln(line_height)
        if letter.subject:
            pdf.set_font("Letter", "B", 11)
            lines([letter.subject])
            pdf.set_font("Letter", "", 11)
            pdf.ln(line_height)
        lines(letter.body.split("\n"))
        if letter.closing:
            pdf.ln(line_height)
            lines(letter.closing)
    return bytes(pdf.output())
