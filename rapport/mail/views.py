"""The outbox pages for administrators (every email Rapport sends, queued, sending, sent or failed), and the
pages of logged email (the list, a message's page, filing, My Home's pending panel, downloads).

Thin: parse, query or call a service, render. The outbox is for administrators only (403 for anyone else).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rapport.core.access import can
from rapport.core.errors import Conflict, PossibleDuplicate, StaleVersion
from rapport.core.files import download, download_name
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.pagination import keyset_page, parse_ordering
from rapport.core.record_views import error_text, safe_next
from rapport.core.settings_views import admin_required
from rapport.core.text import int_or_none
from rapport.directory.forms import AccountLookupField
from rapport.directory.selectors import account_choices
from rapport.mail import selectors, services
from rapport.mail.models import EmailAttachment, EmailMessage, EmailStatus, OutboxMessage, OutboxStatus

OUTBOX_PAGE_SIZE = 50
OUTBOX_ORDERINGS = {"created": "created_at"}
RETRYABLE = (OutboxStatus.QUEUED, OutboxStatus.FAILED)


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, f"mail/{template}", {"section": "outbox", "statuses": OutboxStatus.choices,
                                                  "retryable": RETRYABLE, **context}, status=status)


@admin_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    """The outbox, newest first, optionally one status only."""
    status_filter = request.GET.get("status") or ""
    qs = OutboxMessage.objects.all()
    error = None
    page = None
    code = 200
    try:
        if status_filter:
            if status_filter not in OutboxStatus.values:
                raise ValidationError({"status": [_("Unknown status %(value)s; use one of: %(names)s.")
                                                  % {"value": status_filter, "names": ", ".join(OutboxStatus.values)}]})
            qs = qs.filter(status=status_filter)
        ordering = parse_ordering("-created", OUTBOX_ORDERINGS, "-created")
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=OUTBOX_PAGE_SIZE)
    except ValidationError as exc:
        error = error_text(exc)
        code = 400
    return _render(request, "outbox_list.html", {
        "page": page, "messages_shown": page.items if page else [], "status_filter": status_filter, "error": error,
    }, status=code)


@admin_required
def outbox_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One message as it is (or was) sent: headers, text, and how delivery went."""
    message = get_object_or_404(OutboxMessage, public_id=public_id)
    return _render(request, "outbox_detail.html", {"message": message})


@login_required
@require_POST
@admin_required
def outbox_retry(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send a queued or failed message again now."""
    message = get_object_or_404(OutboxMessage, public_id=public_id)
    try:
        services.outbox_retry(actor=request.user, message=message)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The message to %(to)s is queued to be sent again.")
                         % {"to": ", ".join(message.to)})
    return redirect("outbox_detail", public_id=message.public_id)


urlpatterns: list[URLPattern] = [
    path("settings/outbox/", outbox_list, name="outbox_list"),
    path("settings/outbox/<str:public_id>/", outbox_detail, name="outbox_detail"),
    path("settings/outbox/<str:public_id>/retry/", outbox_retry, name="outbox_retry"),
]


# --- Logged email: the list, a message's page, filing, the pending panel of My Home, downloads ----------
#
# Who may see a message is its owner's and visibility's rule (visible_to); who may file, discard or make a
# contact of it, the update right on its owner's records. Downloads look the message up again on every
# request and are always served as attachments, never inline.

EMAIL = EmailMessage.record_type
EMAIL_VIEW_LABELS = {"pending": gettext_lazy("Pending (mine)"), "all": gettext_lazy("All I may see")}
# Types a browser may be told a download is; anything else is application/octet-stream.
# The sanitised HTML of a message is shown in a sandboxed frame (no scripts, no same origin) whose own policy
# loads nothing from the network either: no tracking pixel tells a sender the message was read.
HTML_FRAME_HEAD = ('<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
                   "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:\">"
                   '<meta name="referrer" content="no-referrer"><base target="_blank">'
                   "<style>body{font:15px/1.5 system-ui,sans-serif;margin:.75rem;color:#1d2430;"
                   "overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>")


def _email_tabs(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    return [{"url": f"?view={view}", "label": str(label), "current": view == current}
            for view, label in EMAIL_VIEW_LABELS.items()]


@login_required
def email_list(request: HttpRequest) -> HttpResponse:
    """Logged email: the user's own pending messages (the default), or every message they may see, by status,
    sender, account and date; newest first. With htmx, only the results are re-rendered."""
    if not can(request.user, EMAIL, Action.READ):
        raise PermissionDenied
    if not request.GET.get("view"):
        query = request.GET.copy()
        query["view"] = "pending"
        request.GET = query  # the page opens on what waits for the user; the API's default is every message
    if request.GET.get("part") == "count":
        return list_count(request, selectors.email_list)
    context, status = list_context(request, selector=selectors.email_list, orderings=selectors.EMAIL_ORDERINGS,
                                   default_ordering="-received_at", name="email")
    params = context["params"]
    view = params.get("view", "pending")
    account_id = params.get("account", "")
    items = context["items"]
    filed = selectors.filed_to(user=request.user, emails=items)
    for email in items:
        email.filed = filed[email.pk]
    context.update({
        "view": view,
        "tabs": _email_tabs(request, view),
        "statuses": EmailStatus.choices,
        "filter_account": account_choices(user=request.user).filter(public_id=account_id).first()
        if account_id else None,
    })
    if request.htmx and request.htmx.target == "results":
        return render(request, "mail/_email_results.html", context, status=status)
    return render(request, "mail/email_list.html", context, status=status)


class CreateContactForm(forms.Form):
    """The sender as a new contact: names and address from the message, which the user may correct."""

    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=100)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    account = AccountLookupField(label=gettext_lazy("Account"))
    confirm_duplicate = forms.BooleanField(label=gettext_lazy("Create it anyway"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        field.queryset = account_choices(user=user)  # type: ignore[attr-defined]
        # The picker shows only the account chosen (the page searches for others), never the whole table.
        chosen = self.data.get(self.add_prefix("account")) if self.is_bound else None
        current = field.queryset.filter(public_id=chosen).first() if chosen else None  # type: ignore[attr-defined]
        field.widget.choices = [("", "—")] + ([(current.public_id, current.name)] if current else [])

    def contact_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("first_name", "last_name", "email", "account")}


def email_detail_context(request: HttpRequest, public_id: str) -> dict[str, Any]:
    context = selectors.email_detail(user=request.user, public_id=public_id)
    email: EmailMessage = context["email"]
    context.update({
        "html_frame": HTML_FRAME_HEAD + email.html_body if email.html_body else "",
        "contact_form": CreateContactForm(initial=selectors.contact_defaults(email), user=request.user,
                                          prefix="contact"),
        "may_create_contact": can(request.user, "contact", Action.CREATE),
    })
    return context


@login_required
def email_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return render(request, "mail/email_detail.html", email_detail_context(request, public_id))


def _panel(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    """My Home's panel of the user's pending messages (again, after an action there)."""
    emails = selectors.pending_emails(user=request.user)
    suggestions = selectors.suggestions_for(user=request.user, emails=emails)
    for email in emails:
        email.suggestions = suggestions[email.pk]
        names = selectors.contact_defaults(email)
        email.sender_label = f"{names['first_name']} {names['last_name']}".strip() or email.from_address
    return render(request, "mail/_pending_panel.html", {
        "emails": emails, "total": selectors.pending_email_count(request.user),
        "may_create_contact": can(request.user, "contact", Action.CREATE), **extra,
    }, status=status)


@login_required
def email_pending(request: HttpRequest) -> HttpResponse:
    """The pending messages of My Home: each with its sender, subject, date, why it waits, and the actions."""
    return _panel(request)


def _from_panel(request: HttpRequest) -> bool:
    return bool(request.htmx) and request.POST.get("panel") == "1"


def _done(request: HttpRequest, email: EmailMessage, text: str) -> HttpResponse:
    if _from_panel(request):
        return _panel(request, notice=text)
    messages.success(request, text)
    return redirect(safe_next(request, reverse("email_detail", args=[email.public_id])))


def _refused(request: HttpRequest, email: EmailMessage, text: str, status: int, **extra: Any) -> HttpResponse:
    """An action that did not happen: the panel or the message's page again, saying why (nothing changed)."""
    if _from_panel(request):
        return _panel(request, status=status, error=text, error_for=email.public_id)
    context = email_detail_context(request, email.public_id)
    context.update({"action_error": text, **extra})
    return render(request, "mail/email_detail.html", context, status=status)


def _names(records: list[Any]) -> str:
    return ", ".join(str(record) for record in records)


@login_required
@require_POST
def email_file_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """File a message to the records posted as `records` (type:id, as many as chosen); again to re-file."""
    email = selectors.email_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    refs = [ref.strip() for ref in request.POST.getlist("records") if ref.strip()]
    try:
        records = selectors.filing_records(user=request.user, refs=refs)
        services.email_file(actor=request.user, email=email, records=records,
                            version=int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        return _refused(request, email, str(exc), 409)
    except ValidationError as exc:
        return _refused(request, email, error_text(exc), 400)
    return _done(request, email, _("“%(subject)s” was filed to %(names)s.")
                 % {"subject": email, "names": _names(records)})


@login_required
@require_POST
def email_create_contact(request: HttpRequest, public_id: str) -> HttpResponse:
    """Make a contact of the sender and file the message to them. The page's form posts the fields (prefix
    `contact-`); the panel's button posts none, and the sender's name and address are taken as they are."""
    email = selectors.email_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    data = request.POST.copy()
    for name, value in selectors.contact_defaults(email).items():
        data.setdefault(f"contact-{name}", value)
    form = CreateContactForm(data, user=request.user, prefix="contact")
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[name].label}: {' '.join(str(m) for m in msgs)}" if name in form.fields
            else " ".join(str(m) for m in msgs) for name, msgs in form.errors.items())
        return _refused(request, email, errors, 400, contact_form=form, open_action="contact")
    try:
        _email, contact = services.email_create_contact(
            actor=request.user, email=email, data=form.contact_data(),
            confirm_duplicate=form.cleaned_data["confirm_duplicate"], version=int_or_none(request.POST.get("version")))
    except StaleVersion as exc:
        return _refused(request, email, str(exc), 409)
    except PossibleDuplicate as exc:
        return _refused(request, email, str(exc), 409, contact_form=form, open_action="contact",
                        duplicates=exc.duplicates)
    except PermissionDenied as exc:
        return _refused(request, email, str(exc) or _("You may not create contacts."), 403)
    except ValidationError as exc:
        return _refused(request, email, error_text(exc), 400, contact_form=form, open_action="contact")
    return _done(request, email, _("%(name)s was created, and “%(subject)s” filed to them.")
                 % {"name": contact.full_name, "subject": email})


def _status_change(request: HttpRequest, public_id: str, change: Any, text: str) -> HttpResponse:
    email = selectors.email_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    try:
        change(actor=request.user, email=email, version=int_or_none(request.POST.get("version")))
    except (StaleVersion, Conflict) as exc:
        return _refused(request, email, str(exc), 409)
    return _done(request, email, text % {"subject": email})


@login_required
@require_POST
def email_discard(request: HttpRequest, public_id: str) -> HttpResponse:
    """Put a pending message aside (status discarded); it can be restored from the list's Discarded filter."""
    return _status_change(request, public_id, services.email_discard,
                          _("“%(subject)s” was discarded. Find it under Discarded to restore it."))


@login_required
@require_POST
def email_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    """A discarded message back to pending."""
    return _status_change(request, public_id, services.email_restore, _("“%(subject)s” is pending again."))


@login_required
def email_lookup(request: HttpRequest) -> HttpResponse:
    """Options for the "file to" picker: contacts, accounts, opportunities and support items whose name starts
    with what was typed (a few of each), as the user may see them."""
    query = (request.GET.get("lookup") or "").strip()[:100]
    return render(request, "mail/_record_options.html",
                  {"options": selectors.file_lookup(user=request.user, query=query), "query": query})


def raw_download(email: EmailMessage) -> FileResponse:
    return download(email.raw, filename=f"{download_name(email.subject, 'message')[:80]}.eml",
                    content_type="application/octet-stream")


def attachment_download(attachment: EmailAttachment) -> FileResponse:
    """An attachment under its own (cleaned) name; its type only where the one given is the one found."""
    safe = attachment.declared_type if attachment.declared_type == attachment.detected_type else ""
    return download(attachment.file, filename=attachment.filename, content_type=safe, fallback="attachment")


@login_required
def email_raw(request: HttpRequest, public_id: str) -> FileResponse:
    """The message exactly as it arrived (.eml), for a mail client."""
    return raw_download(selectors.email_get(user=request.user, public_id=public_id))


@login_required
def email_attachment(request: HttpRequest, public_id: str, attachment_id: str) -> FileResponse:
    return attachment_download(selectors.attachment_get(user=request.user, email_id=public_id,
                                                        attachment_id=attachment_id))


urlpatterns += [
    path("emails/", email_list, name="email_list"),
    path("emails/pending/", email_pending, name="email_pending"),
    path("emails/lookup/", email_lookup, name="email_lookup"),
    path("emails/<str:public_id>/", email_detail, name="email_detail"),
    path("emails/<str:public_id>/file/", email_file_view, name="email_file"),
    path("emails/<str:public_id>/create-contact/", email_create_contact, name="email_create_contact"),
    path("emails/<str:public_id>/discard/", email_discard, name="email_discard"),
    path("emails/<str:public_id>/restore/", email_restore, name="email_restore"),
    path("emails/<str:public_id>/raw/", email_raw, name="email_raw"),
    path("emails/<str:public_id>/attachments/<str:attachment_id>/", email_attachment, name="email_attachment"),
]
