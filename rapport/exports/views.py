"""The export pages: /exports/<resource>/?format=csv|xlsx|vcf&<the list's filters>. Thin: parse, read, answer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from rapport.exports.downloads import export_response
from rapport.exports.resources import ExportResource
from rapport.exports.selectors import TooManyRows, export_filters, export_open, export_resource


def _list_url(request: HttpRequest, resource: ExportResource) -> str:
    """The list the export came from, with its filters: where the error page leads back to."""
    if not resource.list_url_name:
        return ""
    try:
        url = reverse(resource.list_url_name)
    except NoReverseMatch:
        return ""
    query = export_filters(request.GET)
    if request.GET.get("ordering"):
        query["ordering"] = request.GET["ordering"]
    return f"{url}?{query.urlencode()}" if query else url


@login_required
@require_GET
def export_download(request: HttpRequest, resource: str) -> HttpResponseBase:
    """The list's rows as a file; a bad format, filter or ordering, or too many rows, a page saying so."""
    found = export_resource(resource)
    if found is None:
        raise Http404
    try:
        export = export_open(user=request.user, resource=found, query=request.GET)
    except ValidationError as exc:
        problems = [("" if name == "__all__" else name, " ".join(messages))
                    for name, messages in exc.message_dict.items()]
        return _refused(request, found, problems, status=400)
    except TooManyRows as exc:
        return _refused(request, found, [("", str(exc))], status=422)
    return export_response(export)


def _refused(request: HttpRequest, resource: ExportResource, problems: list[tuple[str, str]],
             *, status: int) -> HttpResponse:
    context = {"resource": resource, "problems": problems, "back": _list_url(request, resource)}
    return render(request, "exports/export_refused.html", context, status=status)
