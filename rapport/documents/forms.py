"""Forms of the Files panel and the document page; the services check and store."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Visibility
from rapport.documents.selectors import folders


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or many files from one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def folder_choices() -> list[tuple[str, str]]:
    return [("", _("No folder")), *((folder.key, folder.label) for folder in folders())]


class _FolderMixin(forms.Form):
    folder = forms.ChoiceField(label=_("Folder"), required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = choices if choices is not None else folder_choices()


class UploadForm(_FolderMixin):
    """Upload one or many files onto a record."""

    files = MultipleFileField(label=_("Files"), required=False,
                              help_text=_("Choose one or more files, or drop them onto this panel."))
    description = forms.CharField(label=_("Description"), max_length=5000, required=False,
                                  widget=forms.TextInput())


class LinkForm(_FolderMixin):
    """A document kept elsewhere (a shared drive, a website)."""

    link_url = forms.CharField(label=_("Address"), max_length=1000, required=False,
                               widget=forms.URLInput(attrs={"placeholder": "https://"}))
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), max_length=5000, required=False,
                                  widget=forms.TextInput())


class DocumentForm(_FolderMixin):
    """A document's title, description and folder (and its address, for a link)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    link_url = forms.CharField(label=_("Address"), max_length=1000, required=False,
                               widget=forms.URLInput())
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Visibility.choices,
                                   help_text=_("Only those who may also see the record it is about."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["title", "description", "folder", "visibility", "link_url", "version"]

    def __init__(self, *args: Any, is_link: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_link:
            del self.fields["link_url"]


class VersionForm(forms.Form):
    file = forms.FileField(label=_("New version"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
