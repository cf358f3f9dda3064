"""Public ids: opaque, not sequential, safe in URLs."""

from __future__ import annotations

import base64
import secrets

PUBLIC_ID_LENGTH = 16


def new_public_id() -> str:
    """16 characters of lowercase base32: 80 random bits."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
