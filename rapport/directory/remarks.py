"""Parsing `key=value` attributes out of free-text remarks.

"Met at the fair. stage=mature region=north budget=\"50 k\"" yields
{"stage": "mature", "region": "north", "budget": "50 k"}. Keys and values are
folded to lower case so that filters match however people typed them.
"""

from __future__ import annotations

import re

MAX_KEY = 50
MAX_VALUE = 200

# A URL in running text is matched (and skipped) whole, so "http://x.test/?a=b" yields no a=b;
# a URL as the value of a pair ("site=https://...") is kept, since the pair starts first.
_PAIR = re.compile(
    r"""(?P<url>[A-Za-z][A-Za-z0-9+.-]*://\S+|www\.\S+)"""
    r"""|(?<![\w.=-])(?P<key>[A-Za-z][\w.-]{0,49})=(?:"(?P<quoted>[^"]{0,200})"|(?P<bare>[^\s,;"]{1,200}))"""
)
# Punctuation after an unquoted value belongs to the sentence: "region=north." means north.
_TRAILING_PUNCTUATION = ".!?:)]}>'"


def parse_attributes(remarks: str) -> dict[str, str]:
    """The key=value pairs in a text; a key given twice keeps its last value."""
    found: dict[str, str] = {}
    for match in _PAIR.finditer(remarks or ""):
        if match.group("url"):
            continue
        key = match.group("key").lower()
        value = match.group("quoted")
        if value is None:
            value = match.group("bare").rstrip(_TRAILING_PUNCTUATION)
        value = " ".join(value.split()).lower()
        if value:
            found[key] = value[:MAX_VALUE]
    return found


def parse_attribute_filter(raw: str) -> tuple[str, str] | None:
    """`region:north` (or `region=north`) as a (key, value) pair; None if malformed."""
    for sep in (":", "="):
        if sep in raw:
            key, value = raw.split(sep, 1)
            key, value = key.strip().lower(), " ".join(value.split()).lower()
            if key and value and len(key) <= MAX_KEY and len(value) <= MAX_VALUE:
                return key, value
    return None


def _pair_spans(remarks: str, key: str) -> list[tuple[int, int]]:
    """Where the `key=value` pairs of a text stand, as parse_attributes reads them: links skipped,
    punctuation after a bare value left to the sentence."""
    spans = []
    for match in _PAIR.finditer(remarks):
        if match.group("url") or match.group("key").lower() != key:
            continue
        end = match.end()
        bare = match.group("bare")
        if bare is not None:
            end -= len(bare) - len(bare.rstrip(_TRAILING_PUNCTUATION))
        spans.append((match.start(), end))
    return spans


def set_attribute(remarks: str, key: str, value: str) -> str:
    """The remarks with `key=value` written in, in place of the key's pairs (or on a line of its own),
    and nothing else of the text touched. An empty value takes the key's pairs out."""
    remarks = remarks or ""
    spans = _pair_spans(remarks, key)
    pair = f"{key}={value}" if re.fullmatch(r"[^\s,;\"]+", value or "-") else f'{key}="{value}"'
    if not spans:
        if not value:
            return remarks
        return f"{remarks.rstrip()}\n{pair}" if remarks.strip() else pair
    parts: list[str] = []
    done = 0
    for index, (start, end) in enumerate(spans):
        if index == 0 and value:
            parts += [remarks[done:start], pair]
        else:  # the pair goes, with the space before it
            parts.append(remarks[done:start - 1 if start and remarks[start - 1] == " " else start])
        done = end
    parts.append(remarks[done:])
    return "".join(parts)
