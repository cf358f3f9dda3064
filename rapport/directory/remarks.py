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


def _pair_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"""(?<![\w.=-]){re.escape(key)}=(?:"[^"]{{0,200}}"|[^\s,;"]{{1,200}})""", re.IGNORECASE)


def set_attribute(remarks: str, key: str, value: str) -> str:
    """The remarks with `key=value` written in: in place of the key's pairs, or added on a line of its own.
    An empty value takes the key's pairs out."""
    pattern = _pair_pattern(key)
    remarks = remarks or ""
    if not value:
        cleaned = pattern.sub("", remarks)
        return "\n".join(" ".join(line.split()) for line in cleaned.splitlines()).strip()
    pair = f"{key}={value}" if re.fullmatch(r"[^\s,;\"]+", value) else f'{key}="{value}"'
    if pattern.search(remarks):
        first = True

        def replace(_match: re.Match[str]) -> str:
            nonlocal first
            keep, first = first, False
            return pair if keep else ""

        return pattern.sub(replace, remarks)
    return f"{remarks.rstrip()}\n{pair}" if remarks.strip() else pair
