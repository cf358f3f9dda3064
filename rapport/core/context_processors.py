"""Template context shared by every page: the navigation the user may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rapport.core.access import access_for
from rapport.core.models import Action

# (url name, label, record type the user needs read access to, or None)
NAVIGATION = [
    ("account_list", _("Accounts"), "account"),
    ("contact_list", _("Contacts"), "contact"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "is_admin": False}
    access = access_for(user)
    items = [
        {"url": reverse(name), "label": label, "active": request.path.startswith(reverse(name))}
        for name, label, record_type in NAVIGATION
        if record_type is None or access.can(record_type, Action.READ)
    ]
    return {"nav_items": items, "is_admin": access.is_admin}
