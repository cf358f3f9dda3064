"""The record types global search covers, each registered by `register_searchable`.

The search app registers the types that exist when it was built (rapport/search/types.py, from its
AppConfig.ready()); a later app registers its own from its ready(), and its records are indexed,
found, narrowed by visibility and shown with no change here:

    from rapport.search.registry import SearchDocument, register_searchable

    register_searchable(
        Document, lambda d: SearchDocument(title=d.name, text=d.description),
        label=_("Files"), order=90, api_path="/api/v1/documents/{id}")

A type's `document` builds what the record is found by; `subtitle` says what a result shows under its
title (it is told the user, so that it names linked records only if they may see them); `visible`
is the final check, the type's own `Model.objects.visible_to(user)` unless the type has a stricter
rule (a note is seen only with the record it is about); `shared` widens the cheap pre-filter on the
index by the type's extra sharing rule (an activity's assignees) so that nothing visible is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.functional import Promise

from rapport.core.registry import detail_url, linkables

_URL_TEMPLATES: dict[str, str | None] = {}
_MARK = "__record_id__"


def record_url(record: Any, user: Any = None) -> str | None:
    """A record's page, as core.registry.detail_url says, reversed once per type (not once per result)."""
    key = record.record_type
    if key not in _URL_TEMPLATES:
        linkable = linkables().get(key)
        template = None
        if linkable is not None:
            from django.urls import NoReverseMatch, reverse

            try:
                template = reverse(linkable.detail_url_name, args=[_MARK])
            except NoReverseMatch:
                template = None
        _URL_TEMPLATES[key] = template
    template = _URL_TEMPLATES[key]
    return template.replace(_MARK, record.public_id) if template else detail_url(record)


@dataclass(frozen=True)
class SearchDocument:
    """What a record is found by: its title (weighs most), the rest of its text."""

    title: str
    text: str = ""


# (user) -> a filter on SearchEntry rows (record_id is the record's pk), or None for "no extra rule".
SharedRule = Callable[[Any], Q | None]
# (key, value, user) of an attribute term -> a filter on SearchEntry rows, or None: the type has no such
# attribute. The user: a value read from a linked record (a contact's account's stage) may decide a match
# only where that record is one the user may see.
AttributeRule = Callable[[str, str, Any], Q | None]


@dataclass(frozen=True)
class SearchType:
    key: str  # the record type (Model.record_type)
    model: type[models.Model]
    document: Callable[[Any], SearchDocument]
    label: str | Promise
    order: int
    # Related objects the document and the subtitle read (select_related names).
    related: tuple[str, ...] = ()
    # Bulky fields neither the document nor the subtitle reads (an activity's iCalendar source).
    defer: tuple[str, ...] = ()
    subtitle: Callable[[Any, Any], str] = field(default=lambda record, user: "")
    url: Callable[[Any, Any], str | None] = record_url
    api_path: str | None = None  # "/api/v1/contacts/{id}"
    visible: Callable[[Any], models.QuerySet] | None = None
    # Called with the visible records found, before they are shown: fetches what `url`/`subtitle` need
    # in one query (a note's record) instead of one per result, and drops any a stricter rule hides.
    prepare: Callable[[list[Any], Any], list[Any]] | None = None
    shared: SharedRule | None = None
    attributes: AttributeRule | None = None

    def visible_to(self, user: Any) -> models.QuerySet:
        if self.visible is not None:
            return self.visible(user)
        return self.model._default_manager.visible_to(user)  # type: ignore[attr-defined]

    def api_url(self, record: Any) -> str | None:
        return self.api_path.format(id=record.public_id) if self.api_path else None


_TYPES: dict[str, SearchType] = {}


def register_searchable(model: type[models.Model], document: Callable[[Any], SearchDocument], *,
                        label: str | Promise,
                        order: int, **options: Any) -> SearchType:
    """Make a record type searchable (see the module docstring); registering it again replaces it."""
    key = str(model.record_type)  # type: ignore[attr-defined]
    search_type = SearchType(key=key, model=model, document=document, label=label, order=order, **options)
    _TYPES[key] = search_type
    from rapport.search.index import connect_model

    connect_model(model)
    return search_type


def searchable_types() -> list[SearchType]:
    return sorted(_TYPES.values(), key=lambda t: (t.order, t.key))


def searchable(key: str) -> SearchType | None:
    return _TYPES.get(key)


def searchable_for(model: type[models.Model]) -> SearchType | None:
    search_type = _TYPES.get(str(getattr(model, "record_type", "")))
    return search_type if search_type is not None and issubclass(model, search_type.model) else None


def type_keys(types: Iterable[SearchType]) -> list[str]:
    return [t.key for t in types]
