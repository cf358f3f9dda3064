"""Forms of the lead pages: the lead itself, and converting it. They validate input; services write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Visibility
from rapport.directory.forms import AccountLookupField, ContactLookupField, RecordForm
from rapport.directory.models import Account, Contact
from rapport.directory.selectors import account_choices, contact_choices
from rapport.sales.currencies import default_currency
from rapport.sales.models import Lead, LeadStatus
from rapport.sales.services import default_close_date

NEW, EXISTING = "new", "existing"


def _offer(field: forms.ModelChoiceField, current: Any) -> None:
    """Let a picker's <select> hold just the current choice (the search adds others)."""
    label = field.label_from_instance(current) if current is not None else ""
    field.widget.choices = [("", "—")] + ([(current.public_id, label)] if current is not None else [])


def _bound_or(form: forms.Form, name: str, queryset: Any, fallback: Any) -> Any:
    """The record a bound picker names (if the user may see it), else `fallback`."""
    if form.is_bound:
        value = form.data.get(form.add_prefix(name))
        return queryset.filter(public_id=value).first() if value else None
    return fallback


class LeadForm(RecordForm):
    """A lead: who, from where, how far along; and, optionally, the account or contact it is about."""

    account = AccountLookupField(label=_("Existing account"),
                                 help_text=_("If the lead is about a customer you already have."))
    contact = ContactLookupField(label=_("Existing contact"),
                                 help_text=_("If the lead is about a person you already have."))
    lookup_fields = ("account",)

    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "company", "title", "email", "phone", "source", "status",
                  "account", "contact", "owner", "visibility", "remarks"]
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "off"}),
                   "phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def __init__(self, *args: Any, user: Any, instance: Lead | None = None,
                 preselect: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        if not self.instance.pk:
            # A new form starts where the model and the API do (the base form would show the first choice).
            self.initial.setdefault("visibility", Visibility.EVERYONE)
        converted = self.instance.pk and self.instance.status == LeadStatus.CONVERTED
        if converted:
            # Only converting makes a lead converted, and nothing unmakes it.
            self.fields["status"].disabled = True
            self.fields["status"].help_text = _("Converted leads stay converted.")
        else:
            self.fields["status"].choices = [(value, label) for value, label in LeadStatus.choices
                                             if value != LeadStatus.CONVERTED]
        contact_field = self.fields["contact"]
        contact_field.queryset = contact_choices(user=user)
        current = None
        if self.instance.pk and self.instance.contact_id:
            current = contact_field.queryset.filter(pk=self.instance.contact_id).first()
            if current is None:  # linked to a contact this user may not see: neither show nor clear it
                self.hidden_links.add("contact")
        elif preselect and preselect.get("contact") is not None:
            current = preselect["contact"]
        current = _bound_or(self, "contact", contact_field.queryset, current)
        _offer(contact_field, current)
        self.initial["contact"] = current.public_id if current else ""
        if not self.instance.pk and not self.is_bound and preselect and preselect.get("account") is not None:
            account = preselect["account"]
            _offer(self.fields["account"], account)
            self.initial["account"] = account.public_id
            if account.visibility == Visibility.EVERYONE:  # a name others may not see stays out of the lead
                self.initial.setdefault("company", account.name)


class LeadConvertForm(forms.Form):
    """What a lead becomes: an account, a contact and, usually, an opportunity."""

    account_mode = forms.ChoiceField(label=_("Account"), widget=forms.RadioSelect, choices=[
        (NEW, _("Create a new account")), (EXISTING, _("Link an existing account"))])
    account = AccountLookupField(label=_("Existing account"))
    contact_mode = forms.ChoiceField(label=_("Contact"), widget=forms.RadioSelect, choices=[
        (NEW, _("Create a new contact")), (EXISTING, _("Link an existing contact"))])
    contact = ContactLookupField(label=_("Existing contact"))
    create_opportunity = forms.BooleanField(label=_("Create an opportunity"), required=False)
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False,
                                       help_text=_("Left empty: the account's name."))
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, required=False,
                                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}))
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False,
                               widget=forms.TextInput(attrs={"list": "currency-codes", "autocomplete": "off",
                                                             "autocapitalize": "characters", "size": "4"}))
    expected_close_on = forms.DateField(label=_("Expected close date"), required=False, initial=default_close_date,
                                        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, lead: Lead, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead = lead
        accounts = account_choices(user=user)
        contacts = contact_choices(user=user)
        self.fields["account"].queryset = accounts
        self.fields["contact"].queryset = contacts
        # What the lead is already about is what it converts to, unless the user picks another.
        lead_account = accounts.filter(pk=lead.account_id).first() if lead.account_id else None
        lead_contact = contacts.filter(pk=lead.contact_id).first() if lead.contact_id else None
        account = _bound_or(self, "account", accounts, lead_account)
        contact = _bound_or(self, "contact", contacts, lead_contact)
        _offer(self.fields["account"], account)
        _offer(self.fields["contact"], contact)
        if account is not None or lead.company:
            self.fields["opportunity_name"].widget.attrs["placeholder"] = account.name if account else lead.company
        if not lead.company and lead_account is None:
            self.fields["account_mode"].choices = [(EXISTING, _("Link an existing account"))]
        new_contact = lead.person_name
        if not new_contact and lead_contact is None:
            self.fields["contact_mode"].choices = [(NEW, _("No contact (the lead names no person)")),
                                                   (EXISTING, _("Link an existing contact"))]
        self.initial.update({
            "account_mode": EXISTING if lead_account is not None or not lead.company else NEW,
            "account": account.public_id if account else "",
            "contact_mode": EXISTING if lead_contact is not None else NEW,
            "contact": contact.public_id if contact else "",
            "create_opportunity": True,
            "amount": Decimal("0"),
            "currency": default_currency(),
            "version": lead.version,
        })

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("account_mode") == EXISTING and data.get("account") is None:
            self.add_error("account", _("Choose the account to link, or create a new one."))
        if data.get("contact_mode") == EXISTING and data.get("contact") is None:
            self.add_error("contact", _("Choose the contact to link, or create a new one."))
        return data

    def chosen_account(self) -> Account | None:
        return self.cleaned_data["account"] if self.cleaned_data.get("account_mode") == EXISTING else None

    def chosen_contact(self) -> Contact | None:
        return self.cleaned_data["contact"] if self.cleaned_data.get("contact_mode") == EXISTING else None

    def opportunity_data(self) -> dict[str, Any]:
        """The opportunity's fields the user gave; the service fills in the rest."""
        data: dict[str, Any] = {}
        if self.cleaned_data.get("opportunity_name"):
            data["name"] = self.cleaned_data["opportunity_name"]
        if self.cleaned_data.get("amount") is not None:
            data["amount"] = self.cleaned_data["amount"]
        if self.cleaned_data.get("currency"):
            data["currency"] = self.cleaned_data["currency"]
        if self.cleaned_data.get("expected_close_on") is not None:
            data["expected_close_on"] = self.cleaned_data["expected_close_on"]
        return data
