"""Reads of the mail app: logging addresses and logged email, always through visible_to."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities.models import Activity, ActivityLink
from rapport.activities.selectors import activity_links
from rapport.core.access import access_record, can
from rapport.core.history import history_for
from rapport.core.models import Action, User
from rapport.directory.filters import (
    MAX_QUERY,
    account_filter_id,
    check_known_filters,
    choice_value,
    day_start,
    one_value,
    owner_q,
    query_text,
)
from rapport.directory.models import Account, Contact
from rapport.mail.models import EmailAttachment, EmailDirection, EmailMessage, EmailStatus, LoggingAddress

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


def may_log(user: Any) -> bool:
    """Whether mail can be logged for a user: one whose role may change logged email (a read-only user
    has no logging address: they could neither file nor discard what it took in)."""
    return bool(user.is_active and can(user, EmailMessage.record_type, Action.UPDATE))


def user_for_logging_address(address: str) -> User | None:
    """The active user a logging address belongs to, or None (any domain is accepted: a relay may
    rewrite it; the random key is what identifies the user)."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    if not local.startswith(LOGGING_PREFIX):
        return None
    entry = (LoggingAddress.objects.select_related("user")
             .filter(key=local.removeprefix(LOGGING_PREFIX), user__is_active=True).first())
    return entry.user if entry else None


def pending_email(user: Any) -> QuerySet[EmailMessage]:
    """The user's logged messages that wait to be filed (counted by the badge on the Email menu entry)."""
    if not getattr(user, "is_authenticated", False):
        return EmailMessage.objects.none()
    return EmailMessage.objects.filter(owner_id=user.pk, status=EmailStatus.PENDING, deleted_at__isnull=True)


def pending_email_count(user: Any) -> int:
    """How many of the user's logged messages wait to be filed."""
    return pending_email(user).count()


# --- Logged email: lists, one message, its thread, where it is filed, what to file it to ---------------

EMAIL_FILTERS = {"view", "status", "from", "account", "owner", "since", "until", "q"}
# Which messages: the user's own pending ones (My Home's list), or all the user may see.
EMAIL_VIEWS = ("pending", "all")
EMAIL_ORDERINGS = {"received_at": "received_at"}
PENDING_PANEL_ROWS = 10
THREAD_ROWS = 50
SUGGESTION_ROWS = 10
LOOKUP_ROWS = 8
# The record types a message may be filed to, in the order a lookup offers them.
FILE_TYPES = ("contact", "account", "opportunity", "support_item")


# Dates a filter may name: a day's end and a time zone's offset stay representable on either side.
MOMENT_RANGE = (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, tzinfo=dt.UTC))


def _moment(params: Any, name: str) -> dt.datetime | None:
    """A date (the start of that day, in the user's time zone) or an ISO 8601 time with offset."""
    raw = one_value(params, name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            moment = day_start(dt.date.fromisoformat(raw))
        else:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        if not MOMENT_RANGE[0] <= moment.astimezone(dt.UTC) <= MOMENT_RANGE[1]:
            raise ValueError(name)
    except (ValueError, OverflowError):
        raise ValidationError({name: [_("Enter a date (YYYY-MM-DD) or a time with offset "
                                        "(2026-05-01T09:00:00+02:00) between the years 1900 and 9000.")]}) from None
    return moment


def filter_emails(qs: QuerySet[EmailMessage], params: Any, *, user: Any) -> QuerySet[EmailMessage]:
    """The one filter definition of the email list, for the page and the API. Without a status,
    discarded messages are left out: they are found with status=discarded."""
    check_known_filters(params, EMAIL_FILTERS)
    view = choice_value(params, "view", list(EMAIL_VIEWS))
    if view == "pending":
        qs = qs.filter(owner_id=user.pk, status=EmailStatus.PENDING)
    status = choice_value(params, "status", EmailStatus.values)
    qs = qs.filter(status=status) if status else qs.exclude(status=EmailStatus.DISCARDED)
    if sender := one_value(params, "from"):
        if len(sender) > MAX_QUERY:
            raise ValidationError({"from": [_("Search for at most %d characters.") % MAX_QUERY]})
        qs = qs.filter(Q(from_address__icontains=sender) | Q(from_name__icontains=sender))
    if q := query_text(params):
        qs = qs.filter(subject__icontains=q)
    if (account_id := account_filter_id(params, user)) is not None:
        filed = ActivityLink.objects.filter(record_type="account", record_id=account_id).values("activity_id")
        qs = qs.filter(activity_id__in=filed)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    since, until = _moment(params, "since"), _moment(params, "until")
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    if until is not None:
        # A bare date is inclusive: until=2026-05-01 takes the whole of that day.
        end = until + dt.timedelta(days=1) if len(one_value(params, "until")) == 10 else until
        qs = qs.filter(received_at__lt=end)
    return qs


def _filing() -> Prefetch:
    """A message's email activity, as much of it as saying where it is filed reads (filed_to)."""
    return Prefetch("activity", queryset=Activity.objects.only("id", "deleted_at"))


def email_list(*, user: Any, params: Any) -> QuerySet[EmailMessage]:
    """The visible messages the filters pick, with what a list row shows (the long texts stay behind)."""
    qs = (EmailMessage.objects.visible_to(user).select_related("owner").prefetch_related(_filing())
          .defer("text_body", "html_body", "references", "parse_warnings"))
    return filter_emails(qs, params, user=user)


def email_api_list(*, user: Any, params: Any) -> QuerySet[EmailMessage]:
    """email_list with what the API shows of each message: its attachments and where it is filed."""
    qs = (EmailMessage.objects.visible_to(user).select_related("owner").prefetch_related("attachments", _filing())
          .defer("text_body", "html_body", "references", "parse_warnings"))
    return filter_emails(qs, params, user=user)


def email_get(*, user: Any, public_id: str, action: str = Action.READ) -> EmailMessage:
    """One message: 404 if the user may not see it, 403 if they may not do `action` to it."""
    qs = EmailMessage.objects.select_related("owner", "activity")
    return access_record(user, EmailMessage, public_id, action, queryset=qs)


def email_api_get(*, user: Any, public_id: str) -> EmailMessage:
    qs = EmailMessage.objects.select_related("owner").prefetch_related("attachments", _filing())
    return access_record(user, EmailMessage, public_id, Action.READ, queryset=qs)


def filed_to(*, user: Any, emails: Sequence[EmailMessage]) -> dict[int, list[Any]]:
    """Per message, the records it is filed to that the user may see:
    one query per record type for all the messages together."""
    activities = [email.activity for email in emails
                  if email.activity is not None and email.activity.deleted_at is None]
    links = activity_links(user=user, activities=activities)
    return {email.pk: (links[email.activity_id].regarding if email.activity_id in links else [])
            for email in emails}


def email_thread(*, user: Any, email: EmailMessage, limit: int = THREAD_ROWS) -> list[EmailMessage]:
    """The other messages of its conversation that the user may see, oldest first."""
    if not email.thread_key:
        return []
    return list(EmailMessage.objects.visible_to(user).filter(thread_key=email.thread_key).exclude(pk=email.pk)
                .only("id", "public_id", "subject", "from_address", "from_name", "received_at", "sent_at", "status",
                      "owner_id", "visibility", "deleted_at")
                .order_by("received_at", "id")[:limit])


def message_addresses(email: EmailMessage) -> list[str]:
    """Every address the message carries (sender, To, Cc), folded, without Rapport's own addresses."""
    found: list[str] = []
    for value in [email.from_address, *(email.to or []), *(email.cc or [])]:
        address = str(value or "").strip().strip("<>").lower()
        if "@" not in address or address in found:
            continue
        local, _at, domain = address.rpartition("@")
        if address == settings.RAPPORT_SUPPORT_ADDRESS or (
                local.startswith(LOGGING_PREFIX) and domain == settings.RAPPORT_MAIL_DOMAIN.lower()):
            continue
        found.append(address)
    return found[:50]


def email_suggestions(*, user: Any, email: EmailMessage, limit: int = SUGGESTION_ROWS) -> list[Any]:
    """Records to file a message to: the visible contacts and accounts whose addresses it carries."""
    addresses = message_addresses(email)
    if not addresses:
        return []
    contacts = list(Contact.objects.visible_to(user)
                    .filter(Q(email_key__in=addresses) | Q(secondary_email_key__in=addresses))
                    .only("id", "public_id", "first_name", "last_name", "email", "owner_id", "visibility",
                          "deleted_at").order_by("name_key", "id")[:limit])
    accounts = list(Account.objects.visible_to(user).filter(email_key__in=addresses)
                    .only("id", "public_id", "name", "owner_id", "visibility", "deleted_at")
                    .order_by("name_key", "id")[:limit])
    return [*contacts, *accounts][:limit]


def pending_emails(*, user: Any, limit: int = PENDING_PANEL_ROWS) -> list[EmailMessage]:
    """The user's own pending messages, newest first (My Home's panel)."""
    return list(EmailMessage.objects.visible_to(user).filter(owner_id=user.pk, status=EmailStatus.PENDING)
                .defer("text_body", "html_body", "references", "parse_warnings")
                .order_by("-received_at", "-id")[:limit])


def suggestions_for(*, user: Any, emails: Sequence[EmailMessage], limit: int = SUGGESTION_ROWS) -> dict[int, list[Any]]:
    """email_suggestions for several messages in two queries (My Home's panel)."""
    wanted = {email.pk: message_addresses(email) for email in emails}
    every = sorted({address for addresses in wanted.values() for address in addresses})
    if not every:
        return {pk: [] for pk in wanted}
    contacts = list(Contact.objects.visible_to(user)
                    .filter(Q(email_key__in=every) | Q(secondary_email_key__in=every))
                    .only("id", "public_id", "first_name", "last_name", "email_key", "secondary_email_key",
                          "owner_id", "visibility", "deleted_at").order_by("name_key", "id")[:200])
    accounts = list(Account.objects.visible_to(user).filter(email_key__in=every)
                    .only("id", "public_id", "name", "email_key", "owner_id", "visibility", "deleted_at")
                    .order_by("name_key", "id")[:200])
    result: dict[int, list[Any]] = {}
    for pk, addresses in wanted.items():
        mine = set(addresses)
        result[pk] = ([c for c in contacts if c.email_key in mine or c.secondary_email_key in mine]
                      + [a for a in accounts if a.email_key in mine])[:limit]
    return result


def email_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    """A message with what its page shows: the thread, where it is filed, attachments, history."""
    email = email_get(user=user, public_id=public_id)
    records = filed_to(user=user, emails=[email])
    may_change = can(user, EmailMessage.record_type, Action.UPDATE, email)
    return {
        "email": email,
        "attachments": list(email.attachments.order_by("id")),
        "thread": email_thread(user=user, email=email),
        "filed_to": records[email.pk],
        "suggestions": email_suggestions(user=user, email=email) if may_change else [],
        "history": history_for(email, user=user),
        "may_change": may_change,
    }


def attachment_get(*, user: Any, email_id: str, attachment_id: str) -> EmailAttachment:
    """An attachment of a message the user may see; 404 otherwise."""
    email = email_get(user=user, public_id=email_id)
    found = EmailAttachment.objects.filter(email=email, public_id=attachment_id).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class RecordOption:
    """One record a lookup offers for filing: its reference (type:id), what a person reads."""

    ref: str
    label: str
    kind: str


def file_lookup(*, user: Any, query: str, limit: int = LOOKUP_ROWS) -> list[RecordOption]:
    """The contacts, accounts, opportunities and support items the user may see whose name (a subject, a
    reference) starts with `query`, a few of each."""
    from rapport.directory.selectors import account_lookup, contact_lookup
    from rapport.sales.selectors import opportunity_list
    from rapport.support.selectors import support_item_list

    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    options = [RecordOption(c.ref, c.full_name + (f" <{c.email}>" if c.email else ""), str(_("Contact")))
               for c in contact_lookup(user=user, query=query, limit=limit)]
    options += [RecordOption(a.ref, a.name, str(_("Account")))
                for a in account_lookup(user=user, query=query, limit=limit)]
    options += [RecordOption(o.ref, o.name, str(_("Opportunity")))
                for o in opportunity_list(user=user, params={"q": query}).order_by("name_key", "id")[:limit]]
    options += [RecordOption(s.ref, f"{s.reference}: {s.subject}", str(_("Support item")))
                for s in support_item_list(user=user, params={"q": query}).order_by("-created_at", "-id")[:limit]]
    return options


def contact_defaults(email: EmailMessage) -> dict[str, str]:
    """A new contact's names and address from the person the message is with — its sender, or for mail
    the owner sent, its first recipient: "Anna Berg", "Berg, Anna", or failing a name, the address's
    local part ("anna.berg@…" is Anna Berg)."""
    from_name, from_address = email.from_name, email.from_address
    if email.direction == EmailDirection.OUTBOUND and email.to:
        from_name, from_address = parseaddr(str(email.to[0]))
    address = (from_address or "").strip().strip("<>")
    name = " ".join((from_name or "").replace('"', " ").split())
    if "@" in name:
        name = ""
    if not name and "@" in address:
        name = " ".join(part.capitalize() for part in
                        address.rsplit("@", 1)[0].replace(".", " ").replace("_", " ").replace("-", " ").split())
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
    elif " " in name:
        first, last = name.rsplit(" ", 1)
    else:
        first, last = "", name
    return {"first_name": first[:100], "last_name": last[:100], "email": address[:254]}


def filing_records(*, user: Any, refs: Sequence[str]) -> list[Any]:
    """The records "type:id" references name, as the user may see them; any problem is named on `records`."""
    from rapport.activities.selectors import record_refs

    try:
        return record_refs(user=user, refs=list(refs), field="records")
    except ValidationError as exc:
        raise ValidationError({"records": [message for messages in exc.message_dict.values()
                                           for message in messages]}) from None
