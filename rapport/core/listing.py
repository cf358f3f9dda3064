"""Helpers every list page shares: its filter parameters and its sortable column headers."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict

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
