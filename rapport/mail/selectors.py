"""Reads of the mail app: logging addresses and logged email, always through visible_to."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from rapport.core.models import User
from rapport.mail.models import EmailMessage, EmailStatus, LoggingAddress

LOGGING_PREFIX = "log-"
_KEY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o or 1/l: people read these aloud


def _new_key() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(12))


def logging_address(user: Any) -> str:
    """The user's personal logging address; made on first use."""
    entry = LoggingAddress.objects.filter(user_id=user.pk).first()
    while entry is None:
        try:
            with transaction.atomic():
                entry = LoggingAddress.objects.create(user_id=user.pk, key=_new_key())
        except IntegrityError:  # another request made it meanwhile (or, rarely, the key was taken)
            entry = LoggingAddress.objects.filter(user_id=user.pk).first()
    return f"{LOGGING_PREFIX}{entry.key}@{settings.RAPPORT_MAIL_DOMAIN}"


def user_for_logging_address(address: str) -> User | None:
    """The active user a logging address belongs to, or None (any domain is accepted: a relay may
    rewrite it; the random key is what identifies the user)."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    if not local.startswith(LOGGING_PREFIX):
        return None
    entry = (LoggingAddress.objects.select_related("user")
             .filter(key=local.removeprefix(LOGGING_PREFIX), user__is_active=True).first())
    return entry.user if entry else None


def pending_email_count(user: Any) -> int:
    """How many of the user's logged messages wait to be filed (the badge on the Email menu entry)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return EmailMessage.objects.filter(owner_id=user.pk, status=EmailStatus.PENDING, deleted_at__isnull=True).count()
