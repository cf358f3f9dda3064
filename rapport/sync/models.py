"""App passwords for calendar and contact clients, and the change log each synced collection keeps.

A collection's change log is brought up to date when a client reads it (see `changes.py`): the rows a
collection holds are compared with what it held at the last read, and every difference gets the next
sequence number. A record that left the collection (deleted, reassigned, or no longer visible to the
user) stays as a tombstone, so "what changed since token T" is one indexed range.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppPassword(models.Model):
    """A password for one device's calendar and contact client. Only a hash is stored; it is shown once.

    Not the sign-in password: a client sends its password with every request, and the sign-in
    password's hash costs a quarter of a second by design. An app password is 120 random bits, so a
    plain SHA-256 of it is as safe and costs microseconds; and it can be revoked per device.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_passwords")
    device = models.CharField(_("device"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="app_password_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.device}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SyncCollection(models.Model):
    """One calendar, task list or address book of one user, as clients see it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    # The last sequence number handed out: a sync token names a collection and a sequence number.
    seq = models.BigIntegerField(default=0)
    # Tombstones up to this number have been removed: an older token can no longer be answered.
    pruned_seq = models.BigIntegerField(default=0)
    # When its contents last changed (the collection's Last-Modified).
    changed_at = models.DateTimeField(null=True, blank=True)
    # Properties a client set on the collection (its colour, say), kept so that it reads them back.
    props = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="sync_collection_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.name}"


class SyncEntry(models.Model):
    """A resource a collection holds (or held: a tombstone), as of the last time a client read it."""

    collection = models.ForeignKey(SyncCollection, on_delete=models.CASCADE, related_name="entries")
    href = models.CharField(max_length=255)
    etag = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    # When it last changed: old tombstones are removed (see changes.prune_tombstones).
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "href"], name="sync_entry_unique")]
        indexes = [models.Index(fields=["collection", "seq"], name="sync_entry_seq_idx")]

    def __str__(self) -> str:
        return f"{self.collection_id}:{self.href}@{self.seq}"
