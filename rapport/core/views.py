"""Pages of the core app: sign in and out, home. The Settings pages are in settings_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from rapport.core import services
from rapport.core.context_processors import navigation_for
from rapport.core.forms import LoginForm


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    """Sign in; after repeated failures the username is locked for a while."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        if next_url.startswith(reverse("admin:index")) and not request.user.is_staff:
            # Signed in, but the admin is not for them: going back there would loop.
            messages.error(request, _("Your account may not use the administration pages."))
            return redirect("home")
        return redirect(next_url or "home")
    form = LoginForm(request, data=request.POST or None)
    status = 200
    lockout = ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:300]
        locked_until = services.login_locked_until(username=username)
        if locked_until is not None:
            minutes = max(1, int((locked_until - timezone.now()).total_seconds() // 60) + 1)
            form = LoginForm(request, initial={"username": username})
            lockout = _("Too many failed sign-ins for this username. Try again in %(n)d minutes.") % {"n": minutes}
            status = 429
        elif form.is_valid():
            services.login_failures_clear(username=username)
            login(request, form.get_user())
            return redirect(next_url or "home")
        else:
            services.login_failure_record(username=username, ip_address=_client_ip(request))
            status = 400
    return render(request, "core/login.html", {"form": form, "next": next_url, "lockout": lockout}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The first page of the navigation the user may use (My Home, once it exists)."""
    items = navigation_for(request.user)
    return redirect(items[0]["url"] if items else "settings_index")
