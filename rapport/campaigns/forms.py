"""Forms of the distribution list and campaign pages. They validate input; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.campaigns import selectors
from rapport.campaigns.models import Campaign, DistributionList, ListKind
from rapport.campaigns.services import MAX_RATE
from rapport.core.models import User, Visibility
from rapport.directory.forms import AccountLookupField, ContactLookupField, RecordForm
from rapport.directory.selectors import account_choices, contact_choices
from rapport.templating.models import Template


class DistributionListForm(RecordForm):
    """A list's name, category and kind; a dynamic list's filter, as the contact list's filters."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ListKind.choices, widget=forms.RadioSelect,
                             initial=ListKind.STATIC)
    filter_q = forms.CharField(label=_("Name or email starts with"), max_length=100, required=False)
    filter_account = AccountLookupField(label=_("Works at"))
    filter_owner = forms.ChoiceField(label=_("Contact owner"), required=False)
    filter_attrs = forms.CharField(
        label=_("Attributes"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "region:north"}),
        help_text=_("One key:value per line, as in the contacts' remarks (region:north)."))
    filter_fields = ("filter_q", "filter_account", "filter_owner", "filter_attrs")

    class Meta:
        model = DistributionList
        fields = ["name", "category", "kind", "description", "owner", "visibility"]
        help_texts = {"category": _("What the list is for, such as Newsletter or Customer relationship; account "
                                    "pages filter lists by it.")}

    def __init__(self, *args: Any, user: Any, instance: DistributionList | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        owners = User.objects.filter(is_active=True).order_by("first_name", "username")
        self.fields["filter_owner"].choices = [("", _("Anyone")), *((u.public_id, u.display_name) for u in owners)]
        criteria = dict(self.instance.criteria or {}) if self.instance.pk else {}
        if self.instance.pk:
            self.fields["kind"].disabled = True  # a list stays static or dynamic
            self.initial.update({"filter_q": criteria.get("q", ""), "filter_owner": criteria.get("owner", ""),
                                 "filter_attrs": "\n".join(criteria.get("attr", []))})
        else:
            self.initial.setdefault("visibility", Visibility.EVERYONE)
        account_field = self.fields["filter_account"]
        account_field.queryset = account_choices(user=user)
        chosen = self.data.get(self.add_prefix("filter_account")) if self.is_bound else criteria.get("account")
        current = account_field.queryset.filter(public_id=chosen).first() if chosen else None
        # A filter on an account this user may not see: neither shown nor dropped when they save.
        named = criteria.get("account")
        self.hidden_account = named if named and not account_field.queryset.filter(public_id=named).exists() else ""
        account_field.widget.choices = [("", "—")] + ([(current.public_id, current.name)] if current else [])
        self.initial["filter_account"] = current.public_id if current else ""

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        criteria: dict[str, Any] = {}
        if data.get("filter_q"):
            criteria["q"] = data["filter_q"]
        if data.get("filter_account") is not None:
            criteria["account"] = data["filter_account"].public_id
        elif self.hidden_account:
            criteria["account"] = self.hidden_account
        if data.get("filter_owner"):
            criteria["owner"] = data["filter_owner"]
        attrs = [line.strip() for line in (data.get("filter_attrs") or "").splitlines() if line.strip()]
        if attrs:
            criteria["attr"] = attrs
        return criteria

    def record_data(self) -> dict[str, Any]:
        data = {name: value for name, value in super().record_data().items() if name not in self.filter_fields}
        if self.instance.pk:
            data.pop("kind", None)
        kind = self.instance.kind if self.instance.pk else data.get("kind")
        if kind == ListKind.DYNAMIC:
            criteria = self.criteria()
            if not self.instance.pk or criteria != (self.instance.criteria or {}):
                data["criteria"] = criteria  # checked again only when it changed
        return data


class CampaignForm(RecordForm):
    distribution_list = forms.ModelChoiceField(label=_("Distribution list"), queryset=DistributionList.objects.none(),
                                               to_field_name="public_id", empty_label="—")
    template = forms.ModelChoiceField(label=_("Email template"), queryset=Template.objects.none(),
                                      to_field_name="public_id", empty_label="—",
                                      help_text=_("Put {{ unsubscribe_url }} where the unsubscribe link goes; "
                                                  "without it, a line with the link is added at the end."))
    rate_per_minute = forms.IntegerField(label=_("Messages per minute"), min_value=1, max_value=MAX_RATE,
                                         initial=60, help_text=_("How fast the campaign goes out, so that a "
                                                                 "large list does not flood the mail server."))

    class Meta:
        model = Campaign
        fields = ["name", "distribution_list", "template", "rate_per_minute", "from_email", "owner", "visibility"]

    def __init__(self, *args: Any, user: Any, instance: Campaign | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        self.fields["distribution_list"].queryset = selectors.list_choices(user=user)
        self.fields["distribution_list"].label_from_instance = _list_label
        self.fields["template"].queryset = selectors.template_choices(user=user)
        self.fields["from_email"].widget.attrs["placeholder"] = _("Sales Team <sales@example.com>")
        if self.instance.pk:
            self.initial["distribution_list"] = self.instance.distribution_list.public_id
            self.initial["template"] = self.instance.template.public_id
        else:
            self.initial.setdefault("visibility", Visibility.EVERYONE)


def _list_label(obj: DistributionList) -> str:
    kind = _("dynamic") if obj.kind == ListKind.DYNAMIC else _("static")
    return f"{obj.name} ({obj.category}, {kind})" if obj.category else f"{obj.name} ({kind})"


class MemberForm(forms.Form):
    """Add one contact to a static list (the picker searches the contacts the user sees)."""

    contact = ContactLookupField(label=_("Contact"), required=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = contact_choices(user=user)
        value = self.data.get("contact") if self.is_bound else None
        current = field.queryset.filter(public_id=value).first() if value else None
        field.widget.choices = [("", "—")] + ([(current.public_id, current.full_name)] if current else [])


class AddToListForm(forms.Form):
    """On a contact's page: the static lists the user may change."""

    distribution_list = forms.ChoiceField(label=_("Add to list"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lists = {row.public_id: row for row in selectors.lists_to_add_to(user=user)}
        self.fields["distribution_list"].choices = [("", "—"), *((key, _list_label(row))
                                                                   for key, row in self.lists.items())]

    def chosen(self) -> DistributionList:
        return self.lists[self.cleaned_data["distribution_list"]]


class PreviewForm(forms.Form):
    contact = ContactLookupField(label=_("Preview for"), required=True)

    def __init__(self, *args: Any, user: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = contact_choices(user=user)
        value = self.data.get("contact") if self.is_bound else None
        current = field.queryset.filter(public_id=value).first() if value else None
        choices = [(c.public_id, c.full_name) for c in candidates]
        if current is not None and all(key != current.public_id for key, _label in choices):
            choices.insert(0, (current.public_id, current.full_name))
        field.widget.choices = [("", "—"), *choices]
