"""{% export_menu %}: the Export control of a list page's header, for the lists that have an export."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from rapport.exports.resources import resource_for_list
from rapport.exports.selectors import FORMAT_NAMES, export_filters

register = template.Library()


@register.inclusion_tag("exports/_export_menu.html", takes_context=True)
def export_menu(context: dict[str, Any]) -> dict[str, Any]:
    """Links to the export of the list on this page (found by its URL name), carrying its filters and ordering;
    nothing on a page whose list has no export."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    resource = resource_for_list(match.url_name if match is not None else None)
    if request is None or resource is None:
        return {"resource": None}
    query = export_filters(request.GET)
    if request.GET.get("ordering"):
        query["ordering"] = request.GET["ordering"]
    base = reverse("export_download", args=[resource.key])
    links = []
    for fmt in resource.formats:
        params = query.copy()
        params["format"] = fmt
        links.append({"format": fmt, "name": FORMAT_NAMES[fmt], "url": f"{base}?{params.urlencode()}"})
    return {"resource": resource, "links": links, "base": base}
