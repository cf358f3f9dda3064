"""Writes of the core app: API tokens, sign-in throttling, users, teams and roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_for, forget_access
from rapport.core.models import (
    Action,
    ApiToken,
    LoginFailure,
    NumberSequence,
    Role,
    RolePermission,
    Scope,
    Team,
    User,
)
from rapport.core.registry import record_types

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


@transaction.atomic
def token_revoke(*, user: User, token_id: int | None = None, prefix: str | None = None) -> ApiToken:
    """Revoke one of the user's own tokens (an admin may revoke anyone's), named by id or by prefix.

    Revoking a token that is already revoked changes nothing.
    """
    if (token_id is None) == (prefix is None):
        raise TypeError("token_revoke takes exactly one of token_id and prefix")
    qs = ApiToken.objects.all() if access_for(user).is_admin else ApiToken.objects.filter(user=user)
    qs = qs.filter(pk=token_id) if token_id is not None else qs.filter(prefix=prefix)
    token = qs.select_for_update().first()
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


def login_throttle_key(username: str) -> str:
    """The username as sign-in reads it (NFKC, no surrounding spaces), case-folded: every spelling
    that reaches the same account shares one failure count."""
    return unicodedata.normalize("NFKC", username.replace("\x00", "")).strip().casefold()[:150]


def login_locked_until(*, username: str) -> dt.datetime | None:
    """When a username locked by repeated failures may try again, or None if it may now."""
    window = dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    since = timezone.now() - window
    failures = list(
        LoginFailure.objects.filter(username=login_throttle_key(username), at__gte=since).order_by("-at")
        .values_list("at", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )
    if len(failures) < settings.LOGIN_FAILURE_LIMIT:
        return None
    # The lock lifts when the oldest of these failures leaves the window.
    return failures[-1] + window


def login_failure_record(*, username: str, ip_address: str | None) -> None:
    now = timezone.now()
    LoginFailure.objects.create(username=login_throttle_key(username), ip_address=ip_address)
    # Failures older than the window count for nothing; keep the table small.
    LoginFailure.objects.filter(at__lt=now - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)).delete()


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=login_throttle_key(username)).delete()


# --- Profile and password (every signed-in user, for themselves) ----------------

PROFILE_FIELDS = frozenset({"first_name", "last_name", "email", "time_zone", "signature"})
USER_FIELDS = frozenset({"username", "first_name", "last_name", "email", "team", "time_zone", "is_active"})
ROLE_FIELDS = frozenset(
    {"slug", "name", "description", "is_admin", "create_scope", "read_scope", "update_scope", "delete_scope"}
)


def check_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    """Refuse, naming them, fields that this use case may not set (is_superuser, password, ...)."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})


def _merge_errors(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for name, messages in exc.message_dict.items():
        errors.setdefault(name, []).extend(m for m in messages if m not in errors.get(name, []))


def _validate_password(password: str, *, user: User, field: str) -> None:
    """Django's password validators (length, common, numeric, similar to the user), under one field name."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from None


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """A user changes their own names, email, time zone and signature."""
    check_fields(data, PROFILE_FIELDS)
    target = User.objects.select_for_update().get(pk=user.pk)
    for name, value in data.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    target.full_clean(exclude=["password"])
    target.save(update_fields=sorted(data))
    return target


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """A user sets a new password for themselves (the caller has checked the old one).

    Changes `user` in place, so the caller can keep the session with update_session_auth_hash.
    """
    _validate_password(password, user=user, field="password")
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


# --- Users, teams, roles (Settings pages and the admin) ------------------------


def _clean_unique(target: Any, *, field: str, message: str, exclude: list[str] | None = None) -> dict[str, list[str]]:
    """The model's own validation errors, plus `field` taken by another row ignoring case."""
    errors: dict[str, list[str]] = {}
    try:
        target.full_clean(exclude=exclude)
    except ValidationError as exc:
        _merge_errors(errors, exc)
    taken = type(target)._default_manager.filter(**{f"{field}__iexact": getattr(target, field)})
    if field not in errors and taken.exclude(pk=target.pk).exists():
        errors[field] = [message]
    return errors


def _require_admin(actor: Any) -> None:
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("Only administrators may manage users, teams and roles."))


def _still_admin_without(actor: Any, role: Role) -> bool:
    """Whether the actor would stay an administrator if `role` no longer granted it."""
    return bool(actor.is_superuser) or actor.roles.filter(is_admin=True).exclude(pk=role.pk).exists()


@transaction.atomic
def user_save(
    *, actor: Any, user: User | None, data: dict[str, Any], roles: list[Role], password: str | None = None
) -> User:
    """Create or change a user with their roles and, optionally, a new password; admins only.

    An administrator cannot deactivate themselves or take away their own
    administrator role: someone must always be able to reach these pages.
    """
    _require_admin(actor)
    check_fields(data, USER_FIELDS)
    target = User.objects.select_for_update().get(pk=user.pk) if user is not None and user.pk else User()
    if target.is_superuser and not getattr(actor, "is_superuser", False):
        # A superuser holds every right in Django's admin too; only another superuser may change them.
        raise PermissionDenied(_("Only a superuser may change a superuser's account."))
    for name, value in data.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    errors = _clean_unique(target, field="username", message=_("A user with that username already exists."),
                           exclude=["password"])
    is_self = target.pk is not None and target.pk == getattr(actor, "pk", None)
    if is_self and not target.is_active:
        errors.setdefault("is_active", []).append(_("You cannot deactivate yourself."))
    if is_self and not actor.is_superuser and not any(role.is_admin for role in roles):
        errors.setdefault("roles", []).append(
            _("You cannot take away your own administrator role; ask another administrator.")
        )
    if password:
        try:
            _validate_password(password, user=target, field="password")
        except ValidationError as exc:
            _merge_errors(errors, exc)
    if errors:
        raise ValidationError(errors)
    if password:
        target.set_password(password)
    elif target.pk is None:
        target.set_unusable_password()
    # Administrators may also open the Django admin; nobody else may (superusers always can).
    target.is_staff = target.is_superuser or any(role.is_admin for role in roles)
    target.save()
    target.roles.set(roles)
    forget_access(target)
    return target


@transaction.atomic
def team_save(*, actor: Any, team: Team | None, name: str, manager: User | None, members: list[User]) -> Team:
    """Create or change a team, its manager and who belongs to it; admins only.

    A user belongs to one team at most: adding them here moves them from their old team.
    """
    _require_admin(actor)
    target = Team.objects.select_for_update().get(pk=team.pk) if team is not None and team.pk else Team()
    target.name = (name or "").strip()
    target.manager = manager
    errors = _clean_unique(target, field="name", message=_("A team with this name already exists."))
    if errors:
        raise ValidationError(errors)
    target.save()
    member_ids = [m.pk for m in members]
    User.objects.filter(team=target).exclude(pk__in=member_ids).update(team=None)
    User.objects.filter(pk__in=member_ids).update(team=target)
    return target


@transaction.atomic
def role_save(
    *, actor: Any, role: Role | None, data: dict[str, Any], overrides: dict[tuple[str, str], str]
) -> Role:
    """Create or change a role: its default scopes and per-record-type overrides; admins only.

    `overrides` maps (record type, action) to a scope; a pair that is not in it
    follows the role's default scope for that action. An administrator cannot
    take the administrator right away from the last role that gives it to them.
    """
    _require_admin(actor)
    check_fields(data, ROLE_FIELDS)
    target = Role.objects.select_for_update().get(pk=role.pk) if role is not None and role.pk else Role()
    was_admin = target.pk is not None and target.is_admin
    for name, value in data.items():
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    errors = _clean_unique(target, field="slug", message=_("A role with this key already exists."))
    known_types = {rt.key for rt in record_types()}
    for (record_type, action), scope in overrides.items():
        if record_type not in known_types or action not in Action.values or scope not in Scope.values:
            errors.setdefault("overrides", []).append(
                _("%(type)s / %(action)s / %(scope)s is not a valid override.")
                % {"type": record_type, "action": action, "scope": scope}
            )
    if was_admin and not target.is_admin and not _still_admin_without(actor, target):
        errors.setdefault("is_admin", []).append(
            _("This role makes you an administrator; you cannot take that away from yourself.")
        )
    if errors:
        raise ValidationError(errors)
    target.save()
    target.permissions.all().delete()
    RolePermission.objects.bulk_create(
        RolePermission(role=target, record_type=record_type, action=action, scope=scope)
        for (record_type, action), scope in sorted(overrides.items())
    )
    return target


def next_number(series: str, *, start: int = 1000) -> int:
    """The next number of a series (orders, support items), never handed out twice.

    Call inside the transaction that stores the number: the increment locks the row until it ends,
    so concurrent callers wait, and a rollback gives the number back.
    """
    NumberSequence.objects.get_or_create(name=series, defaults={"last_value": start})
    NumberSequence.objects.filter(name=series).update(last_value=F("last_value") + 1)
    return NumberSequence.objects.values_list("last_value", flat=True).get(name=series)
