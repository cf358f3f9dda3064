"""Writes of the sync app: app passwords for calendar and contact clients."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.models import User
from rapport.sync.models import AppPassword

DEVICE_MAX = AppPassword._meta.get_field("device").max_length or 100
# Four groups of five from an alphabet without look-alikes (no 0/o, 1/l/i): typed on a phone without
# doubt, and 20 characters of 31 symbols are 99 bits, beyond guessing over HTTP.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 4, 5


@dataclass(frozen=True)
class NewAppPassword:
    app_password: AppPassword
    plaintext: str  # shown to the user once, never stored


def _hash(plaintext: str) -> str:
    # The hyphens are for reading; a client that drops them (or types capitals) still signs in.
    normal = plaintext.replace("-", "").replace(" ", "").strip().lower()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def app_password_create(*, user: User, device: str) -> NewAppPassword:
    """A new app password for one device of the user; its plaintext is returned once and only its hash kept."""
    device = " ".join((device or "").split())
    if not device:
        raise ValidationError({"device": [_("Name the device, such as “Work laptop, Outlook” or “Phone”.")]})
    if len(device) > DEVICE_MAX:
        raise ValidationError({"device": [_("At most %(count)d characters.") % {"count": DEVICE_MAX}]})
    if not user.is_active:
        raise ValidationError({"user": [_("This user is deactivated.")]})
    plaintext = "-".join("".join(secrets.choice(ALPHABET) for _i in range(GROUP_LENGTH)) for _g in range(GROUPS))
    app_password = AppPassword.objects.create(user=user, device=device, key_hash=_hash(plaintext))
    return NewAppPassword(app_password=app_password, plaintext=plaintext)


@transaction.atomic
def app_password_revoke(*, user: User, app_password_id: int) -> AppPassword:
    """Revoke one of the user's app passwords: the device it was given to can no longer sync.

    Revoking one that is already revoked changes nothing.
    """
    app_password = AppPassword.objects.select_for_update().filter(user=user, pk=app_password_id).first()
    if app_password is None:
        raise ValidationError({"app_password": [_("No such app password.")]})
    if app_password.revoked_at is None:
        app_password.revoked_at = timezone.now()
        app_password.save(update_fields=["revoked_at"])
    return app_password


def app_password_authenticate(*, username: str, password: str) -> User | None:
    """The active user whose app password this is, or None (wrong, revoked, or another user's)."""
    if not username or not password:
        return None
    found = (AppPassword.objects.select_related("user")
             .filter(key_hash=_hash(password), revoked_at__isnull=True, user__username=username).first())
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute: clients sync every few minutes with many requests each.
    if found.last_used_at is None or now - found.last_used_at > dt.timedelta(minutes=1):
        AppPassword.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user
