"""Public ids: opaque, not sequential, safe in URLs."""

from __future__ import annotations

import base64
import secrets

PUBLIC_ID_LENGTH = 16


def new_public_id() -> str:
    """16 characters of lowercase base32: 80 random bits."""
    return new_public_ids(1)[0]


def new_public_ids(count: int) -> list[str]:
    """`count` new public ids at once: a bulk insert makes thousands, and one random read and one encoding
    for all of them costs a tenth of one each (10 random bytes are exactly 16 base32 characters)."""
    text = base64.b32encode(secrets.token_bytes(10 * count)).decode("ascii").lower()
    return [text[start:start + PUBLIC_ID_LENGTH] for start in range(0, PUBLIC_ID_LENGTH * count, PUBLIC_ID_LENGTH)]
