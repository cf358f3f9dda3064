"""The outbox pages for administrators: every email Rapport sends, queued, sending, sent or failed.

Thin: parse, query the outbox or call a service, render. Administrators only (403 for anyone else).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.pagination import keyset_page, parse_ordering
from rapport.core.record_views import error_text
from rapport.core.settings_views import admin_required
from rapport.mail import services
from rapport.mail.models import OutboxMessage, OutboxStatus

OUTBOX_PAGE_SIZE = 50
OUTBOX_ORDERINGS = {"created": "created_at"}
RETRYABLE = (OutboxStatus.QUEUED, OutboxStatus.FAILED)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, f"mail/{template}", {"section": "outbox", "statuses": OutboxStatus.choices,
                                                  "retryable": RETRYABLE, **context}, status=status)


@admin_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    """The outbox, newest first, optionally one status only."""
    status_filter = request.GET.get("status") or ""
    qs = OutboxMessage.objects.all()
    error = None
    page = None
    code = 200
    try:
        if status_filter:
            if status_filter not in OutboxStatus.values:
                raise ValidationError({"status": [_("Unknown status %(value)s; use one of: %(names)s.")
                                                  % {"value": status_filter, "names": ", ".join(OutboxStatus.values)}]})
            qs = qs.filter(status=status_filter)
        ordering = parse_ordering("-created", OUTBOX_ORDERINGS, "-created")
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=OUTBOX_PAGE_SIZE)
    except ValidationError as exc:
        error = error_text(exc)
        code = 400
    return _render(request, "outbox_list.html", {
        "page": page, "messages_shown": page.items if page else [], "status_filter": status_filter, "error": error,
    }, status=code)


@admin_required
def outbox_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One message as it is (or was) sent: headers, text, and how delivery went."""
    message = get_object_or_404(OutboxMessage, public_id=public_id)
    return _render(request, "outbox_detail.html", {"message": message})


@login_required
@require_POST
@admin_required
def outbox_retry(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send a queued or failed message again now."""
    message = get_object_or_404(OutboxMessage, public_id=public_id)
    try:
        services.outbox_retry(actor=request.user, message=message)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The message to %(to)s is queued to be sent again.")
                         % {"to": ", ".join(message.to)})
    return redirect("outbox_detail", public_id=message.public_id)


urlpatterns: list[URLPattern] = [
    path("settings/outbox/", outbox_list, name="outbox_list"),
    path("settings/outbox/<str:public_id>/", outbox_detail, name="outbox_detail"),
    path("settings/outbox/<str:public_id>/retry/", outbox_retry, name="outbox_retry"),
]
