"""The delete and restore steps every record page shares: soft delete with an undo notice, and restore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from rapport.core.access import record_visible
from rapport.core.errors import StaleVersion
from rapport.core.text import int_or_none


def show_saved(request: HttpRequest, *, record: Any, detail: str, then: str, name: str | None = None) -> HttpResponse:
    """After a save, the record's page; when the save put it out of the user's sight (given to another
    owner, made private), `then` with a word on why it is not there."""
    if not record_visible(request.user, record):
        messages.info(request, _("%(name)s is now visible only to its owner and those they share it with.")
                      % {"name": name or str(record)})
        return redirect(then)
    return redirect(detail, public_id=record.public_id)


def delete_and_offer_undo(
    request: HttpRequest, *, record: Any, delete: Callable[[int | None], Any], detail: str, restore: str,
    then: str, name: str | None = None,
) -> HttpResponse:
    """Delete `record` (its service called with the posted version) and show an undo notice on `then`.

    `detail`, `restore` and `then` are URL names; someone else's change meanwhile sends the user
    back to the record's page with the reason.
    """
    name = name or str(record)
    try:
        delete(int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        messages.error(request, str(exc))
        return redirect(detail, public_id=record.public_id)
    request.session["rapport_undo"] = {"url": reverse(restore, args=[record.public_id]), "name": name}
    messages.success(request, _("%(name)s was deleted.") % {"name": name})
    return redirect(then)


def restore_and_show(
    request: HttpRequest, *, record: Any, restore: Callable[[], Any], detail: str, then: str,
    name: str | None = None,
) -> HttpResponse:
    """Restore `record` from the trash and open its page; if it changed meanwhile, say so on `then`."""
    name = name or str(record)
    try:
        restore()
    except StaleVersion as exc:
        messages.error(request, str(exc))
        return redirect(then)
    request.session.pop("rapport_undo", None)
    messages.success(request, _("%(name)s was restored.") % {"name": name})
    return redirect(detail, public_id=record.public_id)
