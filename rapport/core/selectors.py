"""Reads of the core app: users, teams, roles, tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from rapport.core.models import ApiToken, Role, Team, User


def user_list(*, user: Any, active_only: bool = False) -> QuerySet[User]:
    """Colleagues are visible to every signed-in user (to pick an owner or an assignee)."""
    if not getattr(user, "is_authenticated", False):
        return User.objects.none()
    qs = User.objects.select_related("team")
    return qs.filter(is_active=True) if active_only else qs


def user_choices(*, user: Any) -> list[tuple[str, str]]:
    """(public id, display name) of active colleagues, for owner and assignee pickers; one light query."""
    rows = user_list(user=user, active_only=True).order_by("first_name", "username").values_list(
        "public_id", "first_name", "last_name", "username"
    )
    return [(public_id, f"{first} {last}".strip() or username) for public_id, first, last, username in rows]


def user_get(*, user: Any, public_id: str, active_only: bool = False) -> User | None:
    return user_list(user=user, active_only=active_only).filter(public_id=public_id).first()


def team_list(*, user: Any) -> QuerySet[Team]:
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.select_related("manager")


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related("permissions")


def token_list(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def user_admin_list(*, user: Any, query: str = "") -> QuerySet[User]:
    """Users for the administrators' list, with their roles; `query` matches names, username or email."""
    qs = user_list(user=user).prefetch_related("roles")
    if query:
        qs = qs.filter(Q(username__icontains=query) | Q(first_name__icontains=query)
                       | Q(last_name__icontains=query) | Q(email__icontains=query))
    return qs


def team_admin_list(*, user: Any) -> QuerySet[Team]:
    """Teams with their manager and how many members each has."""
    return team_list(user=user).annotate(member_count=Count("members")).order_by("name")


def team_get(*, user: Any, public_id: str) -> Team | None:
    return team_list(user=user).filter(public_id=public_id).first()


def role_admin_list() -> QuerySet[Role]:
    """Roles with how many users hold each and how many overrides each has."""
    return role_list().annotate(
        user_count=Count("users", distinct=True), override_count=Count("permissions", distinct=True)
    ).order_by("name")


def role_get(*, slug: str) -> Role | None:
    return role_list().filter(slug=slug).first()


def written(getter: Any, model: type[Any], *, user: Any, record: Any) -> Any:
    """The record a user has just written, as the answer to that write (see directory.account_written):
    read again when the writer can still see it, else the written record itself."""
    try:
        return getter(user=user, public_id=record.public_id)
    except Http404:
        return model.objects.get(pk=record.pk)
