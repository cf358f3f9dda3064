"""The inbound mail workloads (issue 8): one message through `log_message`, as the SMTP listener and
IMAP polling hand it over — parsed, stored with its raw source, linked and filed to the sender's contact
(and their account) with an email activity; one from an unknown sender, which waits as pending email;
and the same message again, which is found and stored nothing (a sender's retry, BCC plus IMAP).

Each run logs a new message (a fresh Message-ID); everything made is deleted afterwards (messages,
their files, activities, links and history), so a reused data set keeps its shape.
"""

from __future__ import annotations

import itertools
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, make_msgid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import transaction

from bench.workloads import Bench, Result
from rapport.activities.models import Activity
from rapport.core.models import HistoryEntry, User
from rapport.directory.models import Contact
from rapport.mail.intake import log_message
from rapport.mail.models import EmailMessage, EmailStatus
from rapport.mail.selectors import logging_address
from rapport.search.index import unindex_records
from rapport.seed import HEAVY_USER

INTAKE_TARGET = "≤ 50 ms a message (a listener logs 20 a second on 2 cores)"
DUPLICATE_TARGET = "≤ 10 ms (found, nothing stored)"
BODY = ("Hello,\n\nthank you for the offer. We would like to order the same quantities as last month, "
        "delivered to the usual address. Could you confirm the date?\n\nBest regards\n") * 4


def _raw(sender: str, sender_name: str, to: str, subject: str, message_id: str | None = None) -> bytes:
    message = MimeMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="bench.example")
    message.set_content(BODY)
    message.add_alternative(f"<p>{BODY.replace(chr(10), '<br>')}</p><script>alert(1)</script>", subtype="html")
    return message.as_bytes()


def run_mail_all(runs: int, size: str) -> list[Result]:
    """The mail workloads on their own Bench, for bench.run."""
    bench = Bench(runs)
    run_mail(bench)
    return bench.results


def run_mail(bench: Bench) -> None:
    user = User.objects.get(username=HEAVY_USER)
    address = logging_address(user)
    contact = (Contact.objects.visible_to(user).exclude(email_key="").select_related("account")
               .order_by("id").first())
    if contact is None:
        raise AssertionError("The data set has no contact with an email address the bench user sees")
    before = EmailMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    counter = itertools.count()

    def known() -> Any:
        raw = _raw(contact.email, contact.full_name, user.email or address, f"Order {next(counter)}")
        return log_message(raw, recipients=[address], source="smtp")

    def unknown() -> Any:
        raw = _raw(f"someone{next(counter)}@unknown.example", "Some One", user.email or address, "A question")
        return log_message(raw, recipients=[address], source="smtp")

    repeated = _raw(contact.email, contact.full_name, user.email or address, "Again", "<bench-again@bench.example>")

    def again() -> Any:
        return log_message(repeated, recipients=[address], source="smtp")

    def filed(result: Any) -> None:
        email = result.emails[0]
        if email.status != EmailStatus.FILED:
            raise AssertionError(f"A message from a known contact was {email.status}, not filed")

    def pending(result: Any) -> None:
        email = result.emails[0]
        if email.status != EmailStatus.PENDING:
            raise AssertionError(f"A message from an unknown sender was {email.status}, not pending")

    try:
        bench.measure("mail_intake_filed", f"log_message: from {contact.full_name} (a contact of "
                      f"{contact.account or 'no account'}), parsed, stored, filed with an email activity",
                      INTAKE_TARGET, known, None, filed)
        bench.measure("mail_intake_pending", "log_message: from an unknown sender, stored as pending email",
                      INTAKE_TARGET, unknown, None, pending)
        bench.measure("mail_intake_duplicate", "log_message: the same message again (stored once)",
                      DUPLICATE_TARGET, again)
    finally:
        _clean(before)


def _clean(before: int) -> None:
    """Delete the messages the bench logged: their files, activities, links and history."""
    made = EmailMessage.objects.filter(id__gt=before)
    with transaction.atomic():
        names = [name for pair in made.values_list("raw", "attachments__file") for name in pair if name]
        activity_ids = list(made.exclude(activity=None).values_list("activity_id", flat=True))
        ids = list(made.values_list("id", flat=True))
        HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(EmailMessage),
                                    object_id__in=ids).delete()
        HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(Activity),
                                    object_id__in=activity_ids).delete()
        made.delete()
        Activity.objects.filter(id__in=activity_ids).delete()
        unindex_records(EmailMessage, ids)  # a QuerySet.delete() leaves the search index alone
        unindex_records(Activity, activity_ids)
    for name in names:
        default_storage.delete(name)
