"""Template context shared by every page: the navigation the user may use."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from rapport.core.access import access_for
from rapport.core.models import Action
from rapport.core.registry import nav_items


def navigation_for(user: Any) -> list[dict[str, Any]]:
    """The main navigation a user may use: each app registers its entries (core.registry)."""
    if user is None or not user.is_authenticated:
        return []
    access = access_for(user)
    return [
        {"url": reverse(item.url_name), "label": item.label, "badge_label": item.badge_label,
         # Counted only when the top bar is drawn (not for htmx fragments).
         "badge": SimpleLazyObject(partial(item.badge, user)) if item.badge else None}
        for item in nav_items()
        if item.record_type is None or access.can(item.record_type, Action.READ)
    ]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = navigation_for(user)
    for item in items:
        item["active"] = request.path.startswith(item["url"])
    return {"nav_items": items, "is_admin": user is not None and access_for(user).is_admin}
