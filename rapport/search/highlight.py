"""Where a result's text matches the query: character spans on the text as shown, and safe HTML.

The match is decided on folded words (so "muller" marks the "Mül" of "Müller"), the spans are on the
original text, and the HTML escapes everything and adds only <mark>.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from rapport.core.text import fold
from rapport.search.text import Term

_WORD = re.compile(r"[^\W_]+")
SNIPPET_BEFORE = 50
SNIPPET_LENGTH = 170


def _matched_length(word: str, terms: Sequence[Term]) -> int:
    """How many characters at the start of a word the query matches (0: none)."""
    folded = fold(word)
    best = 0
    for term in terms:
        if folded in term.corrections or folded == term.text:
            return len(word)
        if folded.startswith(term.text):
            length = next((i for i in range(1, len(word) + 1) if len(fold(word[:i])) >= len(term.text)), len(word))
            best = max(best, length)
    return best


def spans(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """The [start, end) spans of `text` the query matches."""
    found = []
    for match in _WORD.finditer(text or ""):
        length = _matched_length(match.group(), terms)
        if length:
            found.append((match.start(), match.start() + length))
    return found


def marked(text: str, found: Sequence[tuple[int, int]]) -> SafeString:
    """The text, escaped, with <mark> around the spans."""
    parts: list[str] = []
    at = 0
    for start, end in found:
        parts.append(escape(text[at:start]))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    parts.append(escape(text[at:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above


def snippet(text: str, terms: Sequence[Term]) -> str:
    """A short stretch of a long text around its first match (empty if nothing in it matches)."""
    text = " ".join((text or "").split())
    found = spans(text, terms)
    if not found:
        return ""
    start = max(0, found[0][0] - SNIPPET_BEFORE)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < found[0][0] else start
    end = min(len(text), start + SNIPPET_LENGTH)
    if end < len(text):
        space = text.rfind(" ", found[0][1], end)
        end = space if space > 0 else end
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
