"""Forms of the project pages. They validate input; services do the writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.core.models import User
from rapport.directory.forms import AccountLookupField, RecordForm
from rapport.projects.models import Milestone, Project
from rapport.sales.currencies import currency_choices, default_currency
from rapport.sales.models import Opportunity

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class _UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class ProjectForm(RecordForm):
    account = AccountLookupField(label=_("Account"))
    opportunity = forms.ModelChoiceField(label=_("From opportunity"), queryset=Opportunity.objects.none(),
                                         to_field_name="public_id", required=False,
                                         help_text=_("A deal of the same account that this project delivers."))
    manager = _UserChoice(label=_("Project manager"), queryset=User.objects.none(), to_field_name="public_id")
    members = _UsersChoice(label=_("Members"), queryset=User.objects.none(), to_field_name="public_id",
                           required=False, widget=forms.SelectMultiple(attrs={"size": 6}),
                           help_text=_("They see the project and may add tasks to it. Hold Ctrl (⌘ on a Mac) to "
                                       "choose several."))
    budget = forms.DecimalField(label=_("Budget"), required=False, max_digits=14, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)
    starts_on = forms.DateField(label=_("Start date"), widget=DATE)
    due_on = forms.DateField(label=_("Due date"), widget=DATE)
    lookup_fields = ("account",)
    field_order = ["name", "account", "opportunity", "status", "starts_on", "due_on", "manager", "members",
                   "budget", "currency", "owner", "visibility", "description"]

    class Meta:
        model = Project
        fields = ["name", "account", "opportunity", "status", "starts_on", "due_on", "manager", "budget", "currency",
                  "owner", "visibility", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, user: Any, instance: Project | None = None, account: Any = None,
                 opportunity: Opportunity | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        record = self.instance if self.instance.pk else None
        self.hidden_opportunity = False
        current_members = list(record.memberships.values_list("user_id", flat=True)) if record else []
        people = User.objects.order_by("first_name", "username")
        self.fields["manager"].queryset = people.filter(Q(is_active=True) | Q(pk=getattr(record, "manager_id", None)))
        self.fields["members"].queryset = people.filter(Q(is_active=True) | Q(pk__in=current_members))
        visible_deals = Opportunity.objects.visible_to(user).select_related("account")
        self.fields["opportunity"].queryset = visible_deals
        if record is not None:
            self.initial["manager"] = record.manager.public_id
            self.initial["members"] = [u.public_id for u in User.objects.filter(pk__in=current_members)]
            if record.opportunity_id:
                shown = visible_deals.filter(pk=record.opportunity_id).first()
                self.initial["opportunity"] = shown.public_id if shown else ""
                # A deal this user may not see stays linked: neither shown nor cleared by saving the form.
                self.hidden_opportunity = shown is None
        else:
            self.initial["manager"] = user.public_id
            self.initial["currency"] = default_currency()
            if opportunity is not None:
                self.initial["opportunity"] = opportunity.public_id
                self.initial.setdefault("name", opportunity.name)
                self.initial["budget"] = opportunity.amount
                self.initial["currency"] = opportunity.currency
            if account is not None and not self.is_bound:
                self.fields["account"].widget.choices = [("", "—"), (account.public_id, account.name)]
                self.initial["account"] = account.public_id
        # The deals offered: those of the project's account (one query), and the current one.
        account_id = getattr(record, "account_id", None) or getattr(account, "pk", None)
        if self.is_bound and self.data.get(self.add_prefix("account")):
            account_id = self.fields["account"].queryset.filter(
                public_id=self.data[self.add_prefix("account")]).values_list("id", flat=True).first()
        deals = list(visible_deals.filter(account_id=account_id).order_by("name")[:100]) if account_id else []
        self.fields["opportunity"].widget.choices = [("", "—"), *[(d.public_id, d.name) for d in deals]]
        if record is not None and record.currency not in dict(currency_choices()):
            self.fields["currency"].choices = [(record.currency, record.currency), *currency_choices()]

    def clean_account(self) -> Any:
        account = self.cleaned_data.get("account")
        if account is None and "account" in self.hidden_links:
            return self.instance.account
        if account is None:
            raise forms.ValidationError(_("Choose the account this project is for."))
        return account

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        starts_on, due_on = cleaned.get("starts_on"), cleaned.get("due_on")
        if starts_on and due_on and due_on < starts_on:
            self.add_error("due_on", _("The due date is before the start date."))
        return cleaned

    def clean_budget(self) -> Decimal:
        budget = self.cleaned_data.get("budget")
        return budget if budget is not None else Decimal("0")

    def record_data(self) -> dict[str, Any]:
        data = super().record_data()
        data.pop("members", None)
        if self.hidden_opportunity and data.get("opportunity") is None:
            data.pop("opportunity", None)
        return data


class MilestoneForm(forms.Form):
    name = forms.CharField(label=_("Milestone name"), max_length=200)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE)


class TaskForm(forms.Form):
    subject = forms.CharField(label=_("Task"), max_length=200)
    milestone = forms.ChoiceField(label=_("Milestone"), required=False)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE,
                             help_text=_("Default: the milestone's due date, else the project's."))
    assignee = _UserChoice(label=_("Assigned to"), queryset=User.objects.none(), to_field_name="public_id",
                           required=False, empty_label=_("The project manager"))

    def __init__(self, *args: Any, milestones: list[Milestone], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [("", _("No milestone")), *[(m.public_id, m.name) for m in milestones]]
        self.fields["assignee"].queryset = User.objects.filter(is_active=True).order_by("first_name", "username")
