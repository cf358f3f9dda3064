"""Reads of the core app: users, teams, roles, tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

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
