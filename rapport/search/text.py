"""Words as the index stores them, queries as a user types them, and the one-edit typo check.

Both sides of a search go through `words()`: folded (rapport.core.text.fold: lower case, accents off,
non-Latin letters kept) and cut at anything that is not a letter or digit. So "Müller-Lüdenscheidt,
GmbH" is stored as "muller ludenscheidt gmbh", and a query can hold no operator of either database:
quotes, brackets, stars, colons, AND/OR/NEAR are punctuation or plain words here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rapport.core.text import fold

_WORD = re.compile(r"[^\W_]+")
# key=value or key="several words"; a key as remarks write them (rapport.directory.remarks).
_ATTRIBUTE = re.compile(r'(?<!\S)(?P<key>[^\W\d_][\w.-]{0,49})=(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')

MAX_QUERY = 200  # characters
MAX_WORDS = 8
MAX_ATTRIBUTES = 5
MAX_INDEXED_TEXT = 20_000  # characters of a record's text that go into the index
# Typo tolerance: words of at least this many letters, as long as the dictionary keeps.
TYPO_MIN = 4
TYPO_MAX = 40


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


def index_text(*parts: str, limit: int = MAX_INDEXED_TEXT) -> str:
    """The indexed form of some texts: their folded words joined by single spaces."""
    return _folded_words(" ".join(part for part in parts if part)[:limit])


# Remembered: a bulk write indexes the same text over and over (a rule sweep's tasks share one message).
@functools.lru_cache(maxsize=64)
def _folded_words(text: str) -> str:
    return " ".join(words(text))


def typo_word(word: str) -> bool:
    """Whether a word takes part in typo tolerance: long enough, letters only (no numbers, no codes)."""
    return TYPO_MIN <= len(word) <= TYPO_MAX and word.isalpha()


def deletions(word: str) -> set[str]:
    """The word with each one of its letters left out."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def variants(word: str) -> set[str]:
    """What the typo dictionary files a word under: itself and its one-letter deletions."""
    return {word} | deletions(word)


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), cut off above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass
class Term:
    """One word of a query: matched as the start of an indexed word, or as a word one edit away."""

    text: str
    corrections: list[str] = field(default_factory=list)


@dataclass
class ParsedQuery:
    terms: list[Term]
    attributes: list[tuple[str, str]]
    dropped_words: int = 0

    @property
    def empty(self) -> bool:
        return not self.terms and not self.attributes


def parse_query(raw: str | None) -> ParsedQuery:
    """A query as typed: `stage=mature region=north dental` → attribute terms and words.

    Refuses (ValidationError naming `q`) only a query too long to be one; anything else is read as
    text, operators included, and may simply come out empty.
    """
    raw = raw or ""
    if len(raw) > MAX_QUERY:
        raise ValidationError({"q": [_("Search for at most %(limit)d characters (this is %(length)d).")
                                     % {"limit": MAX_QUERY, "length": len(raw)}]})
    if "\x00" in raw:
        raise ValidationError({"q": [_("A NUL character is not allowed.")]})
    attributes: list[tuple[str, str]] = []

    def take(match: re.Match[str]) -> str:
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        value = " ".join(value.strip('"').split()).lower()
        if value and len(attributes) < MAX_ATTRIBUTES:
            pair = (match.group("key").lower(), value[:200])
            if pair not in attributes:
                attributes.append(pair)
        return " "

    rest = _ATTRIBUTE.sub(take, raw)
    found: list[str] = []
    for word in words(rest):
        if word not in found:
            found.append(word)
    return ParsedQuery(terms=[Term(text=w[:TYPO_MAX * 2]) for w in found[:MAX_WORDS]], attributes=attributes,
                       dropped_words=max(0, len(found) - MAX_WORDS))
