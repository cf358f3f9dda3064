"""Background jobs of the mail app."""

from __future__ import annotations

from django_tasks import task

from rapport.mail.services import deliver_due


@task()
def deliver_mail() -> int:
    """Send what is due in the outbox (idempotent: each message is claimed before it is sent)."""
    return deliver_due()
