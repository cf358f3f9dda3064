"""/dav/: Radicale mounted inside Rapport's own web process, and the /.well-known/ addresses clients try.

One deployment, one code base: the view hands the request to a Radicale application configured with
Rapport's plugins (rapport.sync.dav) and returns its answer. Where the storage refused a request with
a reason (a stale ETag, a malformed card, a read-only calendar), the answer carries that status and
reason instead of the 500 Radicale gives for any exception from its storage.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.views.decorators.csrf import csrf_exempt
from radicale import Application
from radicale import config as radicale_config

from rapport.sync.dav import request_scope

MOUNT = "/dav"
# Radicale trusts X-Script-Name as its mount point, and with any X-Forwarded-* header it strips "/dav" from
# the path as a string ("/david/" became "id/"). Django has already resolved host and scheme.
UNTRUSTED_HEADERS = frozenset({"HTTP_X_SCRIPT_NAME", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST",
                               "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_SERVER", "HTTP_X_FORWARDED_PORT",
                               "HTTP_X_FORWARDED_PREFIX"})
# The body each method's XML must have at its root (Radicale answers another one with 500).
XML_ROOTS = {
    "PROPFIND": {"{DAV:}propfind"},
    "PROPPATCH": {"{DAV:}propertyupdate"},
    "REPORT": {"{DAV:}sync-collection", "{DAV:}expand-property", "{DAV:}principal-property-search",
               "{DAV:}principal-search-property-set", "{urn:ietf:params:xml:ns:caldav}calendar-query",
               "{urn:ietf:params:xml:ns:caldav}calendar-multiget", "{urn:ietf:params:xml:ns:caldav}free-busy-query",
               "{urn:ietf:params:xml:ns:carddav}addressbook-query",
               "{urn:ietf:params:xml:ns:carddav}addressbook-multiget"},
    "MKCALENDAR": {"{urn:ietf:params:xml:ns:caldav}mkcalendar"},
    "MKCOL": {"{DAV:}mkcol"},
}


def _plain(status: int, message: str, **headers: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


def _bad_authorization(header: str) -> HttpResponse | None:
    """A Basic header Radicale could not decode (it would answer 500): 401 with a challenge instead."""
    if not header.startswith("Basic"):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic"):].strip().encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, UnicodeError):
        decoded = ""
    if ":" in decoded:
        return None
    return _plain(401, "The Authorization header is not a Basic username:password pair.",
                  **{"WWW-Authenticate": 'Basic realm="Rapport"'})


def _bad_body(method: str, body: bytes) -> HttpResponse | None:
    """An XML body of a kind the method does not take, or not XML: 400 naming what was expected."""
    roots = XML_ROOTS.get(method)
    if roots is None or not body.strip():
        return None
    try:
        root = DefusedET.fromstring(body)
    except (DefusedET.ParseError, ValueError, DefusedXmlException):
        return _plain(400, f"The {method} body is not well-formed XML.")
    if root.tag not in roots:
        return _plain(400, f"A {method} body must be one of: {', '.join(sorted(roots))}; not {root.tag}.")
    return None


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
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400, "Content-Length is not a number.")
    if declared > settings.RAPPORT_DAV_MAX_BYTES:
        limit = settings.RAPPORT_DAV_MAX_BYTES
        return _plain(413, f"The request is larger than RAPPORT_DAV_MAX_BYTES ({limit} bytes).")
    body = request.read(settings.RAPPORT_DAV_MAX_BYTES + 1) if declared else b""
    refused = _bad_authorization(request.META.get("HTTP_AUTHORIZATION", "")) or _bad_body(request.method or "", body)
    if refused is not None:
        return refused
    environ: dict[str, Any] = {
        key: value for key, value in request.META.items() if key not in UNTRUSTED_HEADERS
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
                return _plain(400, "The body is not UTF-8 text.")
        chunks = b"".join(radicale_app()(environ, start_response))
    if state.refusal is not None:
        return _plain(state.refusal.status, state.refusal.message)
    status = int(started["status"].split(" ", 1)[0])
    response = HttpResponse(chunks, status=status)
    for name, value in started["headers"]:
        if name.lower() != "content-length":
            response[name] = value
    return response


@csrf_exempt  # clients ask with PROPFIND, an "unsafe" method to the CSRF check
def well_known(request: HttpRequest) -> HttpResponse:
    """/.well-known/caldav and /.well-known/carddav (RFC 6764): where the server is."""
    return HttpResponsePermanentRedirect(f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}{MOUNT}/")
