"""Forms of the opportunity pages. They validate input; services do the writing."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.directory.forms import AccountLookupField, RecordForm
from rapport.directory.models import Contact
from rapport.sales.currencies import currency_choices
from rapport.sales.models import Opportunity, PipelineStage
from rapport.sales.selectors import stage_choices
from rapport.sales.services import MAX_CONTACT_ROLES, default_close_date, default_currency, first_stage


def grouped_stage_choices(stages: list[PipelineStage]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Stages as <optgroup>s, one per pipeline, in pipeline order."""
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for stage in stages:
        groups.setdefault(stage.pipeline_id, (stage.pipeline.name, []))[1].append((stage.public_id, stage.name))
    return list(groups.values())


class OpportunityForm(RecordForm):
    account = AccountLookupField(label=_("Account"))
    stage = forms.ChoiceField(label=_("Stage"))
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=Decimal("0"), max_digits=14,
                                decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}))
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)
    # Not a model field here: blank means "the stage's default", which the service fills in.
    probability = forms.IntegerField(label=_("Probability (%)"), required=False, min_value=0, max_value=100,
                                     help_text=_("Leave blank for the stage's default."))
    expected_close_on = forms.DateField(label=_("Expected close date"), initial=default_close_date,
                                        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    lookup_fields = ("account",)
    field_order = ["name", "account", "stage", "amount", "currency", "probability", "expected_close_on", "source",
                   "next_step", "outcome_reason", "owner", "visibility", "description"]

    class Meta:
        model = Opportunity
        fields = ["name", "account", "stage", "amount", "currency", "expected_close_on", "source", "next_step",
                  "outcome_reason", "owner", "visibility", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, user: Any, instance: Opportunity | None = None, account: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        current = self.instance.stage if self.instance.pk else None
        stages = list(stage_choices())
        if current is not None and all(stage.pk != current.pk for stage in stages):
            stages.append(current)  # a stage no longer used: still shown, so other fields can be edited
        self.stages = {stage.public_id: stage for stage in stages}
        self.fields["stage"].choices = grouped_stage_choices(stages)
        if current is not None:
            self.initial["stage"] = current.public_id
            self.initial["probability"] = self.instance.probability
        else:
            with contextlib.suppress(forms.ValidationError):  # no pipeline yet: the service says so on save
                self.initial["stage"] = first_stage().public_id
            self.initial["currency"] = default_currency()
            if account is not None and not self.is_bound:
                self.fields["account"].widget.choices = [("", "—"), (account.public_id, account.name)]
                self.initial["account"] = account.public_id
        if self.instance.pk and self.instance.currency not in dict(currency_choices()):
            self.fields["currency"].choices = [(self.instance.currency, self.instance.currency),
                                               *currency_choices()]

    def clean_account(self) -> Any:
        account = self.cleaned_data.get("account")
        if account is None and "account" in self.hidden_links:
            return self.instance.account  # linked to an account this user may not see: kept as it is
        if account is None:
            raise forms.ValidationError(_("Choose the account this deal is with."))
        return account

    def clean_stage(self) -> PipelineStage:
        stage = self.stages.get(self.cleaned_data.get("stage") or "")
        if stage is None:
            raise forms.ValidationError(_("Choose a stage."))
        return stage

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data.get("amount")
        return Decimal("0") if amount is None else amount

    def record_data(self) -> dict[str, Any]:
        data = super().record_data()
        probability = data.pop("probability", None)
        if probability is not None:
            data["probability"] = probability
        elif self.instance.pk and data.get("stage") is not None and data["stage"].pk == self.instance.stage_id:
            # Blank on an unchanged stage: back to that stage's default (a new stage brings its own).
            data["probability"] = data["stage"].probability
        return data


class ContactRoleForm(forms.Form):
    """One person of the deal: a contact the user may see, and their role in it."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), to_field_name="public_id",
                                     required=False)
    role = forms.CharField(label=_("Role"), max_length=100, required=False,
                           widget=forms.TextInput(attrs={"placeholder": _("Decision maker, champion…")}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = Contact.objects.visible_to(user)
        field.label_from_instance = lambda contact: contact.full_name
        # The widget offers only the current choice; the page looks others up as the user types.
        value = self.data.get(self.add_prefix("contact")) if self.is_bound else self.initial.get("contact")
        current = field.queryset.filter(public_id=value).first() if value else None
        field.widget.choices = [("", "—")] + ([(current.public_id, current.full_name)] if current else [])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("role") and data.get("contact") is None and not data.get("DELETE"):
            self.add_error("contact", _("Choose the contact who has this role."))
        return data


class BaseContactRoleFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self.forms:
            contact = form.cleaned_data.get("contact")
            if contact is None or form.cleaned_data.get("DELETE"):
                continue
            if contact.pk in seen:
                form.add_error("contact", _("%(name)s is listed twice.") % {"name": contact.full_name})
            seen.add(contact.pk)

    def contact_roles(self) -> list[tuple[Contact, str]]:
        return [(form.cleaned_data["contact"], (form.cleaned_data.get("role") or "").strip())
                for form in self.forms
                if form.cleaned_data.get("contact") is not None and not form.cleaned_data.get("DELETE")]


ContactRoleFormSet = forms.formset_factory(ContactRoleForm, formset=BaseContactRoleFormSet, extra=2,
                                           max_num=MAX_CONTACT_ROLES, validate_max=True, can_delete=True)
# Editing a deal that names people already: one empty row is enough.
MoreContactRolesFormSet = forms.formset_factory(ContactRoleForm, formset=BaseContactRoleFormSet, extra=1,
                                                max_num=MAX_CONTACT_ROLES, validate_max=True, can_delete=True)
