"""Parsing `key=value` attributes out of free-text remarks.

"Met at the fair. stage=mature region=north budget=\"50 k\"" yields
{"stage": "mature", "region": "north", "budget": "50 k"}. Keys and values are
folded to lower case so that filters match however people typed them.
"""

from __future__ import annotations

import re

MAX_KEY = 50
MAX_VALUE = 200

_PAIR = re.compile(r"""(?<![\w.=-])([A-Za-z][\w.-]{0,49})=("([^"]{0,200})"|[^\s,;"]{1,200})""")


def parse_attributes(remarks: str) -> dict[str, str]:
    """The key=value pairs in a text; a key given twice keeps its last value."""
    found: dict[str, str] = {}
    for match in _PAIR.finditer(remarks or ""):
        key = match.group(1).lower()
        value = match.group(3) if match.group(3) is not None else match.group(2)
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
