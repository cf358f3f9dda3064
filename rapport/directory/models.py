"""Accounts (companies), contacts (persons), their addresses and remark attributes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.access import VisibleQuerySet
from rapport.core.ids import new_public_id
from rapport.core.models import BusinessRecord, owner_field
from rapport.core.text import fold, website_domain
from rapport.directory.remarks import parse_attributes


class RelationshipStage(models.TextChoices):
    GROWING = "growing", _("Growing")
    MATURE = "mature", _("Mature")
    DECLINING = "declining", _("Declining")
    CLOSED = "closed", _("Closed")


class Account(BusinessRecord):
    """A company the team does business with."""

    record_type = "account"
    owner = owner_field(indexed=False)  # account_owner_name_idx starts with it

    name = models.CharField(_("name"), max_length=200)
    website = models.URLField(_("website"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    secondary_phone = models.CharField(_("other phone"), max_length=40, blank=True)
    stage = models.CharField(
        _("relationship stage"), max_length=10, choices=RelationshipStage.choices, blank=True
    )
    stage_changed_on = models.DateField(_("stage changed on"), null=True, blank=True, editable=False)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="children", db_index=False,  # account_parent_name_idx starts with it
    )
    remarks = models.TextField(_("remarks"), max_length=10000, blank=True)

    # Derived, for sorting, prefix search and duplicate detection. On PostgreSQL these key columns
    # use the binary "C" collation (migration 0002), as SQLite does, so range scans are exact.
    name_key = models.CharField(max_length=200, editable=False, default="")
    email_key = models.CharField(max_length=254, editable=False, default="", blank=True)
    website_key = models.CharField(max_length=300, editable=False, default="", blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="account_name_idx"),
            models.Index(fields=["owner", "name_key", "id"], name="account_owner_name_idx"),
            models.Index(fields=["stage", "name_key", "id"], name="account_stage_name_idx"),
            models.Index(fields=["parent", "name_key", "id"], name="account_parent_name_idx"),
            models.Index(fields=["email_key"], name="account_email_idx"),
            models.Index(fields=["website_key"], name="account_website_idx"),
            models.Index(fields=["updated_at", "id"], name="account_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def attribute_pairs(self) -> dict[str, str]:
        """The key=value pairs of the remarks, read from the text itself (no query)."""
        return parse_attributes(self.remarks)

    def derive(self) -> list[str]:
        if self.website and "://" not in self.website:
            self.website = "https://" + self.website.strip()
        self.name_key = fold(self.name)[:200]
        self.email_key = (self.email or "").strip().lower()
        self.website_key = website_domain(self.website)
        return ["name_key", "email_key", "website_key"]


class Contact(BusinessRecord):
    """A person, usually working at an account."""

    record_type = "contact"
    # An index of its own as well as contact_owner_name_idx: the list's total counts one owner's contacts
    # that pass a filter, and this index reads them in the table's order (14 ms for the first 1,001 of the
    # benchmark's 85,454, where the name index's order took 37).
    owner = owner_field()
    untracked_fields = frozenset({"vcard_source", "dav_name"})

    # The stable identity a vCard / CardDAV client knows this contact by.
    uid = models.CharField(max_length=255, unique=True, default=new_public_id, editable=False)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="contacts", db_index=False,  # contact_account_name_idx starts with it
    )
    email = models.EmailField(_("email"), max_length=254, blank=True)
    secondary_email = models.EmailField(_("other email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    remarks = models.TextField(_("remarks"), max_length=10000, blank=True)
    # The vCard a CardDAV client (or a vCard import) gave; edits patch it, so what Rapport does not
    # model (photos, further emails and phones, X- properties) survives a round trip (rapport.sync).
    vcard_source = models.TextField(blank=True, default="", db_default="", editable=False)
    # The name a CardDAV client stored the card under, when it is not "<uid>.vcf".
    dav_name = models.CharField(max_length=255, blank=True, default="", db_default="", editable=False)

    name_key = models.CharField(max_length=201, editable=False, default="")
    email_key = models.CharField(max_length=254, editable=False, default="", blank=True)
    # db_default: the benchmark seeder and importers insert rows without naming this column.
    secondary_email_key = models.CharField(max_length=254, editable=False, default="", db_default="", blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "id"], name="contact_name_idx"),
            models.Index(fields=["secondary_email_key"], name="contact_email2_idx",
                         condition=~models.Q(secondary_email_key="")),
            models.Index(fields=["owner", "name_key", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["account", "name_key", "id"], name="contact_account_name_idx"),
            models.Index(fields=["email_key"], name="contact_email_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def attribute_pairs(self) -> dict[str, str]:
        """The key=value pairs of the remarks, read from the text itself (no query)."""
        return parse_attributes(self.remarks)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def derive(self) -> list[str]:
        self.name_key = fold(f"{self.last_name} {self.first_name}")[:201]
        self.email_key = (self.email or "").strip().lower()
        self.secondary_email_key = (self.secondary_email or "").strip().lower()
        return ["name_key", "email_key", "secondary_email_key"]


class Address(models.Model):
    """A postal address of an account or a contact."""

    class Kind(models.TextChoices):
        MAIN = "main", _("Main")
        BILLING = "billing", _("Billing")
        SHIPPING = "shipping", _("Shipping")
        HOME = "home", _("Home")
        WORK = "work", _("Work")

    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MAIN)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(account__isnull=False, contact__isnull=True)
                           | models.Q(account__isnull=True, contact__isnull=False)),
                name="address_belongs_to_one_record",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.street, f"{self.postal_code} {self.city}".strip(),
                                           self.region, self.country) if part)


class Attribute(models.Model):
    """A key=value pair parsed from the remarks of an account or a contact, for filtering and search."""

    # Indexed both ways: (key, value, record) finds the records with an attribute, (record, key, value)
    # answers "does this record have it?" from the index alone, for lists that walk their sort order.
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes",
                                db_index=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes",
                                db_index=False)
    key = models.CharField(max_length=50)
    value = models.CharField(max_length=200)

    class Meta:
        ordering = ["key", "id"]
        indexes = [
            models.Index(fields=["key", "value", "account"], name="attribute_account_idx"),
            models.Index(fields=["key", "value", "contact"], name="attribute_contact_idx"),
            models.Index(fields=["account", "key", "value"], name="attribute_of_account_idx"),
            models.Index(fields=["contact", "key", "value"], name="attribute_of_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class StageChange(models.Model):
    """An account entering a relationship stage: the record of the cycle over time, for reports."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=10, choices=RelationshipStage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=RelationshipStage.choices, blank=True)
    changed_on = models.DateField()
    changed_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["changed_on", "id"]
        indexes = [
            models.Index(fields=["changed_on", "to_stage"], name="stage_change_day_idx"),
            models.Index(fields=["account", "changed_on"], name="stage_change_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_stage or '-'} → {self.to_stage or '-'} on {self.changed_on}"
