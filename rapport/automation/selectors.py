"""Reads of the automation app: the set-up lists, a follow-up as its holder sees it, the status dashboard
and the overrides. Every follow-up read goes through its task's `Activity.objects.visible_to(user)`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from rapport.activities.models import OPEN_STATUSES, Activity, ActivityKind
from rapport.automation.models import FollowUp, Override, OverrideMove, Rule, TaskDefinition, Trigger
from rapport.automation.services import may_manage, model_of
from rapport.core.access import access_for
from rapport.core.models import Role, Team, User
from rapport.directory.filters import day_start

CLOSED = Q(task__status__in=["completed", "cancelled"])
OPEN = Q(task__status__in=OPEN_STATUSES)


# --- Task definitions and rules ----------------------------------------------------------------------


def definition_list() -> QuerySet[TaskDefinition]:
    """Every task definition, with how many rules use it."""
    return TaskDefinition.objects.annotate(rule_count=Count("rules")).order_by("name")


def definition_get(public_id: str) -> TaskDefinition:
    return get_object_or_404(TaskDefinition, public_id=public_id)


def definition_choices(current: TaskDefinition | None = None) -> QuerySet[TaskDefinition]:
    """The definitions a rule may name: those in use, and the rule's own."""
    q = Q(is_active=True)
    if current is not None:
        q |= Q(pk=current.pk)
    return TaskDefinition.objects.filter(q).order_by("name")


def rule_list() -> QuerySet[Rule]:
    """Every rule with its definition and its follow-ups counted (open, closed), in one query."""
    return (Rule.objects.select_related("definition")
            .annotate(open_count=Count("follow_ups", filter=Q(follow_ups__task__status__in=OPEN_STATUSES,
                                                              follow_ups__task__deleted_at__isnull=True)),
                      closed_count=Count("follow_ups", filter=Q(follow_ups__task__status__in=["completed",
                                                                                              "cancelled"],
                                                                follow_ups__task__deleted_at__isnull=True)))
            .order_by("name"))


def rule_get(public_id: str) -> Rule:
    return get_object_or_404(Rule.objects.select_related("definition", "assign_user", "assign_team", "assign_role",
                                                         "activity_kind"), public_id=public_id)


def rule_follow_up_counts(rule: Rule) -> dict[str, int]:
    return FollowUp.objects.filter(rule=rule, task__deleted_at__isnull=True).aggregate(
        open=Count("pk", filter=OPEN), closed=Count("pk", filter=CLOSED))


def rule_recent_follow_ups(*, user: Any, rule: Rule, limit: int = 10) -> list[FollowUp]:
    """The rule's latest follow-ups whose task the user may see."""
    return list(FollowUp.objects.filter(rule=rule, task__in=Activity.objects.visible_to(user))
                .select_related("task", "assignee").order_by("-created_at", "-id")[:limit])


def team_choices() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


def role_choices() -> QuerySet[Role]:
    return Role.objects.order_by("name")


def kind_choices() -> QuerySet[ActivityKind]:
    return ActivityKind.objects.filter(is_active=True).order_by("position", "label")


# --- Follow-ups ------------------------------------------------------------------------------------------


def follow_up_get(*, user: Any, public_id: str) -> FollowUp:
    """A follow-up whose task the user may see; 404 otherwise."""
    follow_up = (FollowUp.objects.filter(public_id=public_id, task__in=Activity.objects.visible_to(user))
                 .select_related("rule__definition", "task__kind", "assignee", "rerouted_from", "override")
                 .first())
    if follow_up is None:
        raise Http404
    return follow_up


def follow_up_record(*, user: Any, follow_up: FollowUp) -> Any | None:
    """The record the follow-up is about, if the user may see it."""
    model = model_of(follow_up.record_type)
    manager = model._default_manager
    queryset = manager.visible_to(user) if hasattr(manager, "visible_to") else manager.none()
    return queryset.filter(pk=follow_up.record_id).first()


@dataclass(frozen=True)
class FollowUpMark:
    """What a task list shows of a task that is a follow-up: its page, and whom an override took it from."""

    public_id: str
    rerouted_from: str | None


def follow_up_ids(task_ids: Iterable[int]) -> dict[int, FollowUpMark]:
    """task id -> its follow-up, for the tasks that are follow-ups (one query for a whole list)."""
    ids = list(task_ids)
    if not ids:
        return {}
    rows = FollowUp.objects.filter(task_id__in=ids).values_list(
        "task_id", "public_id", "rerouted_from__first_name", "rerouted_from__last_name", "rerouted_from__username")
    return {task_id: FollowUpMark(public_id, (f"{first} {last}".strip() or username) if username else None)
            for task_id, public_id, first, last, username in rows}


# --- The status dashboard --------------------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: str  # "all", "team", "own"
    by_user: list[dict[str, Any]]
    by_rule: list[dict[str, Any]]
    total_open: int
    total_closed: int


def dashboard_scope(user: Any) -> tuple[str, frozenset[int] | None]:
    """Whose follow-ups the user sees counted: administrators everyone's, managers their team's, others
    their own."""
    access = access_for(user)
    if access.is_admin:
        return "all", None
    if may_manage(user):
        return "team", access.reach_ids()
    return "own", frozenset({user.pk})


def dashboard(*, user: Any, created_from: dt.date | None = None, created_to: dt.date | None = None) -> Dashboard:
    """Open and closed follow-ups per assignee and per rule: two aggregate queries, and one for names."""
    scope, user_ids = dashboard_scope(user)
    rows = FollowUp.objects.filter(task__deleted_at__isnull=True)
    if user_ids is not None:
        rows = rows.filter(assignee_id__in=user_ids)
    if created_from is not None:
        rows = rows.filter(created_at__gte=day_start(created_from))
    if created_to is not None and created_to < dt.date.max:
        rows = rows.filter(created_at__lt=day_start(created_to + dt.timedelta(days=1)))
    counts = {"open": Count("pk", filter=OPEN), "closed": Count("pk", filter=CLOSED)}
    per_user = list(rows.order_by().values("assignee_id").annotate(**counts))
    per_rule = list(rows.order_by().values("rule_id", "rule__name", "rule__trigger", "rule__public_id")
                    .annotate(**counts).order_by("rule__name"))
    names = {u.pk: u for u in User.objects.filter(pk__in=[row["assignee_id"] for row in per_user])}
    by_user = sorted(({"user": names.get(row["assignee_id"]), "open": row["open"], "closed": row["closed"]}
                      for row in per_user), key=lambda row: str(row["user"].display_name if row["user"] else ""))
    by_rule = [{"name": row["rule__name"], "public_id": row["rule__public_id"],
                "trigger": Trigger(row["rule__trigger"]).label, "open": row["open"], "closed": row["closed"]}
               for row in per_rule]
    return Dashboard(scope=scope, by_user=by_user, by_rule=by_rule,
                     total_open=sum(row["open"] for row in by_user),
                     total_closed=sum(row["closed"] for row in by_user))


# --- Overrides ---------------------------------------------------------------------------------------


def override_users(user: Any) -> QuerySet[User]:
    """The users whose follow-ups `user` may reroute: everyone for an administrator, a manager's members."""
    access = access_for(user)
    users = active_users()
    if access.is_admin:
        return users
    return users.filter(pk__in=access.managed_member_ids)


def override_list(*, user: Any, limit: int = 100) -> list[Override]:
    """The latest overrides of the users `user` may reroute, each with what it moved (two queries)."""
    rows = visible_overrides(user)
    moves = OverrideMove.objects.select_related("follow_up__task", "from_user", "to_user").order_by("id")
    return list(rows.select_related("absent", "to_user", "to_team", "created_by", "reverted_by")
                .prefetch_related(Prefetch("moves", queryset=moves))
                .order_by("-starts_on", "-id")[:limit])


def override_get(*, user: Any, public_id: str) -> Override:
    return get_object_or_404(visible_overrides(user).select_related("absent"), public_id=public_id)


# --- The API's lists (rapport/automation/api.py) ---------------------------------------------------------


def follow_up_api_list(*, user: Any) -> QuerySet[FollowUp]:
    """The follow-ups whose task the user may see, with what a list shows of each (no query per row)."""
    return (FollowUp.objects.filter(task__in=Activity.objects.visible_to(user))
            .select_related("rule__definition", "task", "assignee", "rerouted_from"))


def override_api_list(*, user: Any) -> QuerySet[Override]:
    """Administrators see every override; a manager those about the teams they manage; everyone the ones
    they are away in, receive work from (as a user, or as a member of the team), or made."""
    return (visible_overrides(user).select_related("absent", "to_user", "to_team", "created_by", "reverted_by")
            .annotate(move_count=Count("moves")))


def visible_overrides(user: Any) -> QuerySet[Override]:
    """The one rule for who sees an override, in pages and API alike: administrators every one; a manager
    those about the teams they manage; everyone the ones they are away in, receive work from (as a user,
    or as a member of the team), or made."""
    rows = Override.objects.all()
    if access_for(user).is_admin:
        return rows
    seen = Q(absent_id=user.pk) | Q(to_user_id=user.pk) | Q(created_by_id=user.pk)
    if user.team_id is not None:
        seen |= Q(to_team_id=user.team_id)
    managed = Team.objects.filter(manager_id=user.pk).values("pk")
    seen |= Q(absent__team__in=managed) | Q(to_user__team__in=managed) | Q(to_team__in=managed)
    return rows.filter(seen)
