"""Distribution lists (static lists of contacts, or dynamic ones: a saved contact filter), campaigns
that send a template to a list through the outbox at a throttled rate, each recipient's status, and
the suppression list that keeps an unsubscribed or bouncing address out of every later campaign."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.ids import new_secret
from rapport.core.models import BusinessRecord
from rapport.core.text import fold


class ListKind(models.TextChoices):
    STATIC = "static", _("Static: the contacts you add")
    DYNAMIC = "dynamic", _("Dynamic: the contacts a filter finds")


class DistributionList(BusinessRecord):
    record_type = "distribution_list"

    name = models.CharField(_("name"), max_length=150)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # What the list is for ("Customer relationship", "Newsletter"): the account page filters on it.
    category = models.CharField(_("category"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=7, choices=ListKind.choices, default=ListKind.STATIC)
    # Dynamic lists: the contact list's filter parameters ({"stage": "customer", "account": "…"}),
    # checked against the contact filters' whitelist when saved and applied as the owner would see them.
    criteria = models.JSONField(_("filter"), default=dict, blank=True)
    name_key = models.CharField(max_length=150, editable=False, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="dlist_name_idx"),
            models.Index(fields=["category", "name_key"], name="dlist_category_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def derive(self) -> list[str]:
        self.name_key = fold(self.name)[:150]
        return ["name_key"]


class DistributionListMember(models.Model):
    """A contact on a static list."""

    distribution_list = models.ForeignKey(DistributionList, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("directory.Contact", on_delete=models.CASCADE, related_name="list_memberships")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["distribution_list", "contact"], name="dlist_member_once"),
        ]
        indexes = [models.Index(fields=["contact", "distribution_list"], name="dlist_member_contact_idx")]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.distribution_list_id}"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(BusinessRecord):
    record_type = "campaign"

    name = models.CharField(_("name"), max_length=150)
    distribution_list = models.ForeignKey(DistributionList, verbose_name=_("distribution list"),
                                          on_delete=models.PROTECT, related_name="campaigns")
    template = models.ForeignKey("templating.Template", verbose_name=_("template"), on_delete=models.PROTECT,
                                 related_name="campaigns")
    status = models.CharField(_("status"), max_length=9, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    # Messages handed to the outbox per minute, so a large list does not flood the SMTP relay.
    rate_per_minute = models.PositiveIntegerField(_("messages per minute"), default=60)
    from_email = models.CharField(_("from"), max_length=320, blank=True,
                                  help_text=_("Leave empty for the server's sender address."))
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    name_key = models.CharField(max_length=150, editable=False, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="campaign_name_idx"),
            models.Index(fields=["status"], name="campaign_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def derive(self) -> list[str]:
        self.name_key = fold(self.name)[:150]
        return ["name_key"]


class RecipientStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")        # not yet handed to the outbox (throttled)
    QUEUED = "queued", _("Queued")           # in the outbox
    SENT = "sent", _("Sent")
    BOUNCED = "bounced", _("Bounced")
    REPLIED = "replied", _("Replied")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    SKIPPED = "skipped", _("Skipped")        # suppressed, or no usable address


class CampaignRecipient(models.Model):
    """One person a campaign goes to, fixed when the campaign starts (a later change to the list
    does not change who gets it)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("directory.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    email = models.CharField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=201, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=RecipientStatus.choices,
                              default=RecipientStatus.WAITING)
    skip_reason = models.CharField(_("why skipped"), max_length=200, blank=True)
    # The unsubscribe link's only credential: 80 random bits (a secret, not a public id), so links cannot be guessed.
    token = models.CharField(max_length=32, unique=True, default=new_secret)
    outbox_message = models.OneToOneField("mail.OutboxMessage", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="campaign_recipient")
    queued_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaign_recipient_once"),
        ]
        indexes = [models.Index(fields=["campaign", "status", "id"], name="campaign_recipient_status_idx")]

    def __str__(self) -> str:
        return self.email


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    MANUAL = "manual", _("Added by hand")


class Suppression(models.Model):
    """An address no campaign mails again, for good."""

    email_key = models.CharField(_("email"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=12, choices=SuppressionReason.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email_key
