"""Users, teams, roles, API tokens, history and the base models every business record builds on."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.ids import PUBLIC_ID_LENGTH, new_public_id
from rapport.core.registry import record_type_choices


@functools.cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on every call (~17 ms); the set does not change while we run.
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private (owner only)")
    TEAM = "team", _("Team")
    EVERYONE = "everyone", _("Everyone")


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    READ = "read", _("Read")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")


class Scope(models.TextChoices):
    """How far a right reaches. Order matters: each scope includes the ones before it."""

    NONE = "none", _("None")
    OWN = "own", _("Own records")
    TEAM = "team", _("Team's records")
    ALL = "all", _("All records")


SCOPE_RANK: dict[str, int] = {Scope.NONE: 0, Scope.OWN: 1, Scope.TEAM: 2, Scope.ALL: 3}


class PublicIdModel(models.Model):
    """Gives a record an opaque, non-sequential id for URLs and the API."""

    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, default=new_public_id, editable=False
    )

    class Meta:
        abstract = True


class Team(PublicIdModel):
    """A group of users with a manager, who sees the team's records."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A job function (admin, manager, sales, ...) granting rights per record type.

    The four default scopes apply to every record type; a RolePermission row
    overrides one action on one record type. An admin role grants everything.
    """

    slug = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_admin = models.BooleanField(
        _("administrator"), default=False, help_text=_("Grants every right, and the Settings pages.")
    )
    create_scope = models.CharField(_("create"), max_length=8, choices=Scope.choices, default=Scope.NONE)
    read_scope = models.CharField(_("read"), max_length=8, choices=Scope.choices, default=Scope.ALL)
    update_scope = models.CharField(_("update"), max_length=8, choices=Scope.choices, default=Scope.NONE)
    delete_scope = models.CharField(_("delete"), max_length=8, choices=Scope.choices, default=Scope.NONE)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def default_scope(self, action: str) -> str:
        return getattr(self, f"{action}_scope")


class RolePermission(models.Model):
    """Overrides a role's default scope for one action on one record type."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="permissions")
    record_type = models.CharField(_("record type"), max_length=50)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["role", "record_type", "action"], name="role_permission_unique")
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.action} {self.record_type} ({self.scope})"

    def clean(self) -> None:
        known = {key for key, _label in record_type_choices()}
        if self.record_type not in known:
            raise ValidationError({"record_type": _("Unknown record type.")})


class User(PublicIdModel, AbstractUser):
    """A person who signs in to Rapport."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    signature = models.TextField(_("email signature"), max_length=2000, blank=True,
                                 help_text=_("Templates put it where they say {{ user.signature }}."))

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """One failed sign-in, kept in the database so every web process sees the same count."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}"


class HistoryEntry(models.Model):
    """One create, change, delete or restore of a business record: who, when, what changed."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("changed")
        DELETED = "deleted", _("deleted")
        RESTORED = "restored", _("restored")
        # Another record was merged into this one (rapport.directory.merge), or this one into another.
        MERGED = "merged", _("merged")
        # Marked as not a duplicate of another record: the pair leaves the duplicates list.
        DISTINCT = "distinct", _("marked as not a duplicate")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)  # history_record_idx
    object_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    # {field name: [old, new]} with values rendered as text
    changes = models.JSONField(default=dict)
    # (field label, old, new) as a reader sees them; filled by history.history_for, not stored.
    rows: list[tuple[str, Any, Any]]

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="history_record_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.content_type.model}#{self.object_id}"


class NumberSequence(models.Model):
    """A counter for the numbers people say on the phone (ORD-10042, SUP-1042): one row per series."""

    name = models.CharField(max_length=50, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


def owner_field(*, indexed: bool = True) -> models.ForeignKey:
    """A business record's owner. A record type whose indexes already start with the owner passes
    `indexed=False`, so that each row written goes into one index on the owner rather than two."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+",
        db_index=indexed,
    )


class BusinessRecord(PublicIdModel):
    """Base of every business record: owner and visibility, timestamps, version, soft delete.

    Subclasses set `record_type` (the key roles grant rights on) and use
    `VisibleQuerySet.as_manager()` so that every read goes through visible_to(user).
    """

    record_type: str = ""
    # Fields kept out of the change history (bulky source text, say); their changes still bump the version.
    untracked_fields: frozenset[str] = frozenset()

    owner = owner_field()
    visibility = models.CharField(
        _("visibility"), max_length=8, choices=Visibility.choices, default=Visibility.EVERYONE
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def derive(self) -> list[str]:
        """Recompute fields derived from others (sort keys, normalised emails); return their names."""
        return []

    def shared_with(self, user_id: int | None) -> bool:
        """Whether this record is visible to a user beyond owner, visibility and role scope. A type
        that adds such a rule overrides this and adds the same condition to its visible_to()."""
        return False

    @property
    def ref(self) -> str:
        """How URLs and the API name a record of any type: "account:<public id>"."""
        return f"{self.record_type}:{self.public_id}"
