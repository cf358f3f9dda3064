"""Writes of the core app: API tokens, sign-in throttling, users, teams and roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_for, forget_access
from rapport.core.models import ApiToken, LoginFailure, Role, RolePermission, Team, User

TOKEN_PREFIX = "rap_"


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plaintext: str  # shown to the user once, never stored


def token_create(*, user: User, name: str) -> NewToken:
    """Create a personal API token; the plaintext is returned once and only its hash is kept."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name, such as the program that will use it.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("At most 100 characters.")]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secret}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=_hash_key(plaintext))
    return NewToken(token=token, plaintext=plaintext)


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (an admin may revoke anyone's)."""
    qs = ApiToken.objects.all() if access_for(user).is_admin else ApiToken.objects.filter(user=user)
    token = qs.filter(pk=token_id).first()
    if token is None:
        raise ValidationError({"token": [_("No such token.")]})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(plaintext: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    prefix = plaintext[len(TOKEN_PREFIX):].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash_key(plaintext)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute so busy clients do not write on every call.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- Sign-in throttling ---------------------------------------------------------


def login_locked_until(*, username: str) -> dt.datetime | None:
    """When a username locked by repeated failures may try again, or None if it may now."""
    window = dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    since = timezone.now() - window
    failures = list(
        LoginFailure.objects.filter(username=username.lower(), at__gte=since).order_by("-at")
        .values_list("at", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )
    if len(failures) < settings.LOGIN_FAILURE_LIMIT:
        return None
    return failures[0] + window


def login_failure_record(*, username: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip_address=ip_address)


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


# --- Users, teams, roles (Settings pages and the admin) ------------------------


def _require_admin(actor: Any) -> None:
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("Only administrators may manage users, teams and roles."))


@transaction.atomic
def user_save(
    *, actor: Any, user: User | None, data: dict[str, Any], roles: list[Role], password: str | None = None
) -> User:
    """Create or change a user with their roles; admins only."""
    _require_admin(actor)
    target = user or User()
    for name, value in data.items():
        setattr(target, name, value)
    if password:
        target.set_password(password)
    elif user is None:
        target.set_unusable_password()
    if target.pk == getattr(actor, "pk", None) and not target.is_active:
        raise ValidationError({"is_active": [_("You cannot deactivate yourself.")]})
    target.full_clean(exclude=["password"])
    target.save()
    target.roles.set(roles)
    forget_access(target)
    return target


@transaction.atomic
def team_save(*, actor: Any, team: Team | None, name: str, manager: User | None, members: list[User]) -> Team:
    """Create or change a team and who belongs to it; admins only."""
    _require_admin(actor)
    target = team or Team()
    target.name = name
    target.manager = manager
    target.full_clean()
    target.save()
    User.objects.filter(team=target).exclude(pk__in=[m.pk for m in members]).update(team=None)
    User.objects.filter(pk__in=[m.pk for m in members]).update(team=target)
    return target


@transaction.atomic
def role_save(
    *, actor: Any, role: Role | None, data: dict[str, Any], overrides: dict[tuple[str, str], str]
) -> Role:
    """Create or change a role: its default scopes and per-record-type overrides; admins only."""
    _require_admin(actor)
    target = role or Role()
    for name, value in data.items():
        setattr(target, name, value)
    target.full_clean()
    target.save()
    target.permissions.all().delete()
    RolePermission.objects.bulk_create(
        RolePermission(role=target, record_type=record_type, action=action, scope=scope)
        for (record_type, action), scope in overrides.items()
        if scope != target.default_scope(action)
    )
    return target
