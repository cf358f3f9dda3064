"""Set-up pages: task definitions and rules (managers and administrators)."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from rapport.automation import selectors, services
from rapport.automation.forms import RECORD_TYPE_LABELS, DefinitionForm, RuleForm
from rapport.automation.models import AssignTo, InactivityOf, Rule, TaskDefinition, Trigger
from rapport.automation.views.common import manager_required, render_setup
from rapport.core.errors import StaleVersion
from rapport.core.record_views import error_text, posted, show_errors

# --- Words for a rule ------------------------------------------------------------------------------------


def describe_trigger(rule: Rule) -> str:
    """The rule's trigger in words: "An account's stage changes to declining"."""
    kind = str(RECORD_TYPE_LABELS.get(rule.record_type, rule.record_type)).lower()
    if rule.trigger == Trigger.CREATED:
        return _("A new %(kind)s is created") % {"kind": kind}
    if rule.trigger == Trigger.CHANGED:
        return _("The %(kind)s's %(field)s changes to %(value)s") % {"kind": kind, "field": rule.field,
                                                                   "value": rule.value}
    if rule.trigger == Trigger.INACTIVITY:
        if rule.inactivity_of == InactivityOf.ORDER:
            return ngettext("No order from an account for %(days)s day", "No order from an account for %(days)s days",
                            rule.days or 0) % {"days": rule.days}
        return ngettext("No %(activity)s with an account for %(days)s day",
                        "No %(activity)s with an account for %(days)s days", rule.days or 0) % {
            "activity": str(rule.activity_kind or _("activity")).lower(), "days": rule.days}
    if rule.trigger == Trigger.DATE:
        days = rule.days or 0
        if days < 0:
            return ngettext("%(days)s day before a %(kind)s's %(field)s", "%(days)s days before a %(kind)s's %(field)s",
                            -days) % {"days": -days, "kind": kind, "field": rule.field}
        if days == 0:
            return _("On a %(kind)s's %(field)s") % {"kind": kind, "field": rule.field}
        return ngettext("%(days)s day after a %(kind)s's %(field)s", "%(days)s days after a %(kind)s's %(field)s",
                        days) % {"days": days, "kind": kind, "field": rule.field}
    if rule.trigger == Trigger.RECURRENCE:
        return _("Each %(kind)s, on the schedule %(rrule)s from %(start)s") % {
            "kind": kind, "rrule": rule.rrule, "start": rule.starts_on}
    return rule.get_trigger_display()


def describe_assignee(rule: Rule) -> str:
    if rule.assign_to == AssignTo.USER and rule.assign_user is not None:
        return rule.assign_user.display_name
    if rule.assign_to == AssignTo.TEAM and rule.assign_team is not None:
        return _("%(team)s, in turn") % {"team": rule.assign_team.name}
    if rule.assign_to == AssignTo.ROLE and rule.assign_role is not None:
        return _("Everyone who is %(role)s, in turn") % {"role": rule.assign_role.name}
    return _("The record's owner")


def describe_condition(rule: Rule) -> list[str]:
    condition = rule.condition or {}
    parts = [f"{name} = {value}" for name, value in (condition.get("fields") or {}).items()]
    parts += [f"{key}={value}" for key, value in (condition.get("attributes") or {}).items()]
    if condition.get("stage"):
        parts.append(_("stage: %s") % condition["stage"])
    if condition.get("owner_team"):
        team = selectors.team_choices().filter(public_id=condition["owner_team"]).first()
        parts.append(_("owner in %s") % (team.name if team else condition["owner_team"]))
    return parts


# --- Task definitions ------------------------------------------------------------------------------------


@manager_required
@require_GET
def definition_list(request: HttpRequest) -> HttpResponse:
    return render_setup(request, "definition_list.html", {"definitions": selectors.definition_list()},
                        tab="definitions")


@manager_required
def definition_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or change a task definition; a change someone saved meanwhile is shown, not overwritten."""
    definition = selectors.definition_get(public_id) if public_id is not None else None
    form = DefinitionForm(posted(request), definition=definition)
    status = 200
    conflict: TaskDefinition | None = None
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.definition_save(
                    actor=request.user, definition=copy.copy(definition) if definition else None,
                    data=form.definition_data(), version=form.cleaned_data["version"])
            except ValidationError as exc:
                show_errors(form, exc)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
                conflict = selectors.definition_get(public_id)
                status = 409
            else:
                messages.success(request, _("The task definition %(name)s was saved.") % {"name": saved.name})
                return redirect("definition_list")
        if conflict is not None:
            # Saving again keeps what was typed here, over the saved change shown beside it.
            form.data = form.data.copy()
            form.data["version"] = str(conflict.version)
        status = status if status != 200 else 400
    return render_setup(request, "definition_form.html", {
        "form": form, "definition": definition, "conflict": conflict,
        "rule_count": definition.rules.count() if definition else 0}, tab="definitions", status=status)


@login_required
@require_POST
@manager_required
def definition_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    definition = selectors.definition_get(public_id)
    try:
        services.definition_delete(actor=request.user, definition=definition)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("definition_edit", public_id=public_id)
    messages.success(request, _("The task definition %(name)s was deleted.") % {"name": definition.name})
    return redirect("definition_list")


# --- Rules ---------------------------------------------------------------------------------------------


@manager_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    rows = [(rule, describe_trigger(rule)) for rule in selectors.rule_list()]
    return render_setup(request, "rule_list.html", {"rows": rows, "record_types": RECORD_TYPE_LABELS},
                        tab="rules")


# The service names some mistakes by model fields the form shows under another name.
RULE_ERROR_FIELDS = {"__all__": "name"}


@manager_required
def rule_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or change a rule: trigger, condition and action; every mistake is shown at its field."""
    rule = selectors.rule_get(public_id) if public_id is not None else None
    form = RuleForm(posted(request), rule=rule)
    status = 200
    conflict = False
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.rule_save(actor=request.user, rule=copy.copy(rule) if rule else None,
                                           data=form.rule_data(), version=form.cleaned_data["version"])
            except ValidationError as exc:
                show_errors(form, exc, rename=RULE_ERROR_FIELDS)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
                conflict = True
            else:
                messages.success(request, _("The rule %(name)s was saved.") % {"name": saved.name})
                return redirect("rule_detail", public_id=saved.public_id)
        status = 409 if conflict else 400
    return render_setup(request, "rule_form.html", {"form": form, "rule": rule}, tab="rules", status=status)


@manager_required
@require_GET
def rule_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    rule = selectors.rule_get(public_id)
    return render_setup(request, "rule_detail.html", {
        "rule": rule, "trigger_text": describe_trigger(rule), "assignee_text": describe_assignee(rule),
        "condition_parts": describe_condition(rule), "counts": selectors.rule_follow_up_counts(rule),
        "recent": selectors.rule_recent_follow_ups(user=request.user, rule=rule),
        "is_event": rule.trigger in (Trigger.CREATED, Trigger.CHANGED),
        "record_type_label": RECORD_TYPE_LABELS.get(rule.record_type, rule.record_type)}, tab="rules")


@manager_required
@require_GET
def rule_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """What the rule would create now: how many follow-ups, for which records (the first 20, linked)."""
    rule = selectors.rule_get(public_id)
    preview = services.rule_preview(actor=request.user, rule=rule, limit=20)
    context: dict[str, Any] = {"rule": rule, "preview": preview,
                               "is_event": rule.trigger in (Trigger.CREATED, Trigger.CHANGED),
                               "record_type_label": RECORD_TYPE_LABELS.get(rule.record_type, rule.record_type)}
    if request.htmx:
        return render(request, "automation/_rule_preview.html", context)
    return render_setup(request, "rule_preview.html", context, tab="rules")


def _switch(request: HttpRequest, public_id: str, *, active: bool) -> HttpResponse:
    rule = selectors.rule_get(public_id)
    try:
        services.rule_activate(actor=request.user, rule=rule, active=active)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if active:
            messages.success(request, _("The rule %(name)s is active.") % {"name": rule.name})
        else:
            messages.success(request, _("The rule %(name)s is inactive: it creates nothing more.")
                             % {"name": rule.name})
    return redirect("rule_detail", public_id=public_id)


@login_required
@require_POST
@manager_required
def rule_activate(request: HttpRequest, public_id: str) -> HttpResponse:
    return _switch(request, public_id, active=True)


@login_required
@require_POST
@manager_required
def rule_deactivate(request: HttpRequest, public_id: str) -> HttpResponse:
    return _switch(request, public_id, active=False)


@login_required
@require_POST
@manager_required
def rule_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    rule = selectors.rule_get(public_id)
    try:
        services.rule_delete(actor=request.user, rule=rule)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("rule_detail", public_id=public_id)
    messages.success(request, _("The rule %(name)s was deleted.") % {"name": rule.name})
    return redirect("rule_list")


urlpatterns: list[URLPattern] = [
    path("settings/automation/definitions/", definition_list, name="definition_list"),
    path("settings/automation/definitions/new/", definition_form, name="definition_new"),
    path("settings/automation/definitions/<str:public_id>/", definition_form, name="definition_edit"),
    path("settings/automation/definitions/<str:public_id>/delete/", definition_delete, name="definition_delete"),
    path("settings/automation/rules/", rule_list, name="rule_list"),
    path("settings/automation/rules/new/", rule_form, name="rule_new"),
    path("settings/automation/rules/<str:public_id>/", rule_detail, name="rule_detail"),
    path("settings/automation/rules/<str:public_id>/edit/", rule_form, name="rule_edit"),
    path("settings/automation/rules/<str:public_id>/preview/", rule_preview, name="rule_preview"),
    path("settings/automation/rules/<str:public_id>/activate/", rule_activate, name="rule_activate"),
    path("settings/automation/rules/<str:public_id>/deactivate/", rule_deactivate, name="rule_deactivate"),
    path("settings/automation/rules/<str:public_id>/delete/", rule_delete, name="rule_delete"),
]
