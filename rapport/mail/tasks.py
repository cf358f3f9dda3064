"""Background jobs of the mail app."""

from __future__ import annotations

from django_tasks import task

from rapport.mail.services import deliver_due


@task()
def deliver_mail() -> int:
    """Send what is due in the outbox (idempotent: each message is claimed before it is sent)."""
    return deliver_due()


@task()
def poll_mailbox() -> int:
    """Log the unseen mail of RAPPORT_IMAP_URL (nothing when it is empty); the number of copies stored.

    Idempotent: a message is marked seen only after it is stored, and stored once per owner; a run that
    finds another still polling does nothing (rapport.mail.imap)."""
    import imaplib
    import logging

    from django.conf import settings

    from rapport.mail.imap import ImapConfigError, poll_once

    if not settings.RAPPORT_IMAP_URL:
        return 0
    try:
        result = poll_once()
    except (ImapConfigError, imaplib.IMAP4.error, OSError) as exc:
        # The server is down or refuses the login: the next run tries again; say why in the log.
        logging.getLogger(__name__).warning("Polling RAPPORT_IMAP_URL failed: %s", exc)
        return 0
    return result.logged


def register_polling() -> None:
    """Have the scheduler poll the mailbox every minute, when there is one: without RAPPORT_IMAP_URL (read
    at start-up, as every setting) nothing is enqueued at all."""
    from django.conf import settings

    from rapport.core.scheduler import register_periodic

    if settings.RAPPORT_IMAP_URL:
        register_periodic("poll_mailbox", poll_mailbox, every_seconds=60)
