"""Permission-matrix subjects and snapshot tables of logged email (rapport.mail).

RECORD_SUBJECTS: builders of a business record owned by `owner`, one per visibility (as in world.py);
OTHER_SUBJECTS: builders of anything else a URL names; SNAPSHOT: table name -> rows, for the check
that a denied write changes nothing.

The email subject is a pending message of `owner`'s with one attachment, from a sender no contact has
(so that making a contact of them meets no duplicate); the discarded one is what restoring acts on. Neither
is filed, so no email activity stands in the activity lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

MATRIX_SENDER = "matrix-sender@example.com"


def _email(personas: Personas, visibility: str, *, deleted: bool = False, status: str = "pending") -> Any:
    from django.utils import timezone

    from rapport.mail.models import EmailMessage
    from tests.factories import EmailAttachmentFactory, EmailMessageFactory

    email = EmailMessageFactory(
        owner=personas.owner, visibility=visibility, status=status, from_name="Matrix Sender",
        from_address=MATRIX_SENDER, subject=f"Subject email {status} {visibility}{' gone' if deleted else ''}")
    EmailAttachmentFactory(email=email, filename="matrix.txt")
    if deleted:
        EmailMessage.objects.filter(pk=email.pk).update(deleted_at=timezone.now())
    return EmailMessage.objects.get(pk=email.pk)


def _rows(model_label: str) -> Callable[[], Any]:
    def rows() -> Any:
        from django.apps import apps

        return apps.get_model(model_label).objects.order_by("pk").values()

    return rows


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {
    "email": _email,
    "deleted email": lambda p, v: _email(p, v, deleted=True),
    "discarded email": lambda p, v: _email(p, v, status="discarded"),
    "deleted discarded email": lambda p, v: _email(p, v, status="discarded", deleted=True),
}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {
    "emails": _rows("mail.EmailMessage"),
    "email_attachments": _rows("mail.EmailAttachment"),
}
