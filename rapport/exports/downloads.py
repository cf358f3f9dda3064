"""An export as a download, the same for the page and the API: CSV streamed, XLSX through a spooled temporary
file, vCard streamed."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase

from rapport.exports import vcard
from rapport.exports.selectors import Export, audited
from rapport.exports.writers import chunked, content_disposition, csv_response, xlsx_response


def export_response(export: Export) -> HttpResponseBase:
    resource = export.resource
    response: HttpResponseBase
    if export.format == "csv":
        response = csv_response(export.filename, resource.header, audited(export, export.rows()))
    elif export.format == "xlsx":
        response = xlsx_response(export.filename, resource.header, audited(export, export.rows()),
                                 title=str(resource.title))
    else:
        response = StreamingHttpResponse(chunked(audited(export, vcard.vcard_lines(export))),
                                         content_type=vcard.CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition(export.filename)
        response["X-Content-Type-Options"] = "nosniff"
    # What the file holds, for a client that wants to know before reading it; and never kept by a cache.
    response["X-Export-Rows"] = str(export.count)
    response["Cache-Control"] = "private, no-store"
    return response
