"""The exports API: GET /api/v1/<resource>/export?format=csv|xlsx[|vcf]&<the list endpoint's filters>.

One operation per exportable list, with the filters and orderings of that list (see docs/export.md). This
router is mounted first in rapport/api.py, so that /contacts/export is this route and not a contact whose id
is "export" (tests/exports/test_api.py checks it for every resource).
"""

# No `from __future__ import annotations`: the operations are made in a loop, and django-ninja reads
# their parameter annotations as objects.
from typing import Any, Literal

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import create_model

from rapport.exports.downloads import export_response
from rapport.exports.resources import ExportResource, resources
from rapport.exports.selectors import FORMAT_NAMES, TooManyRows, export_open, max_rows
from rapport.exports.vcard import CONTENT_TYPE as VCARD_TYPE
from rapport.exports.writers import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE

router = Router(tags=["exports"])

CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE.split(";")[0], "xlsx": XLSX_CONTENT_TYPE, "vcf": VCARD_TYPE.split(";")[0]}


def _params_schema(resource: ExportResource) -> type[Schema]:
    """The query parameters of one export: format, ordering and the list's filters (which the list's own
    filter code checks; an unknown one is refused by name)."""
    formats: Any = Literal[resource.formats]
    fields: dict[str, Any] = {
        "format": (formats, Field("csv", description="The file: " + ", ".join(
            f"{fmt} ({FORMAT_NAMES[fmt]})" for fmt in resource.formats))),
        "ordering": (str | None, Field(None, description="As the list: " + ", ".join(sorted(resource.orderings))
                                       + f"; prefix - to reverse; default {resource.default_ordering}")),
    }
    for name in sorted(resource.filters):
        kind: Any = list[str] | None if name in resource.repeated else str | None
        python_name = f"{name}_" if name in ("from", "list") else name
        fields[python_name] = (kind, Field(None, alias=name, description="A filter of the list"))
    model_name = "".join(part.title() for part in resource.key.split("-")) + "ExportParams"
    return create_model(model_name, __base__=Schema, **fields)


def _operation(resource: ExportResource) -> None:
    params_schema = _params_schema(resource)

    def export(request: HttpRequest, params: Query[params_schema]) -> HttpResponseBase:  # type: ignore[valid-type]
        try:
            found = export_open(user=request.user, resource=resource, query=request.GET)
        except TooManyRows as exc:
            raise HttpError(422, str(exc)) from None
        return export_response(found)

    export.__name__ = f"export_{resource.key.replace('-', '_')}"
    content = {CONTENT_TYPES[fmt]: {"schema": {"type": "string", "format": "binary"}} for fmt in resource.formats}
    router.get(
        f"/{resource.key}/export", response={200: None}, operation_id=export.__name__,
        summary=f"Export {str(resource.title).lower()} (" + ", ".join(FORMAT_NAMES[f] for f in resource.formats) + ")",
        description=(f"Every {str(resource.title).lower()} the list would show with the same filters and ordering, "
                     f"that you may see, as a file: CSV (UTF-8 with a byte-order mark, streamed), XLSX"
                     + (", vCard 3.0" if resource.vcard else "")
                     + f". At most {max_rows():,} rows: above that, 422 with the count (narrow the filters). An "
                       "unknown format, filter or ordering answers 400 naming it. X-Export-Rows gives the count."),
        openapi_extra={"responses": {"200": {"description": "The file", "content": content}}},
    )(export)


for _resource in resources().values():
    _operation(_resource)
