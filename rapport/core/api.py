"""API routes of the core app: users, teams, me."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from rapport.core import selectors
from rapport.core.access import access_for
from rapport.core.apitools import ListParams, api_page, refuse_unknown_params
from rapport.core.models import Action, Team, User
from rapport.core.registry import record_types, user_link

router = Router(tags=["users and teams"])


class TeamRef(Schema):
    id: str
    name: str


class UserOut(Schema):
    id: str
    username: str
    display_name: str
    email: str
    team: TeamRef | None
    is_active: bool

    @staticmethod
    def resolve_id(obj: User) -> str:
        return obj.public_id

    @staticmethod
    def resolve_team(obj: User) -> dict | None:
        return {"id": obj.team.public_id, "name": obj.team.name} if obj.team else None


class UserPage(Schema):
    items: list[UserOut]
    next: str | None


class TeamOut(Schema):
    id: str
    name: str
    manager: str | None

    @staticmethod
    def resolve_id(obj: Team) -> str:
        return obj.public_id

    @staticmethod
    def resolve_manager(obj: Team) -> str | None:
        return obj.manager.public_id if obj.manager else None


class TeamPage(Schema):
    items: list[TeamOut]
    next: str | None


class RoleOut(Schema):
    key: str
    name: str


class MeOut(UserOut):
    time_zone: str
    roles: list[RoleOut]
    is_admin: bool
    rights: dict[str, dict[str, str]]
    server_time: dt.datetime
    calendar_feed_url: str | None
    logging_address: str | None

    @staticmethod
    def resolve_roles(obj: User) -> list[dict[str, str]]:
        return [{"key": role.slug, "name": role.name} for role in obj.roles.all()]

    @staticmethod
    def resolve_is_admin(obj: User) -> bool:
        return access_for(obj).is_admin

    @staticmethod
    def resolve_rights(obj: User) -> dict[str, dict[str, str]]:
        access = access_for(obj)
        return {rt.key: {action: access.scope(rt.key, action) for action in Action.values} for rt in record_types()}

    @staticmethod
    def resolve_server_time(obj: User) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    @staticmethod
    def resolve_calendar_feed_url(obj: User, context: dict[str, Any]) -> str | None:
        """The secret address of the user's calendar feed (None while it is off); the app that has
        calendars registers it (core imports no business app)."""
        return user_link("calendar_feed", context["request"], obj)

    @staticmethod
    def resolve_logging_address(obj: User, context: dict[str, Any]) -> str | None:
        """The user's address for logging email by BCC or forward (the mail app registers it)."""
        return user_link("logging_address", context["request"], obj)


USER_ORDERINGS = {"username": "username", "last_name": "last_name", "date_joined": "date_joined"}
TEAM_ORDERINGS = {"name": "name", "created_at": "created_at"}


@router.get("/users", response=UserPage, summary="List users")
def list_users(request: HttpRequest, params: Query[ListParams]) -> dict:
    refuse_unknown_params(request)
    return api_page(selectors.user_list(user=request.user), params=params,
                    allowed_orderings=USER_ORDERINGS, default_ordering="username")


@router.get("/users/{user_id}", response=UserOut, summary="Get a user")
def get_user(request: HttpRequest, user_id: str) -> User:
    found = selectors.user_get(user=request.user, public_id=user_id)
    if found is None:
        raise Http404
    return found


@router.get("/teams", response=TeamPage, summary="List teams")
def list_teams(request: HttpRequest, params: Query[ListParams]) -> dict:
    refuse_unknown_params(request)
    return api_page(selectors.team_list(user=request.user), params=params,
                    allowed_orderings=TEAM_ORDERINGS, default_ordering="name")


@router.get("/teams/{team_id}", response=TeamOut, summary="Get a team")
def get_team(request: HttpRequest, team_id: str) -> Team:
    team = selectors.team_get(user=request.user, public_id=team_id)
    if team is None:
        raise Http404
    return team


@router.get("/me", response=MeOut, summary="The signed-in user, with roles, team, time zone and rights")
def me(request: HttpRequest) -> User:
    return selectors.user_list(user=request.user).prefetch_related("roles").get(pk=request.user.pk)
