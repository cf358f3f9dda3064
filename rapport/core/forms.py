"""Forms of the core app: sign-in and the Settings pages. They validate input; services write."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UsernameField
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Action, Role, Scope, Team, User
from rapport.core.registry import record_types


class LoginForm(AuthenticationForm):
    username = UsernameField(label=_("Username"), max_length=150,
                             widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


# --- Settings ---------------------------------------------------------------------


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every time zone zoneinfo knows, as (name, name) for a select."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class TimeZoneField(forms.ChoiceField):
    """A time zone name from zoneinfo; anything else is refused with a clear message."""

    default_error_messages = {"invalid_choice": _("%(value)s is not a known time zone.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault("help_text", _("Dates and times are shown in this time zone."))
        super().__init__(choices=time_zone_choices, **kwargs)


class ProfileForm(forms.ModelForm):
    """A user's own names, email, time zone and the signature templates insert."""

    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "time_zone", "signature"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "signature": forms.Textarea(attrs={"rows": 4}),
        }


class PasswordForm(PasswordChangeForm):
    """Django's password change form, with autocomplete hints for password managers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].widget.attrs.update({"autocomplete": "current-password", "autofocus": False})
        self.fields["new_password1"].widget.attrs["autocomplete"] = "new-password"
        self.fields["new_password2"].widget.attrs["autocomplete"] = "new-password"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100,
        help_text=_("What will use it, such as “Laptop script” or “Reporting tool”."),
    )


class UserForm(forms.ModelForm):
    """An administrator creates or changes a user: names, team, roles, time zone, active, password."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), to_field_name="public_id", required=False, label=_("Team"),
        empty_label=_("No team"),
    )
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.order_by("name"), to_field_name="slug", required=False, label=_("Roles"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the user may do. Several roles add up; the widest right wins."),
    )
    time_zone = TimeZoneField(initial="UTC")
    password = forms.CharField(
        label=_("New password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("New password again"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "team", "time_zone", "is_active"]
        widgets = {"username": forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"})}
        help_texts = {"is_active": _("Inactive users cannot sign in, and their API tokens stop working. "
                                     "Their records stay as they are.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].label_from_instance = lambda role: (
            f"{role.name} — {role.description}" if role.description else role.name
        )
        if self.instance.pk:
            self.initial["team"] = self.instance.team.public_id if self.instance.team else None
            self.initial["roles"] = [role.slug for role in self.instance.roles.all()]
            when_empty = _("Leave empty to keep the current password.")
        else:
            when_empty = _("Leave empty to create the user without a password: they cannot sign in until one is set.")
        rules = " ".join(str(text) for text in password_validation.password_validators_help_texts())
        self.fields["password"].help_text = f"{when_empty} {rules}"

    @property
    def identity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("username", "first_name", "last_name", "email", "team", "time_zone")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password = cleaned.get("password") or ""
        if password and password != cleaned.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return cleaned

    def user_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _user_label(user: User) -> str:
    label = f"{user.display_name} ({user.username})"
    if not user.is_active:
        label += " — " + str(_("inactive"))
    return label


class TeamForm(forms.ModelForm):
    """An administrator creates or changes a team: name, manager and members."""

    manager = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False, label=_("Manager"),
        empty_label=_("No manager"), help_text=_("The manager sees and works with the team's records."),
    )
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False, label=_("Members"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A user is in one team at most: ticking someone moves them here from their team."),
    )

    class Meta:
        model = Team
        fields = ["name", "manager"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = Q(team=self.instance) if self.instance.pk else Q(pk__in=[])
        self.fields["manager"].queryset = User.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.manager_id or 0)
        ).order_by("username")
        self.fields["manager"].label_from_instance = _user_label
        self.fields["members"].queryset = (
            User.objects.filter(Q(is_active=True) | current).select_related("team").order_by("username")
        )
        self.fields["members"].label_from_instance = self._member_label
        if self.instance.pk:
            self.initial["manager"] = self.instance.manager.public_id if self.instance.manager else None
            self.initial["members"] = [u.public_id for u in self.instance.members.all()]

    def _member_label(self, user: User) -> str:
        label = _user_label(user)
        if user.team_id and user.team_id != self.instance.pk:
            label += " — " + str(_("now in %(team)s") % {"team": user.team.name})
        return label


SCOPE_CHOICES_WITH_DEFAULT = [("", _("Default")), *Scope.choices]


def override_field_name(record_type: str, action: str) -> str:
    return f"override__{record_type}__{action}"


class RoleForm(forms.ModelForm):
    """An administrator creates or changes a role: defaults per action and a matrix of overrides.

    The matrix has one select per record type and action: "Default" follows the
    role's default scope for that action; any other choice overrides it.
    """

    class Meta:
        model = Role
        fields = ["name", "slug", "description", "is_admin", "create_scope", "read_scope", "update_scope",
                  "delete_scope"]
        help_texts = {"slug": _("A short, unique key: lower-case letters, digits and hyphens, such as key-accounts.")}
        widgets = {"description": forms.TextInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current: dict[tuple[str, str], str] = {}
        if self.instance.pk:
            current = {(p.record_type, p.action): p.scope for p in self.instance.permissions.all()}
        for rt in record_types():
            for action, action_label in Action.choices:
                self.fields[override_field_name(rt.key, action)] = forms.ChoiceField(
                    choices=SCOPE_CHOICES_WITH_DEFAULT, required=False,
                    label=format_lazy("{}: {}", rt.label, action_label),
                    initial=current.get((rt.key, action), ""),
                )

    def clean_slug(self) -> str:
        return (self.cleaned_data.get("slug") or "").strip().lower()

    @property
    def default_fields(self) -> list[forms.BoundField]:
        return [self[f"{action}_scope"] for action in Action.values]

    @property
    def matrix(self) -> list[dict[str, Any]]:
        """Rows for the template: each record type with its four override selects."""
        return [
            {"label": rt.label, "key": rt.key,
             "cells": [{"action": label, "field": self[override_field_name(rt.key, action)]}
                       for action, label in Action.choices]}
            for rt in record_types()
        ]

    @property
    def actions(self) -> list[tuple[str, str]]:
        return list(Action.choices)

    def role_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def overrides(self) -> dict[tuple[str, str], str]:
        chosen: dict[tuple[str, str], str] = {}
        for rt in record_types():
            for action in Action.values:
                scope = self.cleaned_data.get(override_field_name(rt.key, action)) or ""
                if scope:
                    chosen[(rt.key, action)] = scope
        return chosen
