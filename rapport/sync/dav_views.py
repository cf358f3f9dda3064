"""/dav/: Radicale mounted inside Rapport's own web process, and the /.well-known/ addresses clients try.

One deployment, one code base: the view hands the request to a Radicale application configured with
Rapport's plugins (rapport.sync.dav) and returns its answer. Where the storage refused a request with
a reason (a stale ETag, a malformed card, a read-only calendar), the answer carries that status and
reason instead of the 500 Radicale gives for any exception from its storage.
"""

from __future__ import annotations

import functools
import io
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from radicale import Application
from radicale import config as radicale_config

from rapport.sync.dav import request_scope

MOUNT = "/dav"


@functools.cache
def radicale_app() -> Application:
    configuration = radicale_config.load()
    configuration.update({
        "server": {
            "max_content_length": str(settings.RAPPORT_DAV_MAX_BYTES),
            "max_resource_size": str(settings.RAPPORT_DAV_MAX_BYTES),
            # Radicale waits this long before any 5xx; Rapport's refusals pass through as 5xx first.
            "delay_on_error": "0",
        },
        "auth": {"type": "rapport.sync.dav", "delay": str(settings.RAPPORT_DAV_FAILED_LOGIN_DELAY),
                 "cache_logins": "False", "realm": "Rapport"},
        "rights": {"type": "rapport.sync.dav", "permit_delete_collection": "False",
                   "permit_overwrite_collection": "False"},
        "storage": {"type": "rapport.sync.dav"},
        "web": {"type": "none"},
        "logging": {"level": "warning", "mask_passwords": "True"},
    }, "rapport", privileged=True)
    # Radicale reports every request at INFO; Rapport's logs keep its warnings (failed sign-ins) only.
    logging.getLogger("radicale").setLevel(logging.WARNING)
    return Application(configuration)


@csrf_exempt
def dav(request: HttpRequest, path: str = "/") -> HttpResponse:
    """Every CalDAV/CardDAV request: PROPFIND, REPORT, GET, PUT, DELETE, PROPPATCH, OPTIONS."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.RAPPORT_DAV_MAX_BYTES:
        limit = settings.RAPPORT_DAV_MAX_BYTES
        return HttpResponse(f"The request is larger than RAPPORT_DAV_MAX_BYTES ({limit} bytes).", status=413,
                            content_type="text/plain; charset=utf-8")
    body = request.read(settings.RAPPORT_DAV_MAX_BYTES + 1) if declared else b""
    environ: dict[str, Any] = {
        key: value for key, value in request.META.items()
        # Radicale trusts X-Script-Name as the mount point: a client must not choose it.
        if key != "HTTP_X_SCRIPT_NAME"
    }
    environ.update({
        "SCRIPT_NAME": request.META.get("SCRIPT_NAME", "").rstrip("/") + MOUNT,
        "PATH_INFO": path or "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    })
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, headers

    with request_scope() as state:
        if request.method == "PUT":
            try:
                state.body = body.decode("utf-8")
            except UnicodeDecodeError:
                return HttpResponse("The body is not UTF-8 text.\n", status=400,
                                    content_type="text/plain; charset=utf-8")
        chunks = b"".join(radicale_app()(environ, start_response))
    if state.refusal is not None:
        return HttpResponse(state.refusal.message + "\n", status=state.refusal.status,
                            content_type="text/plain; charset=utf-8")
    status = int(started["status"].split(" ", 1)[0])
    response: HttpResponse | StreamingHttpResponse = HttpResponse(chunks, status=status)
    for name, value in started["headers"]:
        if name.lower() != "content-length":
            response[name] = value
    return response


@csrf_exempt  # clients ask with PROPFIND, an "unsafe" method to the CSRF check
def well_known(request: HttpRequest) -> HttpResponse:
    """/.well-known/caldav and /.well-known/carddav (RFC 6764): where the server is."""
    return HttpResponsePermanentRedirect(f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{MOUNT}/")
