"""Pages for likely duplicates and merging: the duplicates list, "not a duplicate", the merge page.

Thin: parse, call a selector or service (rapport.directory.duplicates, rapport.directory.merge), render.
Accounts and contacts share the views, configured by the DirectoryPages of views.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.core.access import can, record_visible
from rapport.core.errors import StaleVersion
from rapport.core.models import Action
from rapport.core.record_views import error_text, safe_next
from rapport.core.text import int_or_none
from rapport.directory import duplicates, merge, selectors
from rapport.directory.models import Account, Contact
from rapport.directory.views import DirectoryPages


def _partner(request: HttpRequest, pages: DirectoryPages, public_id: str) -> Any:
    """The other record of a pair, as the user may see it; None if there is none (or it is hidden)."""
    if not public_id:
        return None
    qs: Any = (Contact.objects.select_related("owner", "account") if pages.model is Contact
               else Account.objects.select_related("owner", "parent"))
    return qs.visible_to(request.user).filter(public_id=public_id[:40]).first()


def _actions(user: Any, group: duplicates.DuplicateGroup) -> None:
    """Per record after the first: whether the user may merge it with the first, and which way."""
    record_type = group.record_type
    anchor = group.anchor
    for record in group.others:
        if can(user, record_type, Action.UPDATE, anchor) and can(user, record_type, Action.DELETE, record):
            record.merge_pair = (anchor, record)
        elif can(user, record_type, Action.UPDATE, record) and can(user, record_type, Action.DELETE, anchor):
            record.merge_pair = (record, anchor)
        else:
            record.merge_pair = None
        if can(user, record_type, Action.UPDATE, anchor):
            record.dismiss_pair = (anchor, record)
        elif can(user, record_type, Action.UPDATE, record):
            record.dismiss_pair = (record, anchor)
        else:
            record.dismiss_pair = None
    group.actionable = any(record.merge_pair or record.dismiss_pair for record in group.others)
    for record in group.records:
        if record_type == "contact":
            record.shown_account = duplicates.shown_account(user, record)


@login_required
def record_duplicates(request: HttpRequest, *, pages: DirectoryPages) -> HttpResponse:
    """Likely duplicates among the records the user may see, a page of groups at a time."""
    if not can(request.user, pages.name, Action.READ):
        raise PermissionDenied
    reason = request.GET.get("reason") or ""
    error = None
    page = None
    try:
        page = duplicates.duplicate_groups(user=request.user, record_type=pages.name,
                                           cursor=request.GET.get("cursor"), reason=reason)
    except ValidationError as exc:
        error = error_text(exc)
    for group in page.groups if page else []:
        _actions(request.user, group)
    reasons = [(name, duplicates.REASON_LABELS[pages.name, name]) for name in duplicates.REASONS[pages.name]]
    return render(request, "directory/duplicate_list.html", {
        "pages": pages, "page": page, "groups": page.groups if page else [], "error": error, "reason": reason,
        "reasons": reasons, "first_page": not request.GET.get("cursor"),
    }, status=400 if error else 200)


@login_required
@require_POST
def record_not_duplicate(request: HttpRequest, public_id: str, *, pages: DirectoryPages) -> HttpResponse:
    record = pages.get_selector(user=request.user, public_id=public_id, action=Action.UPDATE)
    other = _partner(request, pages, request.POST.get("other", ""))
    back = safe_next(request, reverse(f"{pages.name}_duplicates"))
    if other is None:
        messages.error(request, _("The other record is gone, or you may not see it."))
        return redirect(back)
    try:
        duplicates.mark_not_duplicate(actor=request.user, record=record, other=other)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(request, _("%(a)s and %(b)s are marked as not duplicates; they will not be suggested "
                                "again.") % {"a": record, "b": other})
    return redirect(back)


def _choice_fields(request: HttpRequest, pages: DirectoryPages) -> dict[str, str]:
    names = merge.choice_names(pages.model)
    return {name: request.POST[f"keep_{name}"] for name in names if request.POST.get(f"keep_{name}")}


def _display(user: Any, value: Any, choice: merge.Choice, model: Any) -> Any:
    """A value as the merge page shows it: a choice by its label, a linked record the user may not see
    hidden, addresses one a line."""
    if choice.fields:
        labels = dict(getattr(model._meta.get_field(choice.fields[0]), "flatchoices", None) or [])
        if value in labels:
            return str(labels[value])
    if hasattr(value, "record_type") and hasattr(value, "public_id"):
        return str(value) if record_visible(user, value) else _("(hidden)")
    if isinstance(value, list):
        return "\n".join(value)
    if value is None:
        return ""
    return str(value) if not isinstance(value, str) else value


@login_required
def record_merge(request: HttpRequest, public_id: str, *, pages: DirectoryPages) -> HttpResponse:
    """Two records side by side, a choice per differing field, what moves; Merge keeps this one.

    Without `other`, the page offers likely duplicates of the record and a search to pick one.
    """
    record = pages.get_selector(user=request.user, public_id=public_id, action=Action.UPDATE)
    other_id = (request.POST.get("other") if request.method == "POST" else request.GET.get("other")) or ""
    other = _partner(request, pages, other_id)
    context: dict[str, Any] = {"pages": pages, "record": record, "other": other}
    status = 200
    if other is None or other.pk == record.pk:
        if request.method == "POST" or other_id:
            context["error"] = (_("Choose another record: a record cannot be merged with itself.")
                                if other is not None else _("The other record is gone, or you may not see it."))
            status = 404 if other is None else 400
        query = (request.GET.get("q") or "").strip()[:100]
        lookup = selectors.account_lookup if pages.model is Account else selectors.contact_lookup
        context.update({
            "query": query,
            "suggestions": duplicates.duplicates_of(user=request.user, record=record),
            "found": [r for r in lookup(user=request.user, query=query) if r.pk != record.pk] if query else [],
        })
        return render(request, "directory/merge_choose.html", context, status=status)

    fields: dict[str, str] = _choice_fields(request, pages) if request.method == "POST" else {}
    if request.method == "POST":
        try:
            result = merge.record_merge(
                actor=request.user, survivor=record, other=other, version=int_or_none(request.POST.get("version")),
                other_version=int_or_none(request.POST.get("other_version")), fields=fields)
        except (StaleVersion, merge.OtherVersionStale) as exc:
            context["error"] = str(exc)
            status = 409
            record = pages.get_selector(user=request.user, public_id=public_id, action=Action.UPDATE)
            other = _partner(request, pages, other_id) or other
            fields = {}
        except ValidationError as exc:
            context["error"] = error_text(exc)
            status = 400
        except PermissionDenied as exc:
            context["error"] = str(exc) or _("You may not do this.")
            status = 403
        else:
            messages.success(request, _("%(other)s was merged into %(name)s.") % {"other": other,
                                                                                  "name": result.survivor})
            return redirect(f"{pages.name}_detail", public_id=result.survivor.public_id)
    try:
        plan = merge.merge_plan(survivor=record, other=other, fields=fields)
    except ValidationError:
        plan = merge.merge_plan(survivor=record, other=other)
    rows = [{"row": row, "survivor": _display(request.user, row.survivor, row.choice, pages.model),
             "other": _display(request.user, row.other, row.choice, pages.model)} for row in plan.rows]
    context.update({
        "rows": [r for r in rows if r["row"].differs],
        "same": [r for r in rows if not r["row"].differs and r["row"].survivor not in ("", None, [])],
        "moves": merge.relation_counts(other),
        "can_delete_other": can(request.user, pages.name, Action.DELETE, other),
        "can_swap": can(request.user, pages.name, Action.UPDATE, other)
        and can(request.user, pages.name, Action.DELETE, record),
    })
    return render(request, "directory/merge_page.html", context, status=status)
