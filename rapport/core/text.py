"""Text normalisation shared by sorting, prefix search and duplicate detection."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def fold(value: str) -> str:
    """Lower-case, accent-free form of a text, for sorting and prefix matching.

    "Émile Zoë" and "emile zoe" fold to the same key; non-Latin scripts keep
    their letters (only combining marks are dropped).
    """
    value = value or ""
    if not value.isascii():  # ASCII has nothing to decompose (most names, every email), and this loop is the cost
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(value.casefold().split())


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with prefix (for index range scans)."""
    return prefix + "\U0010ffff"


def website_domain(url: str) -> str:
    """The bare host of a website, for duplicate detection: https://www.Example.com/x -> example.com."""
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = "http://" + url
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL at all ("http://[::1"): validation will say so, naming the field
        return ""
    return host[4:] if host.startswith("www.") else host


def int_or_none(value: str | None) -> int | None:
    """A whole number posted by a form (a record's version, say), or None when absent or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
