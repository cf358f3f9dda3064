"""What every API router shares: authentication, the error shape and list pages.

Errors are always JSON: {"detail": "...", "errors": {field: [messages]}}.
A bad query string (filter, ordering, cursor, limit) answers 400; a body that
fails validation answers 422; a stale version or a possible duplicate 409.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.models import Body as NinjaBody
from ninja.params.models import BodyModel
from ninja.security import HttpBearer, django_auth
from pydantic import ConfigDict, field_validator

from rapport.core.errors import Conflict, PossibleDuplicate, StaleVersion
from rapport.core.files import human_size
from rapport.core.pagination import Ordering, keyset_page, parse_limit, parse_ordering
from rapport.core.services import token_authenticate
from rapport.core.text import int_or_none


class BearerAuth(HttpBearer):
    """`Authorization: Bearer rap_...` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


API_AUTH = [BearerAuth(), django_auth]


class InputSchema(Schema):
    """Base of every request body: unknown fields are refused, naming the field; text may not hold NUL."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store a NUL character; refuse it here, naming the field, on every database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("A NUL character is not allowed.")
        return value


def utc_time(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time as the API shows it: ISO 8601 in UTC (stored times are UTC already; this fixes the offset)."""
    return moment.astimezone(dt.UTC) if moment is not None else None


def ref_out(obj: Any) -> dict[str, str] | None:
    """A related record as the API names it: its public id and its name."""
    return {"id": obj.public_id, "name": str(obj)} if obj is not None else None


def refuse_nulls(data: dict[str, Any], clearable: tuple[str, ...] = ()) -> None:
    """A PATCH body's null is refused, naming the field, except for fields that may be cleared."""
    for name, value in data.items():
        if value is None and name not in clearable:
            raise ValidationError({name: [_("This field may not be null.")]})


def error_body(detail: str, errors: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("detail" if name == "__all__" else name): [str(m) for m in msgs]
                for name, msgs in exc.message_dict.items()}
    return {"detail": [str(m) for m in exc.messages]}


def _ninja_field_errors(exc: NinjaValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path")]
        name = ".".join(loc) or "body"
        message = error.get("msg", "Invalid value")
        if error.get("type") == "extra_forbidden":
            message = _("Unknown field; it cannot be set here.")
        errors.setdefault(name, []).append(message)
    return errors


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _schema_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _ninja_field_errors(exc)
        in_url = all(error.get("loc", ("body",))[0] in ("query", "path") for error in exc.errors)
        status = 400 if request.method == "GET" or in_url else 422
        return api.create_response(request, error_body(_("Invalid input: %s.") % ", ".join(errors), errors),
                                   status=status)

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _field_errors(exc)
        status = 400 if request.method == "GET" else 422
        names = ", ".join(name for name in errors if name != "detail")
        detail = _("Invalid input: %s.") % names if names else "; ".join(errors.get("detail", []))
        return api.create_response(request, error_body(detail, errors), status=status)

    @api.exception_handler(StaleVersion)
    def _stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
        return api.create_response(
            request,
            error_body(str(exc), {"version": [str(exc)]}, current_version=exc.current_version),
            status=409,
        )

    @api.exception_handler(Conflict)
    def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return api.create_response(request, error_body(str(exc)), status=409)

    @api.exception_handler(PossibleDuplicate)
    def _duplicate(request: HttpRequest, exc: PossibleDuplicate) -> HttpResponse:
        duplicates = [{"id": d.public_id, "name": str(d)} for d in exc.duplicates]
        return api.create_response(
            request,
            error_body(str(exc) + " " + _("Send confirm_duplicate=true to create it anyway."),
                       {"confirm_duplicate": [str(exc)]}, duplicates=duplicates),
            status=409,
        )

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(request, error_body(str(exc) or _("Permission denied.")), status=403)

    @api.exception_handler(Http404)
    def _missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body(_("Not found.")), status=404)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body(_("Sign in, or send Authorization: Bearer <token>.")), status=401
        )

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, error_body(str(exc)), status=exc.status_code)


class RefOut(Schema):
    """A related record or user as the API shows it: its public id and its name."""

    id: str
    name: str


class BusinessRecordOut(Schema):
    """What every business record's API shape carries: its id, version (for If-Match style updates),
    owner, visibility and times (UTC). A resource's schema adds its own fields."""

    id: str
    version: int
    owner: RefOut
    visibility: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return obj.public_id

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, str] | None:
        return ref_out(obj.owner)

    @staticmethod
    def resolve_created_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Any) -> dt.datetime | None:
        return utc_time(obj.updated_at)


class ListParams(Schema):
    """Query parameters every list endpoint takes."""

    limit: int | None = None
    cursor: str | None = None
    ordering: str | None = None


def refuse_unknown_params(request: HttpRequest, allowed: set[str] | frozenset[str] = frozenset()) -> None:
    """A list that takes no filters says so, rather than silently ignoring a misspelt one."""
    unknown = sorted(set(request.GET.keys()) - set(ListParams.model_fields) - set(allowed))
    if unknown:
        raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})


def api_page(
    qs: Any, *, params: ListParams, allowed_orderings: dict[str, str], default_ordering: str
) -> dict[str, Any]:
    """One cursor page of a queryset as {"items": [...], "next": cursor-or-null}."""
    ordering: Ordering = parse_ordering(params.ordering, allowed_orderings, default_ordering)
    page = keyset_page(qs, ordering=ordering, cursor=params.cursor, limit=parse_limit(params.limit))
    return {"items": page.items, "next": page.next_cursor}


# --- Requests that carry a file ------------------------------------------------------------------------
# A route that takes a file (a document, a receipt, an import) takes it two ways: multipart/form-data with
# a `file` part (what curl -F and browsers send), or JSON with the bytes in base64 (what the permission
# matrix and simple scripts send). One body marker and one reader serve them all.

FORM_CONTENT = "multipart/form-data"


class UploadIn(InputSchema):
    """The fields a JSON body uses for its file; multipart/form-data sends a `file` part instead."""

    file_name: str | None = Field(None, max_length=255, description="With JSON: the file's name")
    content_base64: str | None = Field(None, description="With JSON: the file's bytes in base64 (multipart/form-data "
                                                         "takes a `file` part instead)")


@dataclass(frozen=True)
class UploadLimit:
    """How large a file a route takes, and the refusal that names the limit (for a size in bytes)."""

    max_bytes: Callable[[], int]
    too_large: Callable[[int], ValidationError]


def file_body(limit: UploadLimit) -> Any:
    """The body marker of a route that takes a file. A multipart form's fields are the body and its one
    `file` part is kept for `uploaded_file`; a request larger than the limit (with base64's third more) is
    refused from its Content-Length, before its body is read."""

    class _FileBodyModel(BodyModel):
        @classmethod
        def get_request_data(cls, request: HttpRequest, api: Any, path_params: Any) -> Any:
            length = int_or_none(request.META.get("CONTENT_LENGTH")) or 0
            if length > limit.max_bytes() * 4 // 3 + 1024 * 1024:
                raise limit.too_large(length)
            if request.content_type == FORM_CONTENT:
                data = {key: request.POST[key] for key in request.POST if key != "csrfmiddlewaretoken"}
                files = request.FILES.getlist("file")
                if len(files) > 1:
                    raise ValidationError({"file": [_("Send one file per request.")]})
                unknown = sorted(set(request.FILES) - {"file"})
                if unknown:
                    raise ValidationError({name: [_("Unknown field; it cannot be set here.")] for name in unknown})
                request._uploaded_file = files[0] if files else None  # type: ignore[attr-defined]
                varname = getattr(cls, "__read_from_single_attr__", None)
                return {varname: data} if varname else data
            try:
                return super().get_request_data(request, api, path_params)
            except RequestDataTooBig:
                raise ValidationError({"file": [
                    _("A JSON body may carry at most %(size)s; send larger files as multipart/form-data.")
                    % {"size": human_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}]}) from None

    class _FileBody(NinjaBody):  # type: ignore[misc]
        _model = _FileBodyModel

        @classmethod
        def _param_source(cls) -> str:
            return "body"

    return _FileBody(...)


def uploaded_file(request: HttpRequest, payload: UploadIn, limit: UploadLimit, *,
                  default_name: str = "file") -> UploadedFile | None:
    """The file a request carries (see file_body): the multipart part, or the JSON body's base64 decoded
    (its length checked against the limit first); None when it carries none. The services check the
    file's own size, type and content."""
    upload = getattr(request, "_uploaded_file", None)
    if upload is not None or payload.content_base64 is None:
        return upload
    if len(payload.content_base64) > (limit.max_bytes() + 2) // 3 * 4 + 4:
        raise limit.too_large(len(payload.content_base64) * 3 // 4)
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"content_base64": [_("This is not base64.")]}) from None
    return SimpleUploadedFile(payload.file_name or default_name, content)
