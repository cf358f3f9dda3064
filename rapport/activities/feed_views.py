"""The calendar feed, the Calendar settings page and the .ics import. Thin: parse, call, render.

The feed is the one page without sign-in: a calendar app cannot sign in, so the
secret in its address is the credential (services.feed_token); a wrong or
revoked address answers a bare 404 that tells nothing about why.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from rapport.activities import services
from rapport.activities.ical import feed, importer
from rapport.activities.models import Activity
from rapport.core.access import can
from rapport.core.models import Action, User

FEED_CACHE_SECONDS = 300


def calendar_feed_url(request: HttpRequest, user: User) -> str | None:
    """The absolute address of the user's feed, or None while it is turned off."""
    token = services.feed_token(user=user)
    if token is None:
        return None
    return request.build_absolute_uri(reverse("calendar_feed", args=[token]))


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponseBase:
    """The user's calendar as iCalendar, for calendar apps that subscribe to its address."""
    user = services.feed_user(token=token)
    if user is None:
        return HttpResponseNotFound(b"Not found\n", content_type="text/plain; charset=utf-8")
    data = feed.feed_load(user=user)

    def link(activity: Activity) -> str:
        return request.build_absolute_uri(reverse("activity_detail", args=[activity.public_id]))

    response = StreamingHttpResponse(feed.feed_chunks(data, link=link), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = f"private, max-age={FEED_CACHE_SECONDS}"
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(request: HttpRequest, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    return render(request, "activities/settings_calendar.html", {
        "section": "calendar",
        "feed_url": calendar_feed_url(request, request.user),  # type: ignore[arg-type]
        "can_import": can(request.user, Activity.record_type, Action.CREATE),
        "import_errors": errors or [],
        "max_size": "2 MB",
        "max_entries": f"{importer.MAX_ENTRIES:,}",
    }, status=status)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def settings_calendar(request: HttpRequest) -> HttpResponse:
    """Your feed address (make a new one, turn it off) and the .ics import form."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "regenerate":
            services.feed_regenerate(user=request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your calendar has a new address; the old one no longer works. "
                                        "Subscribe again with the new one."))
        elif action == "revoke":
            services.feed_revoke(user=request.user)  # type: ignore[arg-type]
            messages.success(request, _("Your calendar feed is off; its address no longer works."))
        else:
            return _page(request, errors=[_("Choose one of the buttons.")], status=400)
        return redirect("settings_calendar")
    return _page(request)


@login_required
@require_POST
def calendar_import(request: HttpRequest) -> HttpResponse:
    """Import an .ics file into your activities; shows what was created and updated, or every error."""
    try:
        result = importer.ics_import(actor=request.user, content=request.FILES.get("file"))  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = exc.message_dict.get("file", exc.messages) if hasattr(exc, "error_dict") else exc.messages
        return _page(request, errors=errors, status=400)
    messages.success(request, _("Import finished: %(summary)s") % {"summary": result.summary})
    for note in result.notes[:20]:
        messages.warning(request, note)
    return redirect("settings_calendar")
