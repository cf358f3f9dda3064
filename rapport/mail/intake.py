"""Inbound mail: what one received message becomes (docs/mail.md, "Logging email").

`log_message(raw, recipients=…, source=…)` is the one entry point, used by the SMTP listener, the
IMAP poller and anything else that receives mail. It decides, stores and links; the transports only
move bytes. In order:

1. The message is parsed (rapport.mail.parsing: never fails, problems become warnings).
2. Campaigns see it first (`campaign_feedback`): a reply marks a campaign recipient replied and is
   logged as usual; a bounce of a campaign message is consumed there and not logged. Only a real
   delivery report is a bounce (see `delivery_report`): a delivery-status report or a mail daemon's
   failure notice, with a null or mail-daemon envelope sender, never mail to the support address.
3. Routing: each envelope recipient that is the logging address of a user who may change logged
   email gives a copy owned by that user; the support address opens or adds to a support item
   (once per message) and gives a copy owned by the item's owner, filed to the item. A polled
   message with neither belongs to the user whose address sent it (their own sent mail), else to
   the first active administrator: it is never lost.
4. Storing, once per owner: the raw source as a file, what was parsed, the attachments as files.
   The same message again (same Message-ID, or the same bytes when it has none) is not stored twice.
5. Linking: the message's addresses (From, To, Cc; less the owner's own, the logging and support
   addresses) are looked up among the contacts and accounts the owner may see. When everything that
   matched belongs to one company — one or more contacts of the same account, that account itself,
   or one contact without an account — the message is filed to those records and shows on their
   pages; when the matches belong to several companies it waits as pending ("several"); when
   nothing matched, as pending ("no_match").

Everything for one message happens in one transaction; files written for a message whose
transaction fails are deleted again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from rapport.core.history import display_value, history_record
from rapport.core.models import HistoryEntry, User, Visibility
from rapport.core.registry import record_event
from rapport.mail.models import (
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailSource,
    EmailStatus,
    PendingReason,
)
from rapport.mail.parsing import Bounce, ParsedMessage, clean_address, fold_id, is_daemon, parse_message
from rapport.mail.selectors import LOGGING_PREFIX, may_log, user_for_logging_address

logger = logging.getLogger(__name__)

# Logged email is shared with the owner's team (and their managers), as a CRM's record of what was
# said to a customer should be.
LOGGED_VISIBILITY = Visibility.TEAM
# At most this many matching contacts (or accounts) are considered; more means "several" anyway.
MATCH_LIMIT = 50
# The first this many addresses of a message are looked up (a message to a crowd matches "several" anyway).
MATCH_ADDRESSES = 200
# At most this many ids of In-Reply-To and References are looked up for a thread.
THREAD_PARENTS = 50


@dataclass
class IntakeResult:
    """What became of one message: the copies stored (or found stored already) per owner."""

    emails: list[EmailMessage] = field(default_factory=list)
    created: list[EmailMessage] = field(default_factory=list)
    support_item: Any = None
    bounce: bool = False
    # Why nothing was stored (no recipient of ours, too large): empty when something was.
    refused: str = ""

    @property
    def logged(self) -> int:
        """How many new copies were stored."""
        return len(self.created)

    @property
    def duplicate(self) -> bool:
        """The message was stored before, for every owner it goes to."""
        return bool(self.emails) and not self.created


@dataclass
class _Route:
    owners: list[User] = field(default_factory=list)
    support: bool = False
    # Addresses that are Rapport's own (logging and support): never matched against contacts.
    own_addresses: set[str] = field(default_factory=set)


class _Files:
    """Names of the files written for one message, deleted again if its transaction fails."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def save(self, field_file: Any, name: str, content: bytes) -> None:
        field_file.save(name, ContentFile(content), save=False)
        self.names.append(field_file.name)

    def delete(self, names: Sequence[str] | None = None) -> None:
        for name in list(self.names if names is None else names):
            try:
                default_storage.delete(name)
            except Exception:  # the transaction's error matters more; an orphan file is only waste
                logger.exception("Could not delete %s after a failed store", name)
            if name in self.names:
                self.names.remove(name)


@contextmanager
def _cleanup_on_failure(files: _Files) -> Iterator[None]:
    try:
        yield
    except BaseException:
        files.delete()
        raise


def log_message(raw: bytes, *, recipients: Sequence[str], source: str, envelope_sender: str = "") -> IntakeResult:
    """Store and link one received message (see the module's docstring); idempotent per owner.

    `recipients` are the envelope recipients (RCPT TO) for SMTP; for a polled mailbox the
    addresses the message was delivered or addressed to. `envelope_sender` is the envelope's MAIL
    FROM ("" or "<>" for the null sender delivery reports come from; a polled message's Return-Path):
    it decides, with the message itself, whether a message may be taken for a bounce. Raises only
    for a failure to store (a database error), after which nothing of the message is left behind,
    or a ValidationError for a setup problem (no user can own support items).
    """
    if source not in EmailSource.values:
        raise ValueError(f"Unknown mail source {source!r}")
    if len(raw) > settings.RAPPORT_MAIL_MAX_BYTES:
        return IntakeResult(refused=f"The message is larger than {settings.RAPPORT_MAIL_MAX_BYTES} bytes.")
    parsed = parse_message(raw)
    route = _route(parsed, recipients, source)
    if not route.owners and not route.support:
        return IntakeResult(refused="No recipient is a logging address or the support address, "
                                    "and no user can own the message.")
    try:
        return _log(raw, parsed, route, source, envelope_sender)
    except IntegrityError:
        # Someone stored the same message for the same owner at the same moment (two pollers, a
        # sender's retry): everything of this attempt was rolled back; the second try finds theirs.
        return _log(raw, parsed, route, source, envelope_sender)


def _log(raw: bytes, parsed: ParsedMessage, route: _Route, source: str, envelope_sender: str) -> IntakeResult:
    files = _Files()
    result = IntakeResult()
    with _cleanup_on_failure(files), transaction.atomic():
        if _campaign_feedback(parsed, route, envelope_sender):
            return IntakeResult(bounce=True)
        if route.support:
            _log_support(raw, parsed, route, files, result)
        for owner in route.owners:
            _log_for(owner, raw, parsed, route, source, files, result)
    for email in result.created:
        logger.info("Logged message %s for %s (%s%s)", email.message_id or email.dedupe_key, email.owner,
                    email.status, f", {email.pending_reason}" if email.pending_reason else "")
    return result


# --- Routing ---------------------------------------------------------------------------------------


def _route(parsed: ParsedMessage, recipients: Sequence[str], source: str) -> _Route:
    route = _Route()
    support_address = clean_address(settings.RAPPORT_SUPPORT_ADDRESS)
    seen: set[int] = set()
    for recipient in recipients:
        address = clean_address(recipient)
        if not address:
            continue
        if address == support_address:
            route.support = True
            route.own_addresses.add(address)
            continue
        user = user_for_logging_address(address)
        if user is None:
            continue
        route.own_addresses.add(address)
        if user.pk in seen:
            continue
        seen.add(user.pk)
        if not may_log(user):
            logger.info("Not logging a message for %s: their role may not change logged email", user)
            continue
        route.owners.append(user)
    if source == EmailSource.IMAP and not route.owners and not route.support:
        sender = _user_with_address(parsed.from_address)
        owner = sender if sender is not None and may_log(sender) else _first_admin()
        if owner is not None:
            route.owners.append(owner)
    return route


def _user_with_address(address: str) -> User | None:
    if not address:
        return None
    return User.objects.filter(email__iexact=address, is_active=True).order_by("id").first()


def _first_admin() -> User | None:
    return (User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(roles__slug="admin"))
            .order_by("id").first())


def _is_own_address(address: str, route: _Route) -> bool:
    if address in route.own_addresses:
        return True
    local, _at, domain = address.partition("@")
    return local.startswith(LOGGING_PREFIX) and domain == settings.RAPPORT_MAIL_DOMAIN.lower()


# --- Campaigns ---------------------------------------------------------------------------------------


def null_or_daemon_sender(envelope_sender: str) -> bool:
    """Whether an envelope sender is one a bounce comes from: the null sender (<>) or a mail daemon."""
    sender = envelope_sender.strip().strip("<>").strip()
    return not sender or is_daemon(sender)


def delivery_report(parsed: ParsedMessage, envelope_sender: str, *, support: bool = False) -> Bounce | None:
    """The bounce a message is, if it is a real delivery report: a delivery-status report or a mail
    daemon's failure notice (parsing decides that from the message), sent from the null or a mail
    daemon's envelope sender, and not to the support address (a customer's mail there is never
    consumed, whatever it looks like). Anything else is mail, logged as such."""
    bounce = parsed.bounce
    if bounce is None or support or not null_or_daemon_sender(envelope_sender):
        return None
    return bounce


def _campaign_feedback(parsed: ParsedMessage, route: _Route, envelope_sender: str) -> bool:
    """Let campaigns see the message first; True when it is a bounce of a campaign message (consumed).
    Only a delivery-status report may name the failed address alone; a daemon's notice must name the
    id of the campaign message that failed."""
    from rapport.campaigns.services import campaign_feedback

    replied_to = list(dict.fromkeys([*parsed.in_reply_to, *parsed.references]))[:THREAD_PARENTS]
    bounce = delivery_report(parsed, envelope_sender, support=route.support)
    consumed = bool(campaign_feedback(
        in_reply_to=replied_to,
        bounced_message_ids=bounce.message_ids if bounce else [],
        bounced_addresses=bounce.addresses if bounce and bounce.report else [],
    ))
    if consumed and bounce is not None:
        logger.info("Consumed message %s as a bounce of campaign mail (From %s, envelope sender <%s>, %s): "
                    "failed message ids %s, addresses %s; not logged", parsed.message_id or parsed.dedupe_key,
                    parsed.from_address or "-", envelope_sender.strip().strip("<>"),
                    "delivery-status report" if bounce.report else "mail daemon's notice",
                    ", ".join(bounce.message_ids) or "-", ", ".join(bounce.addresses) or "-")
    return consumed


# --- Storing -----------------------------------------------------------------------------------------


def _thread_key(owner_id: int, parsed: ParsedMessage) -> str:
    """The conversation's root: the thread of the message this one answers, if the owner has it;
    else the first id of References (the root by RFC 5322), else the one it replies to, else itself."""
    parents = [fold_id(value) for value in [*parsed.in_reply_to, *reversed(parsed.references)]]
    parents = list(dict.fromkeys(value for value in parents if value))[:THREAD_PARENTS]
    if parents:
        known = dict(EmailMessage.objects.filter(owner_id=owner_id, dedupe_key__in=parents)
                     .exclude(thread_key="").values_list("dedupe_key", "thread_key"))
        for parent in parents:
            if parent in known:
                return known[parent]
    if parsed.references:
        return fold_id(parsed.references[0])
    if parsed.in_reply_to:
        return fold_id(parsed.in_reply_to[0])
    return parsed.dedupe_key


def _store(owner: User, raw: bytes, parsed: ParsedMessage, *, source: str, visibility: str,
           files: _Files) -> EmailMessage | None:
    """A new row for the message and owner with its files; None when the owner has it already."""
    if EmailMessage.objects.filter(owner_id=owner.pk, dedupe_key=parsed.dedupe_key).exists():
        return None
    own = (owner.email or "").strip().lower()
    email = EmailMessage(
        owner=owner, visibility=visibility, message_id=parsed.message_id, dedupe_key=parsed.dedupe_key,
        in_reply_to=parsed.in_reply_to[0][:255] if parsed.in_reply_to else "",
        references=" ".join(parsed.references), thread_key=_thread_key(owner.pk, parsed)[:255],
        from_address=parsed.from_address[:320], from_name=parsed.from_name[:200], to=parsed.to, cc=parsed.cc,
        subject=parsed.subject[:300], sent_at=parsed.sent_at, received_at=timezone.now(),
        text_body=parsed.text_body, html_body=parsed.html_body, raw_size=len(raw), source=source,
        direction=EmailDirection.OUTBOUND if own and parsed.from_address == own else EmailDirection.INBOUND,
        status=EmailStatus.PENDING, parse_warnings=list(parsed.warnings),
    )
    files.save(email.raw, "message.eml", raw)
    written = len(files.names)
    try:
        with transaction.atomic():
            email.save()
            for attachment in parsed.attachments:
                row = EmailAttachment(email=email, filename=attachment.filename,
                                      declared_type=attachment.declared_type[:100],
                                      detected_type=attachment.detected_type[:100],
                                      size=attachment.size, sha256=attachment.sha256)
                files.save(row.file, "attachment", attachment.content)
                row.save()
    except IntegrityError:
        files.delete(files.names[written - 1:])
        raise
    history_record(record=email, actor=None, kind=HistoryEntry.Kind.CREATED, changes={
        name: [None, display_value(getattr(email, name))]
        for name in ("owner", "subject", "from_address", "source", "status")})
    record_event("created", email, {})
    return email


def _existing(owner_id: int, parsed: ParsedMessage) -> EmailMessage | None:
    return EmailMessage.objects.filter(owner_id=owner_id, dedupe_key=parsed.dedupe_key).first()


def _log_for(owner: User, raw: bytes, parsed: ParsedMessage, route: _Route, source: str, files: _Files,
             result: IntakeResult) -> None:
    if any(email.owner_id == owner.pk for email in result.emails):
        return  # the support copy is this user's already
    email = _store(owner, raw, parsed, source=source, visibility=LOGGED_VISIBILITY, files=files)
    if email is None:
        existing = _existing(owner.pk, parsed)
        if existing is not None:
            result.emails.append(existing)
        return
    records, reason = match_records(owner, link_addresses(parsed, owner, route))
    result.emails.append(_file(owner, email, records, reason))
    result.created.append(result.emails[-1])


class _Repeat(Exception):
    """Support had the message already after all (stored meanwhile): undo the item opened for it."""


def _serialise(key: str) -> None:
    """Make a second delivery of the same message wait until this one's transaction ends, so it finds
    what this one stored. PostgreSQL: an advisory lock on the message's key, released at commit. SQLite
    needs none: Rapport's transactions there begin IMMEDIATE, so writers take turns anyway."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"rapport.mail.intake:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def _on_support_item(parsed: ParsedMessage) -> EmailMessage | None:
    """A copy of the message that support has had already: received through the support address, or
    filed to a support item (a support user who logged it through their own logging address first)."""
    return (EmailMessage.objects.filter(message_id=parsed.message_id, dedupe_key=parsed.dedupe_key)
            .filter(Q(source=EmailSource.SUPPORT) | Q(activity__links__record_type="support_item"))
            .order_by("id").first())


def _log_support(raw: bytes, parsed: ParsedMessage, route: _Route, files: _Files, result: IntakeResult) -> None:
    """Open or add to a support item, and keep the message on it (owned by the item's owner). The same
    message again, by any way, never opens a second item nor adds a second note."""
    from rapport.directory.models import Contact
    from rapport.support.services import support_item_from_email

    _serialise(parsed.dedupe_key)
    known = _on_support_item(parsed)
    if known is not None:  # the same message to the support address again
        result.emails.append(known)
        return
    try:
        with transaction.atomic():
            item = support_item_from_email(sender=parsed.from_address, subject=parsed.subject,
                                           body=parsed.text_body, sender_name=parsed.from_name)
            owner = item.owner
            # The item's owner may hold the message already (Bcc'd to their own logging address): that
            # copy is filed to the item, not a second one stored.
            held = _existing(owner.pk, parsed)
            email = None
            if held is None:
                email = _store(owner, raw, parsed, source=EmailSource.SUPPORT, visibility=item.visibility,
                               files=files)
                if email is None:  # stored since the check
                    held = _existing(owner.pk, parsed)
            if held is not None and _on_support_item(parsed) is not None:
                raise _Repeat  # support has it already: the item just opened is undone
    except _Repeat:
        known = _on_support_item(parsed)
        if known is not None:
            result.emails.append(known)
        return
    result.support_item = item
    records: list[Any] = [item]
    if item.contact_id is not None:
        records += list(Contact.objects.visible_to(owner).filter(pk=item.contact_id))
    if email is None:  # the owner's own copy: filed to the item as well, counted as stored already
        if held is not None:
            result.emails.append(_file(owner, held, [*_filed_records(owner, held), *records], ""))
        return
    result.emails.append(_file(owner, email, records, ""))
    result.created.append(result.emails[-1])


def _filed_records(owner: User, email: EmailMessage) -> list[Any]:
    """The records a message is filed to (filing it again replaces them, so they are named again)."""
    from rapport.activities.models import ActivityLink
    from rapport.activities.selectors import records_linked

    if email.activity_id is None:
        return []
    links = list(ActivityLink.objects.filter(activity_id=email.activity_id, activity__deleted_at__isnull=True)
                 .values_list("record_type", "record_id"))
    return records_linked(user=owner, links=links)


# --- Linking -----------------------------------------------------------------------------------------


def link_addresses(parsed: ParsedMessage, owner: User, route: _Route | None = None) -> list[str]:
    """The addresses a message is linked by: From, To and Cc (and, in mail the owner forwarded, the
    forwarded message's), less the owner's own address and Rapport's logging and support addresses."""
    route = route or _Route()
    own = (owner.email or "").strip().lower()
    support = clean_address(settings.RAPPORT_SUPPORT_ADDRESS)
    candidates = list(parsed.addresses)
    if own and parsed.from_address == own:
        candidates += parsed.forwarded_addresses
    return [address for address in dict.fromkeys(candidates)
            if address and address != own and address != support and not _is_own_address(address, route)]


def match_records(owner: User, addresses: Sequence[str]) -> tuple[list[Any], str]:
    """The contacts and accounts to file a message to, or none and why it waits (PendingReason).

    Filed when every match belongs to one company: contacts of one account (and that account), or a
    single contact without an account. Matches at several companies (a contact without an account
    counts as a company of its own): pending, "several". Nothing: pending, "no_match"."""
    from rapport.directory.models import Account, Contact

    addresses = list(addresses)[:MATCH_ADDRESSES]
    if not addresses:
        return [], PendingReason.NO_MATCH
    contacts = list(Contact.objects.visible_to(owner)
                    .filter(Q(email_key__in=addresses) | Q(secondary_email_key__in=addresses))
                    .select_related("account").order_by("id")[:MATCH_LIMIT])
    accounts = list(Account.objects.visible_to(owner).filter(email_key__in=addresses).order_by("id")[:MATCH_LIMIT])
    companies = {("account", contact.account_id) if contact.account_id else ("contact", contact.pk)
                 for contact in contacts} | {("account", account.pk) for account in accounts}
    if not companies:
        return [], PendingReason.NO_MATCH
    if len(companies) > 1:
        return [], PendingReason.SEVERAL
    return [*contacts, *accounts], ""


def _file(owner: User, email: EmailMessage, records: list[Any], reason: str) -> EmailMessage:
    """File the message to its records, or leave it pending with the reason."""
    if records:
        from rapport.mail.services import email_file

        try:
            with transaction.atomic():
                return email_file(actor=owner, email=email, records=records)
        except (PermissionDenied, ValidationError) as exc:
            # The owner may not file it (their rights changed, a record may not be filed to): it waits
            # for someone who may, matching records but not filed.
            logger.warning("Could not file message %s for %s: %s", email.pk, owner, exc)
            note = f"Not filed automatically: {'; '.join(_messages(exc))}"
            email.refresh_from_db(fields=["status", "pending_reason", "activity", "version", "parse_warnings"])
            changes: dict[str, Any] = {"parse_warnings": [*email.parse_warnings, note]}
            if email.status == EmailStatus.PENDING and not email.pending_reason:
                changes["pending_reason"] = reason or PendingReason.SEVERAL
            EmailMessage.objects.filter(pk=email.pk).update(**changes)
            for name, value in changes.items():
                setattr(email, name, value)
            return email
    if reason:
        EmailMessage.objects.filter(pk=email.pk).update(pending_reason=reason)
        email.pending_reason = reason
    return email


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(message) for message in exc.messages]
    return [str(exc) or type(exc).__name__]
