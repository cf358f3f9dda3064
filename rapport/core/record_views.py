"""What every record page shares: showing a service's refusal on the form, a safe `next` address,
what happens after a save, soft delete with an undo notice, and restore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from rapport.core.access import record_visible
from rapport.core.errors import StaleVersion
from rapport.core.text import int_or_none


def posted(request: HttpRequest) -> Any:
    """The posted data for a form, or None on a GET (an unbound form)."""
    return request.POST if request.method == "POST" else None


def error_text(exc: ValidationError) -> str:
    """A service's refusal as one line, for a message or a notice."""
    if hasattr(exc, "error_dict"):
        return " ".join(message for messages_ in exc.message_dict.values() for message in messages_)
    return " ".join(exc.messages)


def show_errors(form: BaseForm, exc: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: under the field it names, else above the form.

    `rename` maps a service's name to the form's; a key is looked up by its first part, so
    "types.0.children.1.name" goes where "types" goes.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        target = (rename or {}).get(name.split(".", 1)[0], name)
        form.add_error(target if target in form.fields else None, errors)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` address posted or asked for, if it stays on this site; `fallback` otherwise."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


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
    except ValidationError as exc:  # a rule of the record type refuses it (a record merged into another)
        messages.error(request, " ".join(exc.messages))
        return redirect(then)
    request.session.pop("rapport_undo", None)
    messages.success(request, _("%(name)s was restored.") % {"name": name})
    return redirect(detail, public_id=record.public_id)
