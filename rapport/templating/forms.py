"""Forms of the template pages: the template itself, the preview's contact, serial letters. They
validate input; services write (and check the merge fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rapport.directory.forms import ContactLookupField, RecordForm
from rapport.directory.selectors import contact_choices
from rapport.templating import selectors
from rapport.templating.models import Template, TemplateKind

# Ad-hoc recipients picked one by one on the serial-letters page (a list holds more).
MAX_AD_HOC = 200


class TemplateForm(RecordForm):
    """A template: name, kind, subject and text with merge fields, owner and visibility."""

    class Meta:
        model = Template
        fields = ["name", "kind", "description", "subject", "body", "owner", "visibility"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
            "subject": forms.TextInput(attrs={"spellcheck": "true"}),
        }
        help_texts = {
            "subject": _("Email: the subject line (required). Letter: an optional line in bold above the text. "
                         "Merge fields allowed."),
            "body": _("Merge fields look like {{ contact.first_name }}: pick them from the Merge fields list."),
        }

    def __init__(self, *args: Any, user: Any, instance: Template | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, instance=instance, **kwargs)
        self.fields["kind"].widget = forms.RadioSelect(choices=TemplateKind.choices)
        self.fields["body"].strip = False


class PreviewForm(forms.Form):
    """Which contact the preview shows the template for."""

    contact = ContactLookupField(label=_("Preview for"))

    def __init__(self, *args: Any, user: Any, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = contact_choices(user=user)
        field.widget.choices = [("", "—")] + ([(current.public_id, current.full_name)] if current else [])
        self.initial["contact"] = current.public_id if current else ""


class SerialLettersForm(forms.Form):
    """Who gets a letter (a distribution list, or contacts picked one by one) and in which format."""

    LIST, CONTACTS = "list", "contacts"

    source = forms.ChoiceField(label=_("Recipients"), widget=forms.RadioSelect, initial=LIST,
                               choices=[(LIST, _("The members of a distribution list")),
                                        (CONTACTS, _("Contacts I pick"))])
    distribution_list = forms.CharField(label=_("Distribution list"), required=False, max_length=40,
                                        widget=forms.Select)
    contacts = forms.ModelMultipleChoiceField(label=_("Chosen contacts"), queryset=None, to_field_name="public_id",
                                              required=False, widget=forms.CheckboxSelectMultiple)
    add_contact = ContactLookupField(label=_("Add a contact"))
    format = forms.ChoiceField(label=_("Format"), widget=forms.RadioSelect, initial="pdf",
                               choices=[("pdf", _("PDF, ready to print")), ("docx", _("DOCX, to edit in a word "
                                                                                      "processor"))])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.lists = selectors.distribution_list_choices(user=user)
        self.fields["distribution_list"].widget.choices = [("", "—")] + [(lst.public_id, lst.name)
                                                                         for lst in self.lists]
        choices = contact_choices(user=user)
        self.fields["contacts"].queryset = choices
        self.fields["add_contact"].queryset = choices
        self.fields["add_contact"].widget.choices = [("", "—")]
        # The checkboxes offer only the contacts already chosen, never the whole table.
        chosen = self.data.getlist(self.add_prefix("contacts"))[: MAX_AD_HOC + 1] if self.is_bound else []
        self.chosen = list(choices.filter(public_id__in=chosen).order_by("name_key", "id")) if chosen else []
        self.fields["contacts"].widget.choices = [(c.public_id, c.full_name) for c in self.chosen]

    def clean_contacts(self) -> Any:
        contacts = self.cleaned_data.get("contacts")
        if contacts is not None and len(contacts) > MAX_AD_HOC:
            raise forms.ValidationError(_("Pick at most %(max)s contacts here; put more on a distribution list.")
                                        % {"max": MAX_AD_HOC})
        return contacts

    def with_added(self) -> list[Any]:
        """The chosen contacts and the one just added, for showing the form again."""
        added = self.cleaned_data.get("add_contact") if hasattr(self, "cleaned_data") else None
        chosen = list(self.chosen)
        if added is not None and all(c.pk != added.pk for c in chosen):
            chosen.append(added)
        self.fields["contacts"].widget.choices = [(c.public_id, c.full_name) for c in chosen]
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.data.get("action") == "add":
            return data
        if data.get("source") == self.LIST:
            public_id = data.get("distribution_list")
            if not public_id:
                self.add_error("distribution_list", _("Choose a distribution list."))
            else:
                try:
                    data["list"] = selectors.distribution_list_get(user=self.user, public_id=public_id)
                except ValidationError as exc:
                    self.add_error("distribution_list", exc.message_dict["distribution_list"])
        elif data.get("source") == self.CONTACTS and not data.get("contacts"):
            self.add_error("contacts", _("Add at least one contact."))
        return data
