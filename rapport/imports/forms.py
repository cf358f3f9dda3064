"""The forms of the import wizard: the upload, and the mapping with its options."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.core.models import Visibility
from rapport.imports.fields import Spec
from rapport.imports.models import DuplicateMode


class UploadForm(forms.Form):
    record_type = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(label=_("File"), help_text=_("CSV (any separator, any encoding), XLSX, or vCard (.vcf) "
                                                        "for contacts. The first row names the columns."))

    def __init__(self, *args: Any, types: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = types  # type: ignore[attr-defined]
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.tsv,.xlsx,.xlsm,.vcf,.vcard"


class MappingForm(forms.Form):
    """A target per column (guessed; each editable) and the options of the run."""

    duplicates = forms.ChoiceField(label=_("When a row matches an existing record"), choices=DuplicateMode.choices,
                                   widget=forms.RadioSelect, initial=DuplicateMode.SKIP)
    skip_bad_rows = forms.BooleanField(
        label=_("Skip bad rows"), required=False,
        help_text=_("Import the good rows and hand back the bad ones in a file to fix. Without this, a single bad "
                    "row stops the import and nothing is imported."))
    visibility = forms.ChoiceField(label=_("Who sees the new records"), choices=Visibility.choices,
                                   help_text=_("Unless the file has a Visibility column."))

    def __init__(self, *args: Any, spec: Spec, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —")), *[(t.key, t.label) for t in spec.targets]]
        self.columns: list[tuple[str, str]] = []
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(label=header or _("Column %d") % (index + 1), choices=choices,
                                                  required=False)
            self.columns.append((name, header))

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name, _header in self.columns]

    def column_fields(self) -> list[Any]:
        return [self[name] for name, _header in self.columns]
