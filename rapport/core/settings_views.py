"""The Settings pages. Thin: parse, call a selector or service, render.

Every signed-in user has a profile, a password and personal API tokens.
Administrators (access_for(user).is_admin) also manage users, teams and
roles; anyone else gets 403 on those pages and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from rapport.core import selectors, services
from rapport.core.access import access_for
from rapport.core.forms import PasswordForm, ProfileForm, RoleForm, TeamForm, TokenForm, UserForm
from rapport.core.models import Action, Scope
from rapport.core.pagination import keyset_page, parse_ordering
from rapport.core.record_views import posted, show_errors
from rapport.core.registry import user_link

USER_PAGE_SIZE = 50
USER_ORDERINGS = {"username": "username"}

View = Callable[..., HttpResponse]


def admin_required(view: View) -> View:
    """Sign-in first (anonymous users go to the login page), then 403 unless an administrator."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access_for(request.user).is_admin:
            raise PermissionDenied(_("Only administrators may use this page."))
        return view(request, *args, **kwargs)

    return login_required(never_cache(wrapped))






def _render(request: HttpRequest, template: str, context: dict[str, Any], *, section: str,
            status: int = 200) -> HttpResponse:
    return render(request, f"core/{template}", {"section": section, **context}, status=status)


# --- For everyone ------------------------------------------------------------------


@login_required
@never_cache
def settings_index(request: HttpRequest) -> HttpResponse:
    return _render(request, "settings_index.html", {}, section="index")


@login_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    """Your names, email and time zone."""
    # A copy of the signed-in user, so a rejected edit never shows in the page header.
    me = selectors.user_get(user=request.user, public_id=request.user.public_id)
    form = ProfileForm(posted(request), instance=me)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.user_profile_update(user=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("Your profile was saved."))
                return redirect("settings_profile")
        status = 400
    # The address for logging email, when the mail app is installed (core imports no business app).
    logging_address = user_link("logging_address", request, request.user)
    return _render(request, "settings_profile.html", {"form": form, "logging_address": logging_address},
                   section="profile", status=status)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    """Change your password; you stay signed in here, other sessions are signed out."""
    form = PasswordForm(request.user, posted(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_password_change(user=request.user,
                                                     password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                show_errors(form, exc, rename={"password": "new_password2"})
            else:
                update_session_auth_hash(request, user)
                messages.success(request, _("Your password was changed."))
                return redirect("settings_password")
        status = 400
    return _render(request, "settings_password.html", {"form": form}, section="password", status=status)


@login_required
@never_cache
def tokens(request: HttpRequest) -> HttpResponse:
    """Your personal API tokens; a new token's plaintext is in this one response and nowhere else."""
    form = TokenForm(posted(request))
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_token = services.token_create(user=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                show_errors(form, exc)
        if new_token is not None:
            form = TokenForm()
        else:
            status = 400
    return _render(request, "settings_tokens.html", {
        "form": form,
        "new_token": new_token,
        "tokens": selectors.token_list(user=request.user),
    }, section="tokens", status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    """Revoke one of your own tokens; programs using it can no longer call the API."""
    if not selectors.token_list(user=request.user).filter(prefix=prefix).exists():
        raise Http404
    token = services.token_revoke(user=request.user, prefix=prefix)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("settings_tokens")


# --- Administrators: users ------------------------------------------------------------


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    qs = selectors.user_admin_list(user=request.user, query=query)
    error = None
    page = None
    status = 200
    try:
        ordering = parse_ordering("username", USER_ORDERINGS, "username")
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=USER_PAGE_SIZE)
    except ValidationError as exc:
        error = " ".join(" ".join(msgs) for msgs in exc.message_dict.values())
        status = 400
    return _render(request, "settings_users.html", {
        "page": page,
        "users": page.items if page else [],
        "query": query,
        "error": error,
    }, section="users", status=status)


@sensitive_post_parameters("password", "password_confirm")
@admin_required
def user_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or change a user: names, team, roles, time zone, active, optional new password."""
    record = None
    if public_id is not None:
        record = selectors.user_get(user=request.user, public_id=public_id)
        if record is None:
            raise Http404
    heading = str(record) if record else ""
    form = UserForm(posted(request), instance=record)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            password = form.cleaned_data.get("password") or None
            try:
                saved = services.user_save(actor=request.user, user=record, data=form.user_data(),
                                           roles=list(form.cleaned_data["roles"]), password=password)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                if password and saved.pk == request.user.pk:
                    update_session_auth_hash(request, saved)
                if record is None:
                    messages.success(request, _("%(name)s was created.") % {"name": saved.username})
                else:
                    messages.success(request, _("%(name)s was saved.") % {"name": saved.username})
                return redirect("settings_users")
        status = 400
    return _render(request, "settings_user_form.html", {
        "form": form, "record": record, "heading": heading,
    }, section="users", status=status)


# --- Administrators: teams ------------------------------------------------------------


@admin_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_admin_list(user=request.user)
    return _render(request, "settings_teams.html", {"teams": teams}, section="teams")


@admin_required
def team_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or change a team: name, manager, members."""
    record = None
    if public_id is not None:
        record = selectors.team_get(user=request.user, public_id=public_id)
        if record is None:
            raise Http404
    heading = str(record) if record else ""
    form = TeamForm(posted(request), instance=record)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.team_save(actor=request.user, team=record, name=form.cleaned_data["name"],
                                           manager=form.cleaned_data["manager"],
                                           members=list(form.cleaned_data["members"]))
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("The team %(name)s was saved.") % {"name": saved.name})
                return redirect("settings_teams")
        status = 400
    return _render(request, "settings_team_form.html", {
        "form": form, "record": record, "heading": heading,
    }, section="teams", status=status)


# --- Administrators: roles ------------------------------------------------------------


@admin_required
def role_list(request: HttpRequest) -> HttpResponse:
    roles = selectors.role_admin_list()
    return _render(request, "settings_roles.html", {
        "roles": roles, "actions": Action.choices, "scope_none": Scope.NONE,
    }, section="roles")


@admin_required
def role_form(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Create or change a role: its default scopes and the matrix of per-record-type overrides."""
    record = None
    if slug is not None:
        record = selectors.role_get(slug=slug)
        if record is None:
            raise Http404
    heading = str(record) if record else ""
    form = RoleForm(posted(request), instance=record)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.role_save(actor=request.user, role=record, data=form.role_data(),
                                           overrides=form.overrides())
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("The role %(name)s was saved.") % {"name": saved.name})
                return redirect("settings_roles")
        status = 400
    return _render(request, "settings_role_form.html", {
        "form": form, "record": record, "heading": heading,
    }, section="roles", status=status)
