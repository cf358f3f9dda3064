"""The names (hrefs) calendar and address-book items go by inside a collection."""

from __future__ import annotations

import hashlib
from typing import Any

# Characters a name keeps as they are; a UID with anything else (a "/", spaces) is named by its hash.
SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+=")


def default_href(uid: str, extension: str) -> str:
    """The name Rapport gives an item it created: its UID, or the UID's hash where the UID is unsafe in a path."""
    if uid and len(uid) <= 200 and set(uid) <= SAFE and not uid.startswith("."):
        return f"{uid}.{extension}"
    return f"{hashlib.sha256(uid.encode('utf-8')).hexdigest()[:40]}.{extension}"


def item_href(uid: str, dav_name: str, extension: str) -> str:
    """The name a record is listed under: the one a client stored it under, else the default."""
    return dav_name or default_href(uid, extension)


def dav_name_for(uid: str, href: str, extension: str) -> str:
    """What to store in a record's `dav_name` for a client's href: nothing when it is the default."""
    return "" if href == default_href(uid, extension) else href


def release_deleted_uid(model: Any, uid: str) -> None:
    """Give a deleted record's UID up, so that a client may create an item with it again.

    Clients delete and re-create items (an undo, an event moved to another calendar and back); the
    deleted record keeps its history, under a UID that says what happened to it.
    """
    for pk in model._default_manager.filter(uid=uid, deleted_at__isnull=False).values_list("pk", flat=True):
        limit = model._meta.get_field("uid").max_length
        suffix = f"~deleted-{pk}"
        model._default_manager.filter(pk=pk).update(uid=uid[: limit - len(suffix)] + suffix)
