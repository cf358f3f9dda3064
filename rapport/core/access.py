"""Who may see and do what: the one access path for every business record.

Reads go through `Model.objects.visible_to(user)`; a single record through
`access_record(user, Model, public_id, action)`, which answers 404 for a record
the user may not see and 403 for one they may see but not change. Pages, API,
exports and jobs all use these two; nothing hand-rolls the check again.

A record is visible to a user when it is not deleted and
  - the user is an administrator, or
  - the user's roles grant `read` on its record type, within that scope, and
  - the record is the user's own, or shared with everyone, or shared with the
    team and owned by a teammate, or owned by a member of a team the user manages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import Q
from django.http import Http404

from rapport.core.models import SCOPE_RANK, Action, Scope, Visibility

if TYPE_CHECKING:
    from rapport.core.models import BusinessRecord, User

RecordT = TypeVar("RecordT", bound="BusinessRecord")

_CACHE_ATTR = "_rapport_access"


@dataclass
class Access:
    """A user's rights, resolved once per request (or job) from their roles and team."""

    user_id: int | None
    is_admin: bool = False
    team_member_ids: frozenset[int] = frozenset()
    managed_member_ids: frozenset[int] = frozenset()
    default_scopes: dict[str, str] = field(default_factory=dict)
    overrides: dict[tuple[str, str], str] = field(default_factory=dict)

    def scope(self, record_type: str, action: str) -> str:
        if self.user_id is None:
            return Scope.NONE
        if self.is_admin:
            return Scope.ALL
        return self.overrides.get((record_type, action), self.default_scopes.get(action, Scope.NONE))

    def can(self, record_type: str, action: str) -> bool:
        return self.scope(record_type, action) != Scope.NONE

    def reach_ids(self) -> frozenset[int]:
        """Users whose records a `team` scope reaches: teammates, managed members and oneself."""
        own = frozenset({self.user_id}) if self.user_id is not None else frozenset()
        return self.team_member_ids | self.managed_member_ids | own

    def covers_owner(self, record_type: str, action: str, owner_id: int | None) -> bool:
        """Whether the user's scope for this action reaches a record owned by owner_id."""
        scope = self.scope(record_type, action)
        if scope == Scope.ALL:
            return True
        if scope == Scope.TEAM:
            return owner_id in self.reach_ids()
        if scope == Scope.OWN:
            return owner_id == self.user_id
        return False


def access_for(user: Any) -> Access:
    """The resolved rights of a user, cached on the user object."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    signed_in = user is not None and user.is_authenticated and user.is_active
    access = _resolve(user) if signed_in else Access(user_id=None)
    setattr(user, _CACHE_ATTR, access)
    return access


def forget_access(user: Any) -> None:
    """Drop the cached rights after a change of role or team."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _resolve(user: User) -> Access:
    """The user's rights from one query (a UNION ALL) of their roles, overrides and colleagues."""
    scope_fields = [f"{action}_scope" for action in Action.values]
    rows = _rights_rows(user)
    role_defaults: dict[int, dict[str, str]] = {}
    role_overrides: dict[tuple[str, str], dict[int, str]] = {}
    team_ids: set[int] = set()
    managed_ids: set[int] = set()
    is_admin = user.is_superuser
    for kind, row_id, row_admin, *rest in rows:
        scopes, (record_type, action, scope, team_id, manager_id) = rest[: len(scope_fields)], rest[len(scope_fields):]
        if kind == "role":
            role_defaults[row_id] = dict(zip(Action.values, scopes, strict=True))
            is_admin = is_admin or bool(row_admin)
            if record_type:
                role_overrides.setdefault((record_type, action), {})[row_id] = scope
            continue
        if user.team_id and team_id == user.team_id:
            team_ids.add(row_id)
        if manager_id == user.id:
            managed_ids.add(row_id)

    def widest(scopes: list[str]) -> str:
        return max(scopes, key=lambda s: SCOPE_RANK[s], default=Scope.NONE)

    defaults = {action: widest([d[action] for d in role_defaults.values()]) for action in Action.values}
    # Across several roles the widest grant wins, per (record type, action): each role grants its
    # override there if it has one, its own default otherwise.
    overrides = {
        key: widest([by_role.get(role_id, d[key[1]]) for role_id, d in role_defaults.items()])
        for key, by_role in role_overrides.items()
    }
    return Access(
        user_id=user.id,
        is_admin=is_admin,
        team_member_ids=frozenset(team_ids),
        managed_member_ids=frozenset(managed_ids),
        default_scopes=defaults,
        overrides=overrides,
    )


def _rights_sql() -> str:
    """The rights query, written once: it runs on every request, and building it with the ORM
    cost more than running it."""
    from rapport.core.models import Role, RolePermission, Team, User

    q = connection.ops.quote_name
    role, perm, team, user = (m._meta.db_table for m in (Role, RolePermission, Team, User))
    through = User.roles.through._meta.db_table
    scopes = ", ".join(f"r.{q(f'{action}_scope')}" for action in Action.values)
    nulls = ", ".join(["NULL"] * len(Action.values))
    # Only quoted table and column names from the models go into the text; values are parameters.
    return (
        f"SELECT 'role', r.{q('id')}, r.{q('is_admin')}, {scopes}, p.{q('record_type')}, p.{q('action')}, "  # noqa: S608
        f"p.{q('scope')}, NULL, NULL FROM {q(role)} r JOIN {q(through)} ur ON ur.{q('role_id')} = r.{q('id')} "
        f"LEFT JOIN {q(perm)} p ON p.{q('role_id')} = r.{q('id')} WHERE ur.{q('user_id')} = %s "
        f"UNION ALL "
        f"SELECT 'user', u.{q('id')}, NULL, {nulls}, NULL, NULL, NULL, u.{q('team_id')}, t.{q('manager_id')} "
        f"FROM {q(user)} u JOIN {q(team)} t ON t.{q('id')} = u.{q('team_id')} "
        f"WHERE t.{q('manager_id')} = %s OR u.{q('team_id')} = %s"
    )


def _rights_rows(user: User) -> list[tuple[Any, ...]]:
    """The user's roles with their overrides, and the colleagues their team rights reach: one query."""
    sql = _RIGHTS_SQL.get(connection.vendor)
    if sql is None:
        sql = _RIGHTS_SQL[connection.vendor] = _rights_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.id, user.id, user.team_id])
        return cursor.fetchall()


_RIGHTS_SQL: dict[str, str] = {}


def visibility_q(user: Any, record_type: str, *, owner_field: str = "owner_id") -> Q | None:
    """The filter for records of a type that a user may read; None means "all", Q(pk__in=[]) nothing."""
    access = access_for(user)
    scope = access.scope(record_type, Action.READ)
    if scope == Scope.NONE:
        return Q(pk__in=[])
    if access.is_admin:
        return None
    seen = Q(**{owner_field: access.user_id}) | Q(visibility=Visibility.EVERYONE)
    if access.team_member_ids:
        seen |= Q(visibility=Visibility.TEAM, **{f"{owner_field}__in": access.team_member_ids})
    if access.managed_member_ids:
        seen |= Q(**{f"{owner_field}__in": access.managed_member_ids})
    if scope == Scope.OWN:
        return seen & Q(**{owner_field: access.user_id})
    if scope == Scope.TEAM:
        return seen & Q(**{f"{owner_field}__in": access.reach_ids()})
    return seen


def record_visible(user: Any, record: Any) -> bool:
    """Whether a record already loaded (say, through select_related) is visible to the user.

    The same rule as visibility_q, evaluated in Python so that showing a linked
    record's name costs no query. tests/core/test_visibility_predicate.py keeps
    the two in step.
    """
    if record is None or getattr(record, "deleted_at", None) is not None:
        return False
    access = access_for(user)
    scope = access.scope(record.record_type, Action.READ)
    if scope == Scope.NONE:
        return False
    if access.is_admin:
        return True
    owner_id = record.owner_id
    seen = (
        owner_id == access.user_id
        or record.visibility == Visibility.EVERYONE
        or (record.visibility == Visibility.TEAM and owner_id in access.team_member_ids)
        or owner_id in access.managed_member_ids
    )
    if scope == Scope.OWN:
        seen = seen and owner_id == access.user_id
    elif scope == Scope.TEAM:
        seen = seen and owner_id in access.reach_ids()
    # A record type's own extra rule (a support item's assignee), as its queryset's visible_to adds it.
    return seen or record.shared_with(access.user_id)


def _record_type(model: type[models.Model]) -> str:
    return str(getattr(model, "record_type", ""))


class VisibleQuerySet(models.QuerySet):
    """The queryset of every business record: `visible_to(user)` is the only way in."""

    def alive(self) -> VisibleQuerySet:
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user: Any) -> VisibleQuerySet:
        condition = visibility_q(user, _record_type(self.model))
        qs = self.alive()
        return qs if condition is None else qs.filter(condition)

    def deleted_visible_to(self, user: Any) -> VisibleQuerySet:
        """Soft-deleted records the user could see, for restoring them."""
        condition = visibility_q(user, _record_type(self.model))
        qs = self.filter(deleted_at__isnull=False)
        return qs if condition is None else qs.filter(condition)


def access_record(
    user: Any,
    model: type[RecordT],
    public_id: str,
    action: str = Action.READ,
    *,
    queryset: models.QuerySet | None = None,
    deleted: bool = False,
) -> RecordT:
    """Fetch one record for a user: 404 if they may not see it, 403 if they may not do `action` to it."""
    base: Any = queryset if queryset is not None else model._default_manager.all()
    qs = base.deleted_visible_to(user) if deleted else base.visible_to(user)
    try:
        record = qs.get(public_id=public_id)
    except (model.DoesNotExist, ValueError):
        raise Http404 from None
    if action != Action.READ:
        require(user, model.record_type, action, owner_id=record.owner_id)
    return record


def require(user: Any, record_type: str, action: str, *, owner_id: int | None = None) -> None:
    """Raise PermissionDenied unless the user may do `action` (to a record owned by owner_id, if given)."""
    access = access_for(user)
    if owner_id is None:
        allowed = access.can(record_type, action)
    else:
        allowed = access.covers_owner(record_type, action, owner_id)
    if not allowed:
        raise PermissionDenied(f"You may not {action} this {record_type}.")


def can(user: Any, record_type: str, action: str, record: BusinessRecord | None = None) -> bool:
    """For templates and menus: whether a button should be offered."""
    access = access_for(user)
    if record is None:
        return access.can(record_type, action)
    return access.covers_owner(record_type, action, record.owner_id)
