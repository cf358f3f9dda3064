"""Public ids: opaque, not sequential, safe in URLs; and secrets, which are not public ids.

A public id is 16 characters of lowercase base32 (80 bits). Its first 4 characters are the same for every id
made in the same hour: a hash of the hour keyed with SECRET_KEY. The other 12 are random (60 bits).

The shared start is for the unique indexes. Fully random ids put each new row on a random page of an index of
millions, so a bulk write (a sweep's 78,000 follow-up tasks, an import's 100,000 contacts) read and wrote back
about one page per row for each such index; ids that share their start go side by side, a few hundred pages
for the whole write (the figures: docs/performance.md). The start is a keyed hash, not the time: the ids of
successive hours are in no order, and within an hour they are random. What it gives away is that two ids were
made within the same hour, to someone who holds both (docs/decisions.md).

Two ids of one hour differ by chance in 60 bits: a million ids made in one hour repeat one with a chance of
about one in two million, and the unique index refuses it rather than storing it twice.

A secret (a link's token that is its only credential) is `new_secret`: 80 random bits, no shared start.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import time

from django.conf import settings

PUBLIC_ID_LENGTH = 16
SHARED_LENGTH = 4  # the characters every id of one hour shares
_RANDOM_LENGTH = PUBLIC_ID_LENGTH - SHARED_LENGTH  # 12 base32 characters: 60 bits
_RANDOM_BYTES_PER_PAIR = 15  # 120 bits: exactly 24 base32 characters, two ids' random parts


def new_public_id() -> str:
    """A new public id (module docstring)."""
    return new_public_ids(1)[0]


def new_public_ids(count: int) -> list[str]:
    """`count` new public ids at once: a bulk insert makes thousands, and one random read and one encoding
    for all of them costs a tenth of one each."""
    start = _hour_start(_hour(), settings.SECRET_KEY)
    pairs = (count + 1) // 2
    text = base64.b32encode(secrets.token_bytes(_RANDOM_BYTES_PER_PAIR * pairs)).decode("ascii").lower()
    return [start + text[at:at + _RANDOM_LENGTH] for at in range(0, _RANDOM_LENGTH * count, _RANDOM_LENGTH)]


def new_secret() -> str:
    """16 characters of lowercase base32, all 80 bits random: for a token that is a link's only credential
    (an unsubscribe link), which must not share a start with the tokens made beside it."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def _hour() -> int:
    """The hours since 1970: what the ids made now share."""
    return int(time.time() // 3600)


@functools.lru_cache(maxsize=8)
def _hour_start(hour: int, secret: str) -> str:
    """The 4 characters every id of this hour starts with: 20 bits of a hash of the hour, keyed with the
    secret so that nobody without it can tell an id's hour."""
    key = hashlib.sha256(secret.encode()).digest()
    digest = hashlib.blake2b(hour.to_bytes(8, "big"), key=key, digest_size=5).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:SHARED_LENGTH]
