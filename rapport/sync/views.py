"""The "Calendar and contacts sync" settings page. Thin: parse, call a service, render.

The page shows what to type into a calendar or contact client (the server address, the username,
each collection's address), creates an app password per device and lists them for revoking. A new
password's plaintext is in the one response to the POST that made it, never in a URL or the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rapport.core.models import User
from rapport.core.record_views import posted, show_errors
from rapport.sync import services
from rapport.sync.collections import CollectionInfo, collections_for
from rapport.sync.forms import AppPasswordForm
from rapport.sync.models import AppPassword


@dataclass(frozen=True)
class CollectionRow:
    info: CollectionInfo
    url: str


def _dav_url(request: HttpRequest, path: str) -> str:
    # Where rapport/urls.py mounts Radicale, as the browser reached this site (scheme, host, port): the
    # address that works from the user's computer is the one their client needs.
    return request.build_absolute_uri(reverse("dav", kwargs={"path": path}))


def server_address(request: HttpRequest) -> str:
    """The absolute address of /dav/, from which a client discovers the user's collections."""
    return _dav_url(request, "/")


def collection_rows(request: HttpRequest, user: User) -> list[CollectionRow]:
    """Each of the user's collections with its absolute address, /dav/<username>/<name>/."""
    # reverse() quotes the username; "@" and "+" (which Django allows in one) stay as they are.
    return [CollectionRow(info=info, url=_dav_url(request, f"/{user.username}/{info.name}/"))
            for info in collections_for(user)]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def sync_settings(request: HttpRequest) -> HttpResponse:
    """The server address, the collections, the app passwords; a POST creates one and shows it once."""
    user: User = request.user  # type: ignore[assignment]
    form = AppPasswordForm(posted(request))
    new_password = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_password = services.app_password_create(user=user, device=form.cleaned_data["device"])
            except ValidationError as exc:
                show_errors(form, exc)
        if new_password is not None:
            form = AppPasswordForm()
        else:
            status = 400
            # The form is below the fold on a phone: focus brings it, and the error beside it, into view.
            form.fields["device"].widget.attrs["autofocus"] = True
    return render(request, "sync/settings_sync.html", {
        "section": "sync",
        "form": form,
        "new_password": new_password,
        "server_address": server_address(request),
        "collections": collection_rows(request, user),
        "app_passwords": AppPassword.objects.filter(user=user).order_by("-created_at", "-pk"),
    }, status=status)


@login_required
@require_POST
def app_password_revoke(request: HttpRequest, app_password_id: int) -> HttpResponse:
    """Revoke one of your own app passwords; the device using it can no longer sync."""
    try:
        app_password = services.app_password_revoke(user=request.user,  # type: ignore[arg-type]
                                                     app_password_id=app_password_id)
    except ValidationError:
        # Another user's or a made-up id: the same answer, so ids of other users' passwords stay unknown.
        raise Http404(_("No such app password.")) from None
    messages.success(request, _("The app password for “%(device)s” was revoked: that device can no longer "
                                "sync. Its copy of your calendars and contacts stays on it until you remove "
                                "the account there.") % {"device": app_password.device})
    return redirect("sync_settings")
