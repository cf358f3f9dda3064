"""Helpers every list page shares: its filter parameters and its sortable column headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from rapport.core.access import can
from rapport.core.models import Action
from rapport.core.pagination import capped_count, keyset_page, parse_limit, parse_ordering
from rapport.core.selectors import user_choices

PAGE_SIZE = 50

# Query parameters that page a list rather than filter it, and the "part" a page loads after its rows.
PAGING_PARAMS = frozenset({"limit", "cursor", "ordering", "part"})


def filter_params(request: HttpRequest) -> QueryDict:
    """The query string without paging and empty values: what the filters see."""
    params = request.GET.copy()
    for name in list(params.keys()):
        values = [v for v in params.getlist(name) if v.strip()]
        if name in PAGING_PARAMS or not values:
            params.pop(name)
        else:
            params.setlist(name, values)
    return params


def sort_links(base_query: str, current: str, orderings: dict[str, str]) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it and the aria-sort state."""
    links = {}
    for name in orderings:
        ascending = current == name
        descending = current == f"-{name}"
        target = f"-{name}" if ascending else name
        sep = "&" if base_query else ""
        links[name] = {
            "url": f"?{base_query}{sep}ordering={target}",
            "aria": "ascending" if ascending else "descending" if descending else "none",
        }
    return links


def list_context(request: HttpRequest, *, selector: Callable[..., Any], orderings: dict[str, str],
                 default_ordering: str, name: str) -> tuple[dict[str, Any], int]:
    """A filtered, sorted, keyset-paged list's context, as the directory lists build it; and its status
    (400 with the reason when a filter, the ordering or the cursor does not parse)."""
    params = filter_params(request)
    error = None
    page = None
    ordering_raw = request.GET.get("ordering") or default_ordering
    link_params = params.copy()  # what every sort and pager link carries
    try:
        ordering = parse_ordering(ordering_raw, orderings, default_ordering)
        qs = selector(user=request.user, params=params)
        limit = parse_limit(request.GET.get("limit"), PAGE_SIZE)
        if limit != PAGE_SIZE:
            link_params["limit"] = str(limit)
        page = keyset_page(qs, ordering=ordering, cursor=request.GET.get("cursor"), limit=limit)
    except ValidationError as exc:
        error = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        ordering_raw = default_ordering
    base_query = link_params.urlencode()
    context = {
        "page": page,
        "items": page.items if page else [],
        "error": error,
        "params": params,
        "ordering": ordering_raw,
        "base_query": base_query,
        "sort_links": sort_links(base_query, ordering_raw, orderings),
        "owners": user_choices(user=request.user),
        "selected_owner": params.get("owner", ""),
        # Row links are built from one prefix rather than one reverse() per row.
        "detail_prefix": reverse(f"{name}_list"),
        "can_create": can(request.user, name, Action.CREATE),
        "pages": {"name": name},
    }
    return context, 400 if error else 200


def list_count(request: HttpRequest, selector: Callable[..., Any]) -> HttpResponse:
    """The list's total, exact up to 1,000: fetched by the page after its rows, so they show at once."""
    try:
        total, more = capped_count(selector(user=request.user, params=filter_params(request)))
    except ValidationError:
        return HttpResponse("", status=400)
    return render(request, "directory/_count.html", {"total": total, "more": more})
