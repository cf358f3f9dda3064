"""Forms of the activity and note pages. They turn what a person types (local dates and times, a
repeat pattern) into what services take (UTC times, an RRULE); services do the writing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import Activity, ActivityKind, ActivityStatus, ActivityType, Priority
from rapport.activities.recurrence import local_datetime, normalise_rule
from rapport.activities.selectors import activity_assignees, kinds
from rapport.core.models import User, Visibility

WEEKDAYS = [("MO", _("Mon")), ("TU", _("Tue")), ("WE", _("Wed")), ("TH", _("Thu")), ("FR", _("Fri")),
            ("SA", _("Sat")), ("SU", _("Sun"))]
WEEKDAY_CODES = [code for code, _label in WEEKDAYS]
REPEATS = [("", _("Does not repeat")), ("DAILY", _("Daily")), ("WEEKLY", _("Weekly")),
           ("MONTHLY", _("Monthly")), ("YEARLY", _("Yearly"))]
ENDS = [("never", _("Never")), ("until", _("On a date")), ("count", _("After a number of times"))]
MONTHLY_BY = [("date", _("On the same date")), ("weekday", _("On the same weekday (such as the 2nd Tuesday)"))]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def build_rule(data: dict[str, Any], start_day: dt.date) -> str:
    """An RRULE from the repeat fields of the form."""
    freq = data.get("repeat") or ""
    if not freq:
        return ""
    parts = [f"FREQ={freq}"]
    if (data.get("interval") or 1) > 1:
        parts.append(f"INTERVAL={data['interval']}")
    if freq == "WEEKLY":
        days = data.get("weekdays") or [WEEKDAY_CODES[start_day.weekday()]]
        parts.append("BYDAY=" + ",".join(code for code in WEEKDAY_CODES if code in days))
    elif freq == "MONTHLY" and data.get("monthly_by") == "weekday":
        nth = (start_day.day - 1) // 7 + 1
        parts.append(f"BYDAY={-1 if nth == 5 else nth}{WEEKDAY_CODES[start_day.weekday()]}")
    if data.get("ends") == "until":
        if not data.get("until"):
            raise ValidationError({"until": _("Give the last date.")})
        if data["until"] < start_day:
            raise ValidationError({"until": _("The last date is before the start.")})
        parts.append(f"UNTIL={data['until']:%Y%m%d}")
    elif data.get("ends") == "count":
        if not data.get("count"):
            raise ValidationError({"count": _("Give how many times.")})
        parts.append(f"COUNT={data['count']}")
    return ";".join(parts)


def rule_initial(rule: str) -> dict[str, Any]:
    """The repeat fields for a stored rule, where the form can show it; else only the raw rule."""
    values = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    simple = set(values) <= {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT"}
    if not rule or not simple:
        return {"advanced_rule": rule}
    initial: dict[str, Any] = {"repeat": values["FREQ"], "interval": int(values.get("INTERVAL", "1") or 1)}
    byday = values.get("BYDAY", "")
    if values["FREQ"] == "WEEKLY":
        initial["weekdays"] = byday.split(",") if byday else []
    elif values["FREQ"] == "MONTHLY" and byday:
        initial["monthly_by"] = "weekday"
    if "UNTIL" in values:
        initial["ends"] = "until"
        try:
            initial["until"] = dt.datetime.strptime(values["UNTIL"][:8], "%Y%m%d").date()
        except ValueError:
            return {"advanced_rule": rule}
    elif "COUNT" in values:
        initial.update(ends="count", count=int(values["COUNT"]) if values["COUNT"].isdigit() else None)
    return initial


class ActivityForm(forms.Form):
    """Create or change a task or an event. Dates and times are in the user's time zone."""

    activity_type = forms.ChoiceField(label=_("Type"), choices=ActivityType.choices, widget=forms.RadioSelect)
    kind = forms.ModelChoiceField(label=_("Kind"), queryset=ActivityKind.objects.none(), to_field_name="key",
                                  empty_label=None)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=_date_input())
    start_date = forms.DateField(label=_("Starts on"), required=False, widget=_date_input())
    start_time = forms.TimeField(label=_("Start time"), required=False, widget=_time_input())
    end_date = forms.DateField(label=_("Ends on"), required=False, widget=_date_input())
    end_time = forms.TimeField(label=_("End time"), required=False, widget=_time_input())
    all_day = forms.BooleanField(label=_("All day"), required=False)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ActivityStatus.choices, initial=ActivityStatus.OPEN)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    assignees = forms.ModelMultipleChoiceField(label=_("Assigned to"), queryset=User.objects.none(),
                                               to_field_name="public_id", required=False,
                                               help_text=_("Nobody chosen: the owner."))
    attendees = forms.MultipleChoiceField(label=_("Attendees"), required=False,
                                          help_text=_("People of the account this activity regards."))
    reminder_minutes = forms.TypedChoiceField(
        label=_("Reminder"), required=False, coerce=int, empty_value=None,
        choices=[("", _("None")), (0, _("At the start")), (10, _("10 minutes before")), (30, _("30 minutes before")),
                 (60, _("1 hour before")), (1440, _("1 day before"))])
    repeat = forms.ChoiceField(label=_("Repeats"), choices=REPEATS, required=False)
    interval = forms.IntegerField(label=_("Every"), min_value=1, max_value=1000, required=False, initial=1,
                                  help_text=_("days, weeks, months or years"))
    weekdays = forms.MultipleChoiceField(label=_("On"), choices=WEEKDAYS, required=False,
                                         widget=forms.CheckboxSelectMultiple)
    monthly_by = forms.ChoiceField(label=_("Monthly"), choices=MONTHLY_BY, required=False, initial="date")
    ends = forms.ChoiceField(label=_("Ends"), choices=ENDS, required=False, initial="never")
    until = forms.DateField(label=_("Last date"), required=False, widget=_date_input())
    count = forms.IntegerField(label=_("Times"), min_value=1, max_value=5000, required=False)
    advanced_rule = forms.CharField(label=_("Repeat rule (iCalendar RRULE)"), max_length=500, required=False,
                                    help_text=_("For patterns the choices above cannot express; overrides them."))
    description = forms.CharField(label=_("Description"), max_length=20000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", label=_("Owner"))
    visibility = forms.ChoiceField(choices=Visibility.choices, label=_("Visible to"), initial=Visibility.EVERYONE)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, instance: Activity | None = None, attendee_choices: list[Any] = (),
                 **kwargs: Any) -> None:
        # Dates and times are entered and shown in the user's own time zone, whoever made the activity;
        # a recurrence keeps expanding in the zone it was made in (Activity.time_zone).
        self.time_zone = user.time_zone or "UTC"
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {**self._initial_from(instance), **initial}
        super().__init__(*args, initial=initial, **kwargs)
        self.user = user
        self.instance = instance
        current_kind = Q(pk=instance.kind_id) if instance is not None else Q(pk__in=[])
        self.fields["kind"].queryset = ActivityKind.objects.filter(Q(is_active=True) | current_kind)
        active = User.objects.filter(is_active=True)
        current_owner = Q(pk=instance.owner_id) if instance is not None else Q(pk__in=[])
        for name, qs in (("owner", User.objects.filter(Q(is_active=True) | current_owner)), ("assignees", active)):
            field = self.fields[name]
            field.queryset = qs.order_by("first_name", "username")
            field.label_from_instance = lambda u: u.display_name
        self.initial.setdefault("owner", user.public_id)
        self.initial.setdefault("kind", "todo" if self.initial.get("activity_type") != "event" else "meeting")
        self.fields["assignees"].widget.attrs["size"] = 6
        self.attendee_records = {contact.public_id: contact for contact in attendee_choices}
        self.fields["attendees"].choices = [(key, contact.full_name) for key, contact in self.attendee_records.items()]
        if not self.attendee_records:
            del self.fields["attendees"]

    def _initial_from(self, activity: Activity) -> dict[str, Any]:
        zone = zoneinfo.ZoneInfo(self.time_zone) if not activity.all_day else dt.UTC
        start = activity.starts_at.astimezone(zone)
        end = activity.ends_at.astimezone(zone)
        if activity.all_day and not activity.is_task:
            end = end - dt.timedelta(days=1)  # stored exclusive, shown as the last day
        initial = {
            "activity_type": activity.activity_type, "kind": activity.kind.key, "subject": activity.subject,
            "due_on": activity.due_on, "start_date": start.date(), "start_time": start.time(),
            "end_date": end.date(), "end_time": end.time(), "all_day": activity.all_day,
            "location": activity.location, "status": activity.status, "priority": activity.priority,
            "assignees": [user.public_id for user in activity_assignees(activities=[activity])[activity.pk]],
            "attendees": [contact.public_id for contact in activity.attendees.all()],
            "reminder_minutes": activity.reminder_minutes, "description": activity.description,
            "owner": activity.owner.public_id, "visibility": activity.visibility, "version": activity.version,
        }
        initial.update(rule_initial(activity.rrule))
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        zone = self.time_zone
        if data["activity_type"] == ActivityType.TASK:
            if not data.get("due_on"):
                self.add_error("due_on", _("A task needs a due date."))
                return data
            first_day = data["due_on"]
        else:
            if not data.get("start_date"):
                self.add_error("start_date", _("An event needs a start date."))
                return data
            first_day = data["start_date"]
            end_date = data.get("end_date") or first_day
            try:
                if data.get("all_day"):
                    data["starts_at"] = dt.datetime.combine(first_day, dt.time(0), tzinfo=dt.UTC)
                    data["ends_at"] = dt.datetime.combine(end_date, dt.time(0), tzinfo=dt.UTC) + dt.timedelta(days=1)
                else:
                    if data.get("start_time") is None:
                        self.add_error("start_time", _("Give a start time, or choose All day."))
                        return data
                    data["starts_at"] = local_datetime(first_day, data["start_time"], zone)
                    end_time = data.get("end_time")
                    if end_time is None:
                        data["ends_at"] = data["starts_at"] + dt.timedelta(hours=1)
                    else:
                        try:
                            data["ends_at"] = local_datetime(end_date, end_time, zone)
                        except ValidationError as exc:
                            raise ValidationError({"end_time": exc.message_dict["starts_at"]}) from None
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    self.add_error("start_time" if name == "starts_at" else name, messages)
                return data
            if data["ends_at"] < data["starts_at"]:
                self.add_error("end_date" if end_date < first_day else "end_time", _("The end is before the start."))
                return data
        try:
            rule = data.get("advanced_rule") or build_rule(data, first_day)
            data["rrule"] = normalise_rule(rule)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error("advanced_rule" if name == "rrule" else name, messages)
        return data

    def chosen_attendees(self) -> list[Any] | None:
        """The chosen attendees, or None when the form offers none (and so changes none)."""
        if "attendees" not in self.fields:
            return None
        return [self.attendee_records[key] for key in self.cleaned_data.get("attendees", [])]

    def activity_data(self) -> dict[str, Any]:
        """What services.activity_create / activity_update take."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            "activity_type": data["activity_type"], "kind": data["kind"], "subject": data["subject"],
            "location": data["location"], "status": data["status"], "priority": data["priority"],
            "reminder_minutes": data["reminder_minutes"], "description": data["description"],
            "owner": data["owner"], "visibility": data["visibility"], "rrule": data.get("rrule", ""),
        }
        if data["activity_type"] == ActivityType.TASK:
            values["due_on"] = data["due_on"]
        else:
            values.update(starts_at=data["starts_at"], ends_at=data["ends_at"], all_day=bool(data.get("all_day")))
            if self.instance is None:
                values["time_zone"] = self.time_zone
        return values


class QuickTaskForm(forms.Form):
    """My Home's shortcut box: a task, an event or a call in one line."""

    what = forms.ChoiceField(label=_("What"), choices=[("task", _("Task")), ("call", _("Call")),
                                                       ("event", _("Event"))])
    subject = forms.CharField(label=_("Subject"), max_length=200)
    day = forms.DateField(label=_("Date"), widget=_date_input())
    time = forms.TimeField(label=_("Time"), required=False, widget=_time_input(),
                           help_text=_("For an event; empty for all day."))


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.key, kind.label) for kind in kinds()]
