"""The outbox: every email Rapport sends, written in the transaction of the change that causes it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.ids import new_public_id


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
