"""Template context shared by every page: the navigation the user may use."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from rapport.core.access import access_for
from rapport.core.models import Action
from rapport.core.pagination import counts
from rapport.core.registry import NavItem, nav_items


def navigation_for(user: Any) -> list[dict[str, Any]]:
    """The main navigation a user may use: each app registers its entries (core.registry)."""
    if user is None or not user.is_authenticated:
        return []
    access = access_for(user)
    shown = [item for item in nav_items() if item.record_type is None or access.can(item.record_type, Action.READ)]
    badges = _Badges(user, [item for item in shown if item.badge])
    return [
        {"url": reverse(item.url_name), "label": item.label, "badge_label": item.badge_label,
         "badge": SimpleLazyObject(partial(badges.count, item.url_name)) if item.badge else None}
        for item in shown
    ]


class _Badges:
    """The badges of the top bar, counted together the first time one is drawn (so not at all for an htmx
    fragment, which has no top bar)."""

    def __init__(self, user: Any, items: list[NavItem]) -> None:
        self.user = user
        self.items = items
        self.found: dict[str, int] | None = None

    def count(self, url_name: str) -> int:
        if self.found is None:
            querysets = [item.badge(self.user) for item in self.items if item.badge]
            self.found = dict(zip([item.url_name for item in self.items], counts(querysets), strict=True))
        return self.found[url_name]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = navigation_for(user)
    for item in items:
        item["active"] = request.path.startswith(item["url"])
    return {"nav_items": items, "is_admin": user is not None and access_for(user).is_admin}
