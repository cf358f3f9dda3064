"""Forms of the expense pages. They parse input; the services check the rules and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.access import record_visible
from rapport.directory.forms import AccountLookupField
from rapport.directory.models import Account
from rapport.expenses.models import DESCRIPTION_MAX, MAX_AMOUNT, REASON_MAX, Expense
from rapport.expenses.selectors import categories
from rapport.sales.currencies import default_currency
from rapport.sales.models import Opportunity
from rapport.sales.selectors import account_opportunity_choices

PROJECT_CHOICES_MAX = 200


class ExpenseForm(forms.Form):
    spent_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                                max_value=MAX_AMOUNT,
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    currency = forms.CharField(label=_("Currency"), max_length=3,
                               widget=forms.TextInput(attrs={"list": "currency-codes", "autocomplete": "off",
                                                             "autocapitalize": "characters", "size": "4"}))
    category = forms.ModelChoiceField(label=_("Category"), queryset=categories(), empty_label="—")
    description = forms.CharField(label=_("Description"), max_length=DESCRIPTION_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    billable = forms.BooleanField(label=_("Billable to the customer"), required=False)
    project = forms.ModelChoiceField(label=_("Project"), queryset=Expense.objects.none(), required=False,
                                     to_field_name="public_id", empty_label="—")
    account = AccountLookupField(label=_("Account"), help_text=_("Filled from the project or opportunity."))
    opportunity = forms.ModelChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none(), required=False,
                                         to_field_name="public_id", empty_label="—",
                                         help_text=_("One of the account's opportunities."))
    receipt = forms.FileField(label=_("Receipt"), required=False,
                              help_text=_("A photo or PDF of the receipt."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, instance: Expense | None = None, preset: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.hidden_links: set[str] = set()
        from rapport.projects.models import Project

        projects = Project.objects.visible_to(user).order_by("name_key", "id")
        self.fields["project"].queryset = projects
        self.fields["project"].label_from_instance = lambda project: project.name
        self.fields["account"].queryset = Account.objects.visible_to(user)
        preset = preset or {}
        if instance is not None:
            self.initial.update({
                "spent_on": instance.spent_on, "amount": instance.amount, "currency": instance.currency,
                "category": instance.category, "description": instance.description, "billable": instance.billable,
                "version": instance.version,
            })
            for name in ("project", "account", "opportunity"):
                linked = getattr(instance, name)
                if linked is not None and not record_visible(user, linked):
                    # Neither show nor clear a link to a record this user may not see.
                    self.hidden_links.add(name)
                    continue
                preset.setdefault(name, linked)
        else:
            self.initial.setdefault("spent_on", timezone.localdate())
            self.initial.setdefault("currency", default_currency())
        for name in ("project", "account", "opportunity"):
            if preset.get(name) is not None:
                self.initial[name] = preset[name].public_id
        account = preset.get("account")
        if self.is_bound:
            account = Account.objects.visible_to(user).filter(public_id=self.data.get("account") or "").first() \
                or account
        self._account = account
        # The lookup renders only the chosen account, never the whole table (the picker searches).
        self.fields["account"].widget.choices = [("", "—")] + ([(account.public_id, account.name)] if account else [])
        self.fields["opportunity"].queryset = account_opportunity_choices(user=user, account=account) \
            if account is not None else Opportunity.objects.visible_to(user).filter(
                pk=preset["opportunity"].pk if preset.get("opportunity") is not None else None)
        self.fields["opportunity"].label_from_instance = lambda deal: deal.name

    def record_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in ("spent_on", "amount", "currency", "category",
                                                                "description", "billable", "project", "account",
                                                                "opportunity")}
        data["description"] = data["description"] or ""
        for name in self.hidden_links:
            if data.get(name) is None:
                data.pop(name)
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))
