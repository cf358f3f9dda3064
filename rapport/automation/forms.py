"""Forms of the automation pages. They parse what a person typed; the services decide what is allowed
(rule_save names every mistake by its field, and the page shows it there)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.automation import selectors
from rapport.automation.models import AssignTo, InactivityOf, Rule, TaskDefinition, Trigger
from rapport.automation.services import WATCHED, date_fields
from rapport.core.models import Team, User
from rapport.directory.models import RelationshipStage

RECORD_TYPE_LABELS = {
    "account": gettext_lazy("Account"),
    "contact": gettext_lazy("Contact"),
    "opportunity": gettext_lazy("Opportunity"),
    "order": gettext_lazy("Order"),
    "support_item": gettext_lazy("Support item"),
}

# The fields each trigger uses: the others are cleared when the rule is saved.
TRIGGER_FIELDS = {
    Trigger.CREATED: set(),
    Trigger.CHANGED: {"field", "value"},
    Trigger.INACTIVITY: {"days", "inactivity_of", "activity_kind"},
    Trigger.DATE: {"field", "days"},
    Trigger.RECURRENCE: {"rrule", "starts_on", "time_zone"},
}
CLEARED = {"field": "", "value": "", "days": None, "inactivity_of": "", "activity_kind": None, "rrule": "",
           "starts_on": None}


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class DefinitionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    contact_message = forms.CharField(
        label=gettext_lazy("Contact: what to do first"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown on a new follow-up, and written into its task."))
    pending_message = forms.CharField(
        label=gettext_lazy("Pending: what waiting means"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=gettext_lazy("Shown while the follow-up is pending."))
    complete_message = forms.CharField(
        label=gettext_lazy("Complete: what done means"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}), help_text=gettext_lazy("Shown once it is completed."))
    instructions = forms.CharField(label=gettext_lazy("Instructions"), max_length=20000, required=False,
                                   widget=forms.Textarea(attrs={"rows": 6}))
    is_active = forms.BooleanField(label=gettext_lazy("In use (rules may name it)"), required=False, initial=True)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, definition: TaskDefinition | None = None) -> None:
        initial = None
        if definition is not None:
            initial = {name: getattr(definition, name) for name in ("name", "contact_message", "pending_message",
                                                                   "complete_message", "instructions", "is_active")}
            initial["version"] = definition.version
        super().__init__(data, initial=initial)

    def definition_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


def _pairs(text: str, *, what: str) -> dict[str, str]:
    """`name=value` lines as a dict; a line without "=" is refused, naming it."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise forms.ValidationError(_("Line %(number)d is not %(what)s=value: %(line)s")
                                        % {"number": number, "what": what, "line": line[:80]})
        pairs[name.strip()] = value.strip()
    return pairs


def _date_field_help() -> str:
    return "; ".join(f"{RECORD_TYPE_LABELS[key]}: {', '.join(date_fields(key)) or '—'}" for key in WATCHED)


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    definition = forms.ModelChoiceField(
        label=gettext_lazy("Task definition"), queryset=TaskDefinition.objects.none(), to_field_name="public_id",
        required=False, help_text=gettext_lazy("What the follow-up is: its messages and instructions."))
    trigger = forms.ChoiceField(label=gettext_lazy("When"), choices=Trigger.choices, widget=forms.RadioSelect,
                                initial=Trigger.CREATED)
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"), choices=list(RECORD_TYPE_LABELS.items()))
    # A field changes / a date
    field = forms.CharField(
        label=gettext_lazy("Field"), max_length=60, required=False,
        help_text=gettext_lazy("A field changes: the field's name, such as stage. A date: the date field."))
    value = forms.CharField(label=gettext_lazy("Changes to"), max_length=200, required=False,
                            help_text=gettext_lazy("The value it changes to, such as declining."))
    days = forms.IntegerField(
        label=gettext_lazy("Days"), required=False,
        help_text=gettext_lazy("Inactivity: days without. A date: days after it; negative, days before."))
    inactivity_of = forms.ChoiceField(label=gettext_lazy("Inactivity of"), required=False,
                                      choices=[("", "—"), *InactivityOf.choices])
    activity_kind = forms.ModelChoiceField(label=gettext_lazy("Kind of activity"), required=False,
                                           queryset=selectors.kind_choices(), to_field_name="key",
                                           help_text=gettext_lazy("For “no activity of a kind”."))
    rrule = forms.CharField(label=gettext_lazy("Schedule (RRULE)"), max_length=300, required=False,
                            help_text=gettext_lazy("Such as FREQ=MONTHLY;BYDAY=1MO (every first Monday) or "
                                                   "FREQ=WEEKLY;BYDAY=FR."))
    starts_on = forms.DateField(label=gettext_lazy("Schedule starts"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    time_zone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64, required=False, initial="UTC",
                                help_text=gettext_lazy("Such as Europe/Oslo."))
    # Condition
    condition = forms.CharField(required=False, widget=forms.HiddenInput)  # where the service's errors show
    condition_fields = forms.CharField(
        label=gettext_lazy("Fields"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One field=value a line, such as industry=Tools."))
    condition_attributes = forms.CharField(
        label=gettext_lazy("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One key=value a line, such as region=north (accounts and contacts)."))
    condition_stage = forms.ChoiceField(label=gettext_lazy("Relationship stage"), required=False,
                                        choices=[("", gettext_lazy("Any stage")), *RelationshipStage.choices])
    condition_owner_team = forms.ModelChoiceField(label=gettext_lazy("Owner's team"), required=False,
                                                  queryset=Team.objects.none(), to_field_name="public_id",
                                                  empty_label=gettext_lazy("Any team"))
    # Action
    due_in_days = forms.IntegerField(label=gettext_lazy("Due in (days)"), min_value=0, max_value=3650, initial=0)
    assign_to = forms.ChoiceField(label=gettext_lazy("Assign to"), choices=AssignTo.choices,
                                  initial=AssignTo.OWNER)
    assign_user = UserChoiceField(label=gettext_lazy("User"), required=False, queryset=User.objects.none(),
                                  to_field_name="public_id", help_text=gettext_lazy("For “a named user”."))
    assign_team = forms.ModelChoiceField(label=gettext_lazy("Team"), required=False, queryset=Team.objects.none(),
                                         to_field_name="public_id", help_text=gettext_lazy("For “a team, in turn”."))
    assign_role = forms.ModelChoiceField(label=gettext_lazy("Role"), required=False,
                                         queryset=selectors.role_choices(), to_field_name="slug",
                                         help_text=gettext_lazy("For “everyone in a role, in turn”."))
    alert_email = forms.BooleanField(label=gettext_lazy("Also alert the assignee by email"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, rule: Rule | None = None) -> None:
        super().__init__(data, initial=self._initial(rule) if rule is not None else None)
        self.fields["definition"].queryset = selectors.definition_choices(rule.definition if rule else None)
        self.fields["condition_owner_team"].queryset = selectors.team_choices()
        self.fields["assign_team"].queryset = selectors.team_choices()
        users = selectors.active_users()
        if rule is not None and rule.assign_user_id is not None:
            users = users | User.objects.filter(pk=rule.assign_user_id)
        self.fields["assign_user"].queryset = users
        date_help = _("Date fields — %s.") % _date_field_help()
        self.fields["field"].help_text = f"{self.fields['field'].help_text} {date_help}"

    @staticmethod
    def _initial(rule: Rule) -> dict[str, Any]:
        condition = rule.condition or {}
        team = Team.objects.filter(public_id=condition.get("owner_team")).first() if condition.get(
            "owner_team") else None
        return {
            "name": rule.name, "description": rule.description, "definition": rule.definition,
            "trigger": rule.trigger, "record_type": rule.record_type, "field": rule.field, "value": rule.value,
            "days": rule.days, "inactivity_of": rule.inactivity_of, "activity_kind": rule.activity_kind,
            "rrule": rule.rrule, "starts_on": rule.starts_on, "time_zone": rule.time_zone,
            "condition_fields": "\n".join(f"{k}={v}" for k, v in (condition.get("fields") or {}).items()),
            "condition_attributes": "\n".join(f"{k}={v}" for k, v in (condition.get("attributes") or {}).items()),
            "condition_stage": condition.get("stage", ""), "condition_owner_team": team,
            "due_in_days": rule.due_in_days, "assign_to": rule.assign_to, "assign_user": rule.assign_user,
            "assign_team": rule.assign_team, "assign_role": rule.assign_role, "alert_email": rule.alert_email,
            "version": rule.version,
        }

    def clean_condition_fields(self) -> dict[str, str]:
        return _pairs(self.cleaned_data.get("condition_fields") or "", what=_("field"))

    def clean_condition_attributes(self) -> dict[str, str]:
        return _pairs(self.cleaned_data.get("condition_attributes") or "", what=_("key"))

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip() or "UTC"
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("%s is not a known time zone.") % value) from None
        return value

    def condition_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        condition: dict[str, Any] = {}
        if data.get("condition_fields"):
            condition["fields"] = data["condition_fields"]
        if data.get("condition_attributes"):
            condition["attributes"] = data["condition_attributes"]
        if data.get("condition_stage"):
            condition["stage"] = data["condition_stage"]
        if data.get("condition_owner_team"):
            condition["owner_team"] = data["condition_owner_team"].public_id
        return condition

    def rule_data(self) -> dict[str, Any]:
        """What rule_save takes: the trigger's own fields, the condition as JSON, the chosen assignee only."""
        data = self.cleaned_data
        result: dict[str, Any] = {name: data[name] for name in (
            "name", "description", "definition", "trigger", "record_type", "field", "value", "days", "inactivity_of",
            "activity_kind", "rrule", "starts_on", "time_zone", "due_in_days", "assign_to", "alert_email")}
        result["inactivity_of"] = result["inactivity_of"] or ""
        used = TRIGGER_FIELDS.get(data["trigger"], set())
        for name, empty in CLEARED.items():
            if name not in used:
                result[name] = empty
        if data["trigger"] == Trigger.INACTIVITY and data.get("inactivity_of") != InactivityOf.ACTIVITY:
            result["activity_kind"] = None
        result["condition"] = self.condition_data()
        assign_to = data["assign_to"]
        result["assign_user"] = data.get("assign_user") if assign_to == AssignTo.USER else None
        result["assign_team"] = data.get("assign_team") if assign_to == AssignTo.TEAM else None
        result["assign_role"] = data.get("assign_role") if assign_to == AssignTo.ROLE else None
        if result["definition"] is None:
            result.pop("definition")  # the service names the missing definition
        return result


class StageForm(forms.Form):
    status = forms.ChoiceField(choices=[("pending", gettext_lazy("Pending")),
                                        ("completed", gettext_lazy("Completed")), ("open", gettext_lazy("Open"))])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=gettext_lazy("Pending: say what it waits for (required)."))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DashboardFilter(forms.Form):
    created_from = forms.DateField(label=gettext_lazy("Created from"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=gettext_lazy("Created until"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The range ends before it starts."))
        return data


class OverrideForm(forms.Form):
    absent = UserChoiceField(label=gettext_lazy("Who is away"), queryset=User.objects.none(),
                             to_field_name="public_id")
    starts_on = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    to_user = UserChoiceField(label=gettext_lazy("To a colleague"), required=False, queryset=User.objects.none(),
                              to_field_name="public_id",
                              help_text=gettext_lazy("Choose a colleague, or a team to spread them over."))
    to_team = forms.ModelChoiceField(label=gettext_lazy("Or spread over a team"), required=False,
                                     queryset=Team.objects.none(), to_field_name="public_id")
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)

    def __init__(self, data: Any = None, *, user: Any) -> None:
        super().__init__(data)
        self.fields["absent"].queryset = selectors.override_users(user)
        self.fields["to_user"].queryset = selectors.active_users()
        self.fields["to_team"].queryset = selectors.team_choices()
