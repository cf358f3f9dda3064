"""Pages of global search: the results page and the suggestions under the top bar's search box."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from rapport.core.record_views import error_text
from rapport.search import selectors


def _type_links(query: str, current: list[Any] | None, types: list[Any]) -> list[dict[str, Any]]:
    keys = {t.key for t in current or []}
    links = [{"label": None, "url": "?" + urlencode({"q": query}), "current": not keys}]
    links += [{"label": t.label, "url": "?" + urlencode({"q": query, "types": t.key}),
               "current": keys == {t.key}} for t in types]
    return links


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """Everything the user may see that matches `q`, grouped by type; `types=contact` shows one type, longer."""
    query = request.GET.get("q", "")
    context: dict[str, Any] = {"query": query, "results": None, "error": "", "types": None}
    status = 200
    try:
        types = selectors.parse_types(request.GET.getlist("types"))
        one_type = types is not None and len(types) == 1
        if query.strip():
            context["results"] = selectors.search(
                user=request.user, q=query, types=types,
                per_type=selectors.MAX_PER_TYPE if one_type else selectors.PAGE_PER_TYPE)
        context["types"] = types
        context["one_type"] = one_type
        shown = context["results"].types if context["results"] else selectors.readable_types(request.user)
        context["type_links"] = _type_links(query, types, shown)
    except ValidationError as exc:
        context["error"] = error_text(exc)
        status = 400
    return render(request, "search/results.html", context, status=status)


@login_required
def search_suggest(request: HttpRequest) -> HttpResponse:
    """The few best matches per type as the user types (htmx swaps them under the search box)."""
    query = request.GET.get("q", "")
    results = None
    error = ""
    try:
        if query.strip():
            results = selectors.search(user=request.user, q=query, per_type=selectors.SUGGEST_PER_TYPE)
    except ValidationError as exc:
        error = error_text(exc)
    return render(request, "search/_suggestions.html", {"query": query, "results": results, "error": error})
