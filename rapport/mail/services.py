"""Queueing and delivering email through the outbox.

`queue_email` writes the message in the caller's transaction, so a change and the mail it causes
are stored together or not at all. `deliver_due` (run by the worker, and every minute by the
scheduler) claims each due message with a conditional UPDATE, sends it, and marks it sent; an SMTP
error puts it back with a later attempt time. A worker killed between sending and marking leaves a
claim that expires after CLAIM_TIMEOUT; the message is then sent again with the same Message-ID,
the one case where a receiver may see it twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities.models import ActivityAssignee, ActivityKind, ActivityStatus, ActivityType
from rapport.activities.selectors import default_task_kind
from rapport.activities.services import activity_create, activity_update
from rapport.core.access import access_for, require
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.models import Action
from rapport.core.records import record_update
from rapport.directory.models import Account
from rapport.mail.models import EmailMessage, EmailStatus, OutboxMessage, OutboxStatus, PendingReason
from rapport.mail.selectors import FILE_TYPES

logger = logging.getLogger(__name__)

# Seconds to wait after the n-th failed attempt; after the last one the message is marked failed.
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
BATCH = 100


def _message_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else "rapport.localhost"


def outbox_message(
    *, to: Sequence[str], subject: str, body: str, html_body: str = "", kind: str = "",
    headers: dict[str, str] | None = None, from_email: str | None = None,
) -> OutboxMessage:
    """A message checked and ready for the outbox, not yet saved: hand one or many to queue_emails."""
    recipients = [address.strip() for address in to if address and address.strip()]
    if not recipients:
        raise ValidationError({"to": [_("The message has no recipient with an email address.")]})
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"to": [_("%s is not an email address.") % address]}) from None
    return OutboxMessage(
        kind=kind, from_email=from_email or settings.DEFAULT_FROM_EMAIL, to=recipients,
        subject=" ".join(subject.split())[:300], body=body, html_body=html_body, headers=headers or {},
        message_id=make_msgid(domain=_message_domain()), next_attempt_at=timezone.now(),
    )


def queue_emails(messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """Put messages made by outbox_message in the outbox in one insert (a campaign's slice); they are
    sent after the surrounding transaction commits. The saved messages carry their ids."""
    saved = OutboxMessage.objects.bulk_create(messages, batch_size=500)
    if saved:
        _wake_worker_on_commit()
    return saved


def queue_email(
    *, to: Sequence[str], subject: str, body: str, html_body: str = "", kind: str = "",
    headers: dict[str, str] | None = None, from_email: str | None = None,
) -> OutboxMessage:
    """Put a message in the outbox; it is sent after the surrounding transaction commits."""
    return queue_emails([outbox_message(to=to, subject=subject, body=body, html_body=html_body, kind=kind,
                                        headers=headers, from_email=from_email)])[0]


def _wake_worker_on_commit() -> None:
    """Once per transaction: a campaign slice queues a thousand messages, and one delivery job sends them all."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _wake_worker for _ids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_wake_worker)


def _wake_worker() -> None:
    from rapport.mail.tasks import deliver_mail

    try:
        deliver_mail.enqueue()
    except Exception:  # the scheduler's next tick delivers it anyway
        logger.exception("Could not queue the mail delivery job")


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Take a due message; the claim is stamped with the clock, not the batch's start, so that a long
    batch never makes claims that are stale (and taken by another worker) the moment they are made."""
    due = Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    return bool(OutboxMessage.objects.filter(due, pk=message_id).update(
        status=OutboxStatus.SENDING, claimed_at=max(now, timezone.now()), attempts=F("attempts") + 1))


def _email(message: OutboxMessage, connection: Any) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body, from_email=message.from_email, to=message.to,
        headers={**message.headers, "Message-ID": message.message_id}, connection=connection,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    return email


def _record_failure(message: OutboxMessage, error: Exception, now: dt.datetime) -> None:
    attempts = message.attempts
    failed = attempts >= MAX_ATTEMPTS
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1] if attempts else RETRY_DELAYS[0]
    # Only while the claim is still ours: a worker that overran CLAIM_TIMEOUT must not undo another's send.
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING, claimed_at=message.claimed_at).update(
        status=OutboxStatus.FAILED if failed else OutboxStatus.QUEUED,
        next_attempt_at=now + dt.timedelta(seconds=delay), claimed_at=None,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )
    logger.warning("Mail %s to %s failed (attempt %d): %s", message.message_id, message.to, attempts, error)


def deliver_due(*, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Send the messages that are due; the number sent. Safe to run in several workers at once."""
    now = now or timezone.now()
    due = (Q(status=OutboxStatus.QUEUED, next_attempt_at__lte=now)
           | Q(status=OutboxStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT))
    candidates = list(OutboxMessage.objects.filter(due).order_by("next_attempt_at", "id")
                      .values_list("pk", flat=True)[:limit])
    sent = 0
    connection = None
    try:
        for pk in candidates:
            if not _claim(pk, now):
                continue  # another worker took it
            message = OutboxMessage.objects.get(pk=pk)
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                _email(message, connection).send()
            except Exception as exc:  # any SMTP or network error: retry later
                _record_failure(message, exc, now)
                _close(connection)
                connection = None
                if _unreachable(exc):
                    # The server is unreachable: the rest of the batch waits for the next run instead
                    # of each waiting out the timeout and losing an attempt.
                    break
                continue
            OutboxMessage.objects.filter(pk=pk, claimed_at=message.claimed_at).update(
                status=OutboxStatus.SENT, sent_at=timezone.now(), claimed_at=None, last_error="")
            sent += 1
    finally:
        _close(connection)
    return sent


def _unreachable(exc: Exception) -> bool:
    """A connection failure (refused, timed out, hung up), not one message's refusal (SMTP errors
    are OSErrors too)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
            connection.close()


def outbox_retry(*, actor: Any, message: OutboxMessage) -> OutboxMessage:
    """Send a queued or failed message again now, with a fresh series of attempts (administrators).

    A sent message, or one a worker is sending right now, is left alone.
    """
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("Only administrators manage the outbox."))
    now = timezone.now()
    retryable = Q(status__in=(OutboxStatus.QUEUED, OutboxStatus.FAILED)) | Q(
        status=OutboxStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    with transaction.atomic():
        changed = OutboxMessage.objects.filter(retryable, pk=message.pk).update(
            status=OutboxStatus.QUEUED, next_attempt_at=now, claimed_at=None, attempts=0)
        if not changed:
            message.refresh_from_db()
            if message.status == OutboxStatus.SENT:
                raise ValidationError({"status": [_("This message was sent already.")]})
            raise ValidationError({"status": [_("This message is being sent right now.")]})
        transaction.on_commit(_wake_worker)
    message.refresh_from_db()
    return message


# --- Logged email ----------------------------------------------------------------------------------

EMAIL_KIND_KEY = "email"


def _email_activity_data(email: EmailMessage) -> dict[str, Any]:
    at = email.sent_at or email.received_at
    return {
        "owner": email.owner, "visibility": email.visibility, "activity_type": ActivityType.EVENT,
        "kind": ActivityKind.objects.filter(key=EMAIL_KIND_KEY).first() or default_task_kind(),
        "subject": (email.subject or _("(no subject)"))[:200], "description": email.text_body[:20000],
        "starts_at": at, "ends_at": at, "status": ActivityStatus.COMPLETED,
    }


def _with_accounts(actor: Any, records: Sequence[Any]) -> list[Any]:
    """The records, and the account of each contact among them that the actor may see (a message to a
    person concerns their company): one query, whatever the number of contacts."""
    regarding = list(records)
    have = {record.pk for record in regarding if record.record_type == "account"}
    wanted = {record.account_id for record in regarding
              if record.record_type == "contact" and record.account_id and record.account_id not in have}
    if wanted:
        regarding += list(Account.objects.visible_to(actor).filter(pk__in=wanted).order_by("name_key", "id"))
    return regarding


def _filing_records(records: Sequence[Any]) -> list[Any]:
    """The records named once each, refusing a type a message is not filed to."""
    if not records:
        raise ValidationError({"records": [_("Choose at least one record to file the message to.")]})
    chosen: dict[tuple[str, int], Any] = {}
    for record in records:
        if record.record_type not in FILE_TYPES:
            raise ValidationError({"records": [_("A message is filed to contacts, accounts, opportunities and "
                                                 "support items, not to a %s.") % record.record_type]})
        chosen.setdefault((record.record_type, record.pk), record)
    return list(chosen.values())


def _current(email: EmailMessage, version: int | None) -> int:
    """The version a write checks: the one the caller read, else the one loaded (intake, jobs)."""
    if version is not None and version != email.version:
        raise StaleVersion(current_version=email.version)
    return email.version


@transaction.atomic
def email_file(*, actor: Any, email: EmailMessage, records: Sequence[Any], version: int | None = None) -> EmailMessage:
    """File a logged message against records (contacts, accounts, opportunities, support items) that
    the caller found through the actor's visible_to. Its email activity — made on first filing, owned
    by the message's owner with the message's visibility — regards them and each contact's account,
    so the message shows on their pages. Filing again replaces the records it is filed against; a
    discarded message filed is filed. `version`, when given, must be the message's (409 otherwise)."""
    records = _filing_records(records)
    require(actor, EmailMessage.record_type, Action.UPDATE, owner_id=email.owner_id)
    current = _current(email, version)
    regarding = _with_accounts(actor, records)
    activity = email.activity if email.activity_id is not None else None
    if activity is not None:
        activity.refresh_from_db()
    if activity is None or activity.deleted_at is not None:
        activity = activity_create(actor=actor, data=_email_activity_data(email), regarding=regarding)
        # Logged mail is history, not an appointment: on the records' timelines, on nobody's calendar.
        ActivityAssignee.objects.filter(activity=activity).delete()
    else:
        activity = activity_update(actor=actor, activity=activity, data={}, version=activity.version,
                                   regarding=regarding)
    return record_update(email, actor=actor, version=current, data={
        "status": EmailStatus.FILED, "pending_reason": "", "activity": activity})


@transaction.atomic
def email_discard(*, actor: Any, email: EmailMessage, version: int | None = None) -> EmailMessage:
    """Put a pending message aside: it leaves the pending list and stays findable (status discarded),
    to be restored or filed later. A filed message is filed elsewhere instead (409)."""
    require(actor, EmailMessage.record_type, Action.UPDATE, owner_id=email.owner_id)
    current = _current(email, version)
    if email.status != EmailStatus.PENDING:
        raise Conflict(_("Only a pending message can be discarded; this one is %s.") % email.get_status_display())
    return record_update(email, actor=actor, version=current, data={"status": EmailStatus.DISCARDED})


@transaction.atomic
def email_restore(*, actor: Any, email: EmailMessage, version: int | None = None) -> EmailMessage:
    """Bring a discarded message back to the pending list."""
    require(actor, EmailMessage.record_type, Action.UPDATE, owner_id=email.owner_id)
    current = _current(email, version)
    if email.status != EmailStatus.DISCARDED:
        raise Conflict(_("Only a discarded message can be restored; this one is %s.") % email.get_status_display())
    return record_update(email, actor=actor, version=current, data={
        "status": EmailStatus.PENDING, "pending_reason": email.pending_reason or PendingReason.NO_MATCH})


@transaction.atomic
def email_create_contact(
    *, actor: Any, email: EmailMessage, data: dict[str, Any], confirm_duplicate: bool = False,
    version: int | None = None,
) -> tuple[EmailMessage, Any]:
    """Make a contact of the message's sender and file the message to them (and their account).

    `data` holds the contact's fields (first_name, last_name, email, account — found through the actor's
    visible_to); what it leaves out comes from the sender (see selectors.contact_defaults). A contact with
    the same address stops it (PossibleDuplicate) unless confirmed: file the message to that one instead.
    """
    from rapport.directory.services import contact_create
    from rapport.mail.selectors import contact_defaults

    require(actor, EmailMessage.record_type, Action.UPDATE, owner_id=email.owner_id)
    _current(email, version)
    fields = {**contact_defaults(email), **{name: value for name, value in data.items() if value is not None}}
    unknown = sorted(set(fields) - {"first_name", "last_name", "email", "account"})
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
    contact = contact_create(actor=actor, data=fields, confirm_duplicate=confirm_duplicate)
    return email_file(actor=actor, email=email, records=[contact], version=version), contact
