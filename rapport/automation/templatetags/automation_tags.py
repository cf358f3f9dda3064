"""Template helpers of the automation app: whether a user sets up automation (the Settings menu), and
which tasks of a list are follow-ups (one query for the whole list)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from rapport.automation import selectors
from rapport.automation.services import may_manage

register = template.Library()


@register.filter
def manages_automation(user: Any) -> bool:
    """{% if user|manages_automation %}: administrators and managers."""
    return bool(user is not None and user.is_authenticated and may_manage(user))


@register.simple_tag
def follow_ups_of(tasks: Iterable[Any]) -> dict[int, str]:
    """{% follow_ups_of tasks as follow_ups %}: task id -> its follow-up (public id, rerouted from)."""
    return selectors.follow_up_ids(task.pk for task in tasks)


@register.filter
def lookup(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag
def follow_up_of(task: Any) -> str | None:
    """{% follow_up_of activity as follow_up_id %}: the public id of the task's follow-up, if it is one."""
    mark = selectors.follow_up_ids([task.pk]).get(task.pk) if task is not None else None
    return mark.public_id if mark is not None else None
