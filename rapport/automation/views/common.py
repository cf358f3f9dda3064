"""What the automation pages share: who may set up automation, and rendering in the Settings frame."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from rapport.automation.services import may_manage

View = Callable[..., HttpResponse]


def manager_required(view: View) -> View:
    """Sign-in first, then 403 unless a manager or an administrator."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_manage(request.user):
            raise PermissionDenied(_("Only managers and administrators set up automation."))
        return view(request, *args, **kwargs)

    return login_required(never_cache(wrapped))


def render_setup(request: HttpRequest, template: str, context: dict[str, Any], *, tab: str,
                 status: int = 200) -> HttpResponse:
    """A set-up page in the Settings frame, with the automation tabs."""
    return render(request, f"automation/{template}", {"section": "automation", "tab": tab, **context},
                  status=status)
