"""The outbox (every email Rapport sends, written in the transaction of the change that causes it) and
logged email (every message users BCC, forward or have polled from a mailbox)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.ids import new_public_id
from rapport.core.models import BusinessRecord


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One email to send. The worker claims it, sends it by SMTP and marks it sent; a failed attempt
    is retried later with the same Message-ID, so a receiver can tell a retry from a new message."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    kind = models.CharField(_("kind"), max_length=40, blank=True,
                            help_text=_("What the message is for: support_request, support_declined…"))
    from_email = models.CharField(_("from"), max_length=320)
    to = models.JSONField(_("to"), default=list)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    html_body = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(_("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["created_at", "id"], name="outbox_created_idx"),
            models.Index(fields=["status", "created_at", "id"], name="outbox_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


# --- Inbound mail: logging addresses, logged email and its attachments -------------------------------


class LoggingAddress(models.Model):
    """A user's personal address for logging mail (log-<key>@RAPPORT_MAIL_DOMAIN): mail BCC'd or
    forwarded to it is stored as theirs. The key is random, so the address cannot be guessed from a
    name; a new one can be made (the old one then stops working)."""

    user = models.OneToOneField("core.User", on_delete=models.CASCADE, related_name="logging_address")
    key = models.CharField(max_length=24, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class EmailStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    PENDING = "pending", _("Pending")
    DISCARDED = "discarded", _("Discarded")


class PendingReason(models.TextChoices):
    NO_MATCH = "no_match", _("Matches no record")
    SEVERAL = "several", _("Matches several records")


class EmailSource(models.TextChoices):
    SMTP = "smtp", _("Logging address (SMTP)")
    IMAP = "imap", _("Mailbox (IMAP)")
    SUPPORT = "support", _("Support address")
    API = "api", _("API")


class EmailDirection(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


def _raw_path(instance: Any, filename: str) -> str:
    return f"mail/raw/{instance.received_at:%Y/%m}/{new_public_id()}.eml"


class EmailMessage(BusinessRecord):
    """One logged message: its raw source (a file), what was parsed from it, and — once filed — the
    email activity that shows it on the contacts, accounts and support items it concerns."""

    record_type = "email"
    untracked_fields = frozenset({"text_body", "html_body", "parse_warnings"})

    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    # The Message-ID folded to lower case, or "sha256:<digest of the raw source>" when there is none:
    # the same message delivered twice (BCC and IMAP, a sender's retry) is stored once per owner.
    dedupe_key = models.CharField(max_length=255)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    # The Message-ID (folded) of the first message of the conversation this one belongs to.
    thread_key = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    from_name = models.CharField(_("sender name"), max_length=200, blank=True)
    to = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    text_body = models.TextField(_("text"), blank=True)
    html_body = models.TextField(_("HTML (sanitised)"), blank=True)
    raw = models.FileField(_("raw source"), upload_to=_raw_path, max_length=200)
    raw_size = models.PositiveIntegerField(default=0)
    source = models.CharField(_("source"), max_length=8, choices=EmailSource.choices, default=EmailSource.SMTP)
    direction = models.CharField(_("direction"), max_length=3, choices=EmailDirection.choices,
                                 default=EmailDirection.INBOUND)
    status = models.CharField(_("status"), max_length=9, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    pending_reason = models.CharField(_("why pending"), max_length=8, choices=PendingReason.choices, blank=True)
    # Problems met while parsing (an unknown charset, a malformed part), shown on the message's page.
    parse_warnings = models.JSONField(default=list, blank=True)
    activity = models.OneToOneField("activities.Activity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="email")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "dedupe_key"], name="email_once_per_owner"),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "received_at", "id"], name="email_owner_status_idx"),
            models.Index(fields=["received_at", "id"], name="email_received_idx"),
            models.Index(fields=["thread_key"], name="email_thread_idx"),
            models.Index(fields=["message_id"], name="email_message_id_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or str(_("(no subject)"))


def _attachment_path(instance: Any, filename: str) -> str:
    return f"mail/attachments/{timezone.now():%Y/%m}/{new_public_id()}"


class EmailAttachment(models.Model):
    """A file that came with a logged message: stored under a generated name, served only as a
    download (never inline), after the message's visibility is checked."""

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    email = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    declared_type = models.CharField(_("type given"), max_length=100, blank=True)
    detected_type = models.CharField(_("type found"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to=_attachment_path, max_length=200)

    def __str__(self) -> str:
        return self.filename
