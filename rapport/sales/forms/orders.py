"""Forms of the order pages: the order and its lines. They validate input; services write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Visibility
from rapport.directory.forms import AccountLookupField, RecordForm
from rapport.sales.currencies import default_currency
from rapport.sales.models import Opportunity, Order
from rapport.sales.selectors import account_opportunity_choices
from rapport.sales.services import MAX_ORDER_LINES

LINE_FIELDS = ("product", "quantity", "unit_price", "amount")


class OrderForm(RecordForm):
    """An order's own fields; its lines are a formset beside it."""

    account = AccountLookupField(label=_("Account"))
    number = forms.CharField(label=_("Number"), max_length=40, required=False,
                             help_text=_("Left empty: the next number (ORD-…)."))
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, required=False,
                                min_value=Decimal("0"), widget=forms.NumberInput(attrs={"step": "0.01"}),
                                help_text=_("Left empty: the sum of the lines."))
    currency = forms.CharField(label=_("Currency"), max_length=3,
                               widget=forms.TextInput(attrs={"list": "currency-codes", "autocomplete": "off",
                                                             "autocapitalize": "characters"}))
    opportunity = forms.ModelChoiceField(label=_("Opportunity"), queryset=Opportunity.objects.none(),
                                         to_field_name="public_id", required=False, empty_label="—",
                                         help_text=_("One of the account's opportunities."))
    lookup_fields = ("account",)

    class Meta:
        model = Order
        fields = ["account", "number", "ordered_on", "status", "currency", "amount", "opportunity", "owner",
                  "visibility", "description"]
        widgets = {"ordered_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, user: Any, instance: Order | None = None, account: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        if not self.instance.pk:
            # A new form starts where the model and the API do (the base form would show the first choice).
            self.initial.setdefault("visibility", Visibility.EVERYONE)
            self.initial.setdefault("currency", default_currency())
        if account is not None and not self.instance.pk and not self.is_bound:
            self.fields["account"].widget.choices = [("", "—"), (account.public_id, account.name)]
            self.initial["account"] = account.public_id
        # The deals offered are those of the account the form shows (or was sent).
        chosen = self.fields["account"].queryset.filter(public_id=self.data.get(self.add_prefix("account"))).first() \
            if self.is_bound else (account if account is not None and not self.instance.pk else None)
        if chosen is None and not self.is_bound and self.instance.pk:
            chosen = self.fields["account"].queryset.filter(pk=self.instance.account_id).first()
        field = self.fields["opportunity"]
        field.queryset = account_opportunity_choices(user=user, account=chosen)
        field.label_from_instance = lambda deal: deal.name
        current_id = self.instance.opportunity_id if self.instance.pk else None
        if current_id and not Opportunity.objects.visible_to(user).filter(pk=current_id).exists():
            self.hidden_links.add("opportunity")  # neither show nor clear a deal this user may not see
        if self.instance.pk:
            self.initial["opportunity"] = self.instance.opportunity.public_id \
                if self.instance.opportunity_id and "opportunity" not in self.hidden_links else ""
        self.fields["account"].required = "account" not in self.hidden_links
        # Sugar: choosing another account offers its deals (the page asks itself for them).
        self.fields["account"].widget.attrs.update({
            "hx-get": "?part=opportunities", "hx-trigger": "change", "hx-target": "#id_opportunity",
            "hx-push-url": "false"})
        if self.instance.pk:
            self.fields["number"].help_text = ""
            if self.instance.lines.exists():
                # Left empty, the amount follows the lines as they are changed; the stored one is shown.
                self.initial["amount"] = None
                self.fields["amount"].widget.attrs["placeholder"] = f"{self.instance.amount}"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        account, deal = data.get("account"), data.get("opportunity")
        if deal is not None and account is not None and deal.account_id != account.pk:
            self.add_error("opportunity", _("This opportunity belongs to another account."))
        return data

    def validate_unique(self) -> None:
        """The service checks the number, with a message that names the order that has it."""

    def record_data(self) -> dict[str, Any]:
        data = super().record_data()
        if data.get("amount") is None:
            data.pop("amount", None)  # the service makes it the lines' sum
        if not data.get("number") and not self.instance.pk:
            data.pop("number", None)  # the service gives the next number
        return data


class OrderLineForm(forms.Form):
    """One line; an empty row is no line. The line amount, if given, must be quantity × unit price."""

    product = forms.CharField(label=_("Product"), max_length=200, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, required=False,
                                  min_value=Decimal("0"), widget=forms.NumberInput(attrs={"step": "any"}))
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=2, required=False,
                                    min_value=Decimal("0"), widget=forms.NumberInput(attrs={"step": "0.01"}))
    amount = forms.DecimalField(label=_("Line amount"), max_digits=14, decimal_places=2, required=False,
                                min_value=Decimal("0"), widget=forms.NumberInput(attrs={"step": "0.01"}))

    def line_data(self) -> dict[str, Any] | None:
        """The line as the service takes it; None for an empty or removed row."""
        if self.cleaned_data.get("DELETE"):
            return None
        values = {name: self.cleaned_data.get(name) for name in LINE_FIELDS}
        if all(value in (None, "") for value in values.values()):
            return None
        return {name: value for name, value in values.items() if value not in (None, "")}

    @property
    def computed(self) -> Decimal | None:
        """Quantity × unit price of what the row holds (as typed), to show beside it."""
        try:
            quantity = Decimal(str(self["quantity"].value()).strip())
            price = Decimal(str(self["unit_price"].value()).strip())
            return (quantity * price).quantize(Decimal("0.01"))
        except (ArithmeticError, ValueError):
            return None


OrderLineFormSet = forms.formset_factory(OrderLineForm, extra=3, can_delete=True, max_num=MAX_ORDER_LINES,
                                         validate_max=True, absolute_max=MAX_ORDER_LINES + 50)


def line_initial(order: Order | None) -> list[dict[str, Any]]:
    """The stored lines as the formset's initial rows (the line amount is shown, not asked)."""
    if order is None:
        return []
    return [{"product": line.product, "quantity": f"{line.quantity.normalize():f}", "unit_price": line.unit_price}
            for line in order.lines.all()]
