"""Permission-matrix subjects and snapshot tables of the sync app (see world_emails.py for the form).

The app passwords are personal: the subject "owner's app password" is one of owner's, which only owner
may revoke. The change log of synced collections is in the snapshot, so a page that should change
nothing is seen to change nothing there either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas


def _owners_app_password(personas: Personas) -> Any:
    from rapport.sync.services import app_password_create

    return app_password_create(user=personas.owner, device="Owner's phone").app_password


def _app_passwords() -> Any:
    from rapport.sync.models import AppPassword

    return AppPassword.objects.order_by("pk").values("pk", "user_id", "device", "key_hash", "revoked_at")


def _collections() -> Any:
    from rapport.sync.models import SyncCollection

    return SyncCollection.objects.order_by("pk").values("pk", "user_id", "name", "seq", "props")


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {"owner's app password": _owners_app_password}
SNAPSHOT: dict[str, Callable[[], Any]] = {"app_passwords": _app_passwords, "sync_collections": _collections}
