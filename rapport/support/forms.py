"""Forms of the support pages: the item, one's private copy, and the answers to a request.

They validate input; services write. The answer forms (accept, decline, pass on) are the same on the
item's page and on the page an email link opens.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import ActivityStatus
from rapport.core.models import Visibility
from rapport.directory.forms import AccountLookupField, ContactLookupField, RecordForm
from rapport.directory.selectors import contact_choices
from rapport.sales.models import Opportunity
from rapport.sales.selectors import account_opportunity_choices
from rapport.support.models import (
    CYCLE_STATUSES,
    OPEN_SUPPORT_STATUSES,
    PrivateCopy,
    SupportItem,
    SupportStatus,
)
from rapport.support.selectors import categories

User = get_user_model()
# What users choose on the form; "new" and "assigned" are set by assigning the item.
CHOSEN_STATUSES = [(value, label) for value, label in SupportStatus.choices if value not in CYCLE_STATUSES]
REMINDERS = [("", _("None")), (0, _("On the day")), (60, _("1 hour before")), (1440, _("1 day before")),
             (2880, _("2 days before"))]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ColleagueField(forms.ModelChoiceField):
    """An active user, by public id: whom to ask to handle an item."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", User.objects.filter(is_active=True).order_by("first_name", "username"))
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class SupportItemForm(RecordForm):
    """An item's public fields; on a new item, optionally whom to ask to handle it."""

    account = AccountLookupField(label=_("Account"))
    contact = ContactLookupField(label=_("Contact"), help_text=_("Chosen alone, the contact's account is taken."))
    opportunity = forms.ModelChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none(),
                                         to_field_name="public_id", required=False, empty_label="—",
                                         help_text=_("One of the account's opportunities."))
    category = forms.ModelChoiceField(label=_("Category"), queryset=categories(), required=False, empty_label="—")
    status = forms.ChoiceField(label=_("Status"), choices=CHOSEN_STATUSES, required=False)
    assign_to = ColleagueField(label=_("Assign to"), required=False, empty_label=_("Nobody yet"),
                               help_text=_("They get a request to accept, by email and in Rapport."))
    message = forms.CharField(label=_("Message to them"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    lookup_fields = ("account",)

    class Meta:
        model = SupportItem
        fields = ["subject", "category", "priority", "status", "due_on", "account", "contact", "opportunity",
                  "visibility", "description"]
        widgets = {"due_on": _date_input(), "description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, user: Any, instance: SupportItem | None = None,
                 preselect: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        del self.fields["owner"]  # whoever opens an item owns it for good
        preselect = preselect or {}
        editing = bool(self.instance.pk)
        if editing:
            del self.fields["assign_to"], self.fields["message"]
            status = self.fields["status"]
            if self.instance.status in CYCLE_STATUSES:
                # Shown as it is; choosing another is a change, keeping it is none.
                status.choices = [(self.instance.status, self.instance.get_status_display()), *CHOSEN_STATUSES]
            elif not self.instance.is_open and self.instance.assignee_id is None:
                # Nobody holds it: it reopens as new, to be assigned.
                status.choices = [(SupportStatus.NEW, _("New (reopen)")),
                                  *[c for c in CHOSEN_STATUSES if c[0] not in OPEN_SUPPORT_STATUSES]]
            self.initial["status"] = self.instance.status
        else:
            del self.fields["status"]
            self.initial.setdefault("visibility", Visibility.EVERYONE)
            self.fields["assign_to"].queryset = self.fields["assign_to"].queryset.exclude(pk=user.pk)
        # The contact picker holds the current contact (or the preselected one) and what was searched for.
        contact_field = self.fields["contact"]
        contact_field.queryset = contact_choices(user=user)
        current = None
        if editing and self.instance.contact_id:
            current = contact_field.queryset.filter(pk=self.instance.contact_id).first()
            if current is None:
                self.hidden_links.add("contact")
        elif not editing:
            current = preselect.get("contact")
        if self.is_bound:
            value = self.data.get(self.add_prefix("contact"))
            current = contact_field.queryset.filter(public_id=value).first() if value else None
        contact_field.widget.choices = [("", "—")] + ([(current.public_id, current.full_name)] if current else [])
        self.initial["contact"] = current.public_id if current else ""
        account = preselect.get("account")
        if account is not None and not editing and not self.is_bound:
            self.fields["account"].widget.choices = [("", "—"), (account.public_id, account.name)]
            self.initial["account"] = account.public_id
        # The deals offered are the chosen account's; choosing another account offers its deals.
        chosen = None
        if self.is_bound:
            chosen = self.fields["account"].queryset.filter(
                public_id=self.data.get(self.add_prefix("account")) or "").first()
        elif editing and self.instance.account_id:
            chosen = self.fields["account"].queryset.filter(pk=self.instance.account_id).first()
        elif account is not None:
            chosen = account
        field = self.fields["opportunity"]
        field.queryset = account_opportunity_choices(user=user, account=chosen)
        field.label_from_instance = lambda deal: deal.name
        deal = preselect.get("opportunity")
        if editing and self.instance.opportunity_id:
            if not Opportunity.objects.visible_to(user).filter(pk=self.instance.opportunity_id).exists():
                self.hidden_links.add("opportunity")
            else:
                self.initial["opportunity"] = self.instance.opportunity.public_id
        elif not editing and deal is not None and not self.is_bound:
            self.initial["opportunity"] = deal.public_id
        self.fields["account"].widget.attrs.update({
            "hx-get": "?part=opportunities", "hx-trigger": "change", "hx-target": "#id_opportunity",
            "hx-push-url": "false"})
        if editing and self.instance.category_id:
            # A category no longer offered stays on the items that have it.
            self.fields["category"].queryset = categories(active_only=False).filter(
                Q(is_active=True) | Q(pk=self.instance.category_id))

    def record_data(self) -> dict[str, Any]:
        data = super().record_data()
        data.pop("assign_to", None)
        data.pop("message", None)
        if not data.get("status"):
            data.pop("status", None)
        return data


class PrivateCopyForm(forms.Form):
    """One's own copy: its task's due date, reminder and status, and notes nobody else reads."""

    due_on = forms.DateField(label=_("My due date"), required=False, widget=_date_input())
    reminder_minutes = forms.TypedChoiceField(label=_("Reminder"), required=False, coerce=int, empty_value=None,
                                              choices=REMINDERS)
    status = forms.ChoiceField(label=_("My status"), choices=ActivityStatus.choices)
    notes = forms.CharField(label=_("Private notes"), max_length=20000, required=False,
                            widget=forms.Textarea(attrs={"rows": 5}),
                            help_text=_("Only you see these notes."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, copy: PrivateCopy, **kwargs: Any) -> None:
        task = copy.task
        kwargs.setdefault("initial", {"due_on": task.due_on, "reminder_minutes": task.reminder_minutes,
                                      "status": task.status, "notes": copy.notes, "version": task.version})
        kwargs.setdefault("prefix", "copy")
        super().__init__(*args, **kwargs)

    def copy_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("reminder_minutes", "status", "notes")}
        if self.cleaned_data.get("due_on") is not None:
            data["due_on"] = self.cleaned_data["due_on"]
        return data


class AssignForm(forms.Form):
    """Whom to ask to handle the item (assign, reassign or pass on), with a word to them."""

    assignee = ColleagueField(label=_("Assign to"), empty_label=_("Choose a colleague"))
    message = forms.CharField(label=_("Message"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    request = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, exclude: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", None)
        super().__init__(*args, **kwargs)
        if exclude is not None:
            field = self.fields["assignee"]
            field.queryset = field.queryset.exclude(pk__in=[user.pk for user in exclude if user is not None])


class DeclineForm(forms.Form):
    """Declining a request takes a reason: it goes back to the owner, who needs to know why."""

    reason = forms.CharField(label=_("Why do you decline?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("Say why you decline, so the owner can find someone "
                                                           "else.")})
    request = forms.CharField(widget=forms.HiddenInput, required=False)


class AcceptForm(forms.Form):
    request = forms.CharField(widget=forms.HiddenInput, required=False)
