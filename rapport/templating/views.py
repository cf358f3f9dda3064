"""Pages of templates: the list, the form, the page with its preview against a real contact, delete
and undo, and serial letters. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.access import can
from rapport.core.errors import StaleVersion
from rapport.core.listing import list_context, list_count
from rapport.core.models import Action
from rapport.core.record_views import delete_and_offer_undo, error_text, restore_and_show, show_errors, show_saved
from rapport.templating import selectors, services
from rapport.templating.filters import TEMPLATE_ORDERINGS
from rapport.templating.forms import PreviewForm, SerialLettersForm, TemplateForm
from rapport.templating.merge import FIELDS
from rapport.templating.models import Template, TemplateKind

TEMPLATE = Template.record_type


def _field_list(kind: str | None = None) -> list[tuple[str, str]]:
    """The merge fields a form's side panel offers, as (placeholder, label)."""
    allowed = services.allowed_fields(kind) if kind else frozenset(FIELDS)
    return [("{{ %s }}" % name, str(label)) for name, label in FIELDS.items() if name in allowed]  # noqa: UP031


# --- List ------------------------------------------------------------------------------------------


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    """Templates by name, kind or owner. With htmx, only the results are re-rendered."""
    if not can(request.user, TEMPLATE, Action.READ):
        raise PermissionDenied
    if request.GET.get("part") == "count":
        return list_count(request, selectors.template_list)
    context, status = list_context(request, selector=selectors.template_list, orderings=TEMPLATE_ORDERINGS,
                                   default_ordering="name", name=TEMPLATE)
    context["kinds"] = TemplateKind.choices
    if request.htmx and request.htmx.target == "results":
        return render(request, "templating/_template_results.html", context, status=status)
    return render(request, "templating/template_list.html", context, status=status)


# --- Create and edit -------------------------------------------------------------------------------


@login_required
def template_form(request: HttpRequest, public_id: str | None = None) -> HttpResponse:
    """Create or edit a template. A merge field that does not exist is refused under its field, naming
    the line; a stale version re-shows the form with the reason (409)."""
    template = None
    if public_id is not None:
        template = selectors.template_get(user=request.user, public_id=public_id, action=Action.UPDATE)
    elif not can(request.user, TEMPLATE, Action.CREATE):
        raise PermissionDenied
    initial = {}
    if template is None and request.GET.get("kind") in TemplateKind.values:
        initial["kind"] = request.GET["kind"]
    form = TemplateForm(request.POST or None, instance=template, user=request.user, initial=initial)
    conflict = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if template is None:
                    template = services.template_create(actor=request.user, data=form.record_data())
                    messages.success(request, _("%(name)s was created.") % {"name": template})
                else:
                    template = services.template_update(actor=request.user, template=template,
                                                        data=form.record_data(),
                                                        version=form.cleaned_data.get("version"))
                    messages.success(request, _("Your changes were saved."))
                return show_saved(request, record=template, detail="template_detail", then="template_list")
            except StaleVersion as exc:
                conflict, status = exc, 409
            except PermissionDenied as exc:  # an owner outside the user's scope: say so on the field
                form.add_error("owner", str(exc))
                status = 403
            except ValidationError as exc:
                show_errors(form, exc)
    return render(request, "templating/template_form.html", {
        "form": form, "template": template, "conflict": conflict, "merge_fields": _field_list(),
    }, status=status)


# --- Detail with preview, delete, restore ----------------------------------------------------------


@login_required
def template_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The template, and how it reads for a contact the user may see (?contact=, default: the first)."""
    context = selectors.template_detail(user=request.user, public_id=public_id)
    template = context["template"]
    contact_id = request.GET.get("contact", "").strip()
    preview_error = None
    contact = None
    if contact_id:
        try:
            contact = selectors.merge_contact_get(user=request.user, public_id=contact_id)
        except ValidationError as exc:
            preview_error = error_text(exc)
    if contact is None:
        contact = selectors.first_visible_contact(user=request.user)
    context.update({
        "record": template,
        "pages": {"name": TEMPLATE},
        "contact": contact,
        "preview": selectors.template_preview(user=request.user, template=template, contact=contact),
        "preview_form": PreviewForm(user=request.user, current=contact),
        "preview_error": preview_error,
        "can_update": can(request.user, TEMPLATE, Action.UPDATE, template),
        "can_delete": can(request.user, TEMPLATE, Action.DELETE, template),
        "is_letter": template.kind == TemplateKind.LETTER,
    })
    status = 400 if preview_error else 200
    if request.htmx and request.htmx.target == "preview":
        return render(request, "templating/_preview.html", context, status=status)
    return render(request, "templating/template_detail.html", context, status=status)


@login_required
@require_POST
def template_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    template = selectors.template_get(user=request.user, public_id=public_id, action=Action.DELETE)

    def delete(version: int | None) -> Any:
        return services.template_delete(actor=request.user, template=template, version=version)

    try:
        return delete_and_offer_undo(request, record=template, detail="template_detail", restore="template_restore",
                                     then="template_list", delete=delete)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("template_detail", public_id=template.public_id)


@login_required
@require_POST
def template_restore(request: HttpRequest, public_id: str) -> HttpResponse:
    template = selectors.template_get(user=request.user, public_id=public_id, action=Action.DELETE, deleted=True)
    return restore_and_show(request, record=template, detail="template_detail", then="template_list",
                            restore=lambda: services.template_restore(actor=request.user, template=template))


# --- Serial letters --------------------------------------------------------------------------------


@login_required
def template_letters(request: HttpRequest, public_id: str) -> HttpResponse:
    """One letter per recipient from a letter template: a distribution list's members or contacts picked
    one by one, as a PDF or DOCX download. "Add" (action=add) shows the form again with one more contact."""
    template = selectors.template_get(user=request.user, public_id=public_id)
    form = SerialLettersForm(request.POST or None, user=request.user)
    status = 200
    if template.kind != TemplateKind.LETTER:
        status = 400 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
        if form.is_valid() and request.POST.get("action") == "add":
            # The same form again with the contact added to the chosen ones (and "Contacts I pick" on).
            data = request.POST.copy()
            data.setlist("contacts", [contact.public_id for contact in form.with_added()])
            data["source"] = SerialLettersForm.CONTACTS
            data["add_contact"] = ""
            form, status = SerialLettersForm(data, user=request.user), 200
        elif form.is_valid():
            response = _letters_download(request, form, template)
            if response is not None:
                return response
    return render(request, "templating/template_letters.html", {
        "template": template, "form": form, "is_letter": template.kind == TemplateKind.LETTER,
        "max_letters": services.documents.MAX_LETTERS,
    }, status=status)


def _letters_download(request: HttpRequest, form: SerialLettersForm, template: Template) -> HttpResponse | None:
    """The document as a download; None with the refusal shown on the form."""
    data = form.cleaned_data
    if data["source"] == SerialLettersForm.LIST:
        contacts = selectors.distribution_list_contacts(user=request.user, distribution_list=data["list"])
    else:
        contacts = selectors.ad_hoc_contacts(user=request.user, public_ids=[c.public_id for c in data["contacts"]])
    try:
        letters = services.serial_letters(user=request.user, template=template, contacts=contacts,
                                          fmt=data["format"])
    except ValidationError as exc:
        rename = {"contacts": "distribution_list" if data["source"] == SerialLettersForm.LIST else "contacts",
                  "template": "__all__"}
        show_errors(form, exc, rename=rename)
        return None
    return letters_response(letters)


def letters_response(letters: services.LetterFile) -> HttpResponse:
    """A serial-letter document as an attachment (never shown inline)."""
    response = HttpResponse(letters.content, content_type=letters.content_type)
    response["Content-Disposition"] = f'attachment; filename="{letters.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
