"""Forms of the account and contact pages. They validate input; services do the writing."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.core.models import User, Visibility
from rapport.directory.models import Account, Address, Contact
from rapport.directory.selectors import account_choices


class AccountLookupField(forms.ModelChoiceField):
    """Picks one visible account by public id; the page searches for options with htmx.

    The widget renders only the current choice, never the whole table.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Account.objects.none())
        kwargs.setdefault("to_field_name", "public_id")
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Account) -> str:
        return obj.name


class ContactLookupField(forms.ModelChoiceField):
    """Picks one visible contact by public id; the page searches for options with htmx.

    The widget renders only the current choice, never the whole table.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Contact.objects.none())
        kwargs.setdefault("to_field_name", "public_id")
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Contact) -> str:
        return obj.full_name


class RecordForm(forms.ModelForm):
    """Shared by account and contact forms: owner, visibility, version and duplicate confirmation."""

    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id", label=_("Owner"))
    # A new record is shared with everyone, as the model and the API default; the first choice would be private.
    visibility = forms.ChoiceField(choices=Visibility.choices, label=_("Visible to"), initial=Visibility.EVERYONE)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicate = forms.BooleanField(widget=forms.HiddenInput, required=False)
    lookup_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, user: Any, instance: Any = None, **kwargs: Any) -> None:
        # Validating a ModelForm writes the new values into its instance. The form gets a copy, so
        # the record a view hands to the service keeps its stored values and the change is seen.
        super().__init__(*args, instance=copy.copy(instance), **kwargs)
        self.user = user
        # Active colleagues, and the current owner even if no longer active, so that other fields can be
        # changed without first giving the record away.
        current_owner = Q(pk=self.instance.owner_id) if self.instance.pk else Q(pk__in=[])
        self.fields["owner"].queryset = User.objects.filter(Q(is_active=True) | current_owner) \
            .order_by("first_name", "username")
        self.fields["owner"].label_from_instance = lambda u: u.display_name
        # The model form's own initial values are database ids; these fields speak public ids.
        if self.instance.pk:
            self.initial["owner"] = self.instance.owner.public_id
            self.initial["version"] = self.instance.version
        else:
            self.initial["owner"] = user.public_id
        self.hidden_links: set[str] = set()
        for name in self.lookup_fields:
            field = self.fields[name]
            field.queryset = account_choices(user=user)
            current_id = getattr(self.instance, f"{name}_id", None) if self.instance.pk else None
            current = field.queryset.filter(pk=current_id).first() if current_id else None
            if current_id and current is None:
                # Linked to an account this user may not see: neither show nor clear it.
                self.hidden_links.add(name)
            bound_value = self.data.get(self.add_prefix(name)) if self.is_bound else None
            if bound_value:
                current = field.queryset.filter(public_id=bound_value).first()
            field.widget.choices = [("", "—")] + ([(current.public_id, current.name)] if current else [])
            self.initial[name] = current.public_id if current else ""

    def record_data(self) -> dict[str, Any]:
        """The cleaned values a service takes, without form-only fields."""
        return {name: value for name, value in self.cleaned_data.items()
                if name not in ("version", "confirm_duplicate")
                and not (name in self.hidden_links and value is None)}


class AccountForm(RecordForm):
    website = forms.URLField(label=_("Website"), max_length=300, required=False, assume_scheme="https",
                             widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "example.com"}))
    parent = AccountLookupField(label=_("Parent account"))
    lookup_fields = ("parent",)

    class Meta:
        model = Account
        fields = ["name", "website", "industry", "email", "phone", "secondary_phone", "stage", "parent",
                  "owner", "visibility", "remarks"]
        help_texts = {"remarks": _("Free text. Pairs like region=north or stage=mature become attributes "
                                   "you can filter on.")}


class ContactForm(RecordForm):
    account = AccountLookupField(label=_("Account"))
    lookup_fields = ("account",)

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "title", "account", "email", "secondary_email", "phone", "mobile",
                  "owner", "visibility", "remarks"]
        help_texts = {"remarks": _("Free text. Pairs like stage=mature become attributes you can filter on.")}


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["kind", "street", "postal_code", "city", "region", "country"]

    def address_data(self) -> dict[str, Any] | None:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        if self.cleaned_data.get("DELETE") or not any(data.get(k) for k in self.Meta.fields if k != "kind"):
            return None
        return data


AddressFormSet = forms.modelformset_factory(Address, form=AddressForm, extra=1, max_num=10, validate_max=True,
                                            can_delete=True)
