"""The form of the sync settings page: naming the device an app password is for."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.sync.services import DEVICE_MAX


class AppPasswordForm(forms.Form):
    device = forms.CharField(
        label=_("Device"), max_length=DEVICE_MAX,
        help_text=_("Where you will type it, such as “Work laptop, Outlook” or “Phone”. "
                    "It helps you find the one to revoke if that device is lost."),
        # The service says the same when the name is missing; the form only answers first.
        error_messages={"required": _("Name the device, such as “Work laptop, Outlook” or “Phone”.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
