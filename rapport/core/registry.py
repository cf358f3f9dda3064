"""The record types that roles grant rights on.

Each business app registers its types in its AppConfig.ready(), so core never
imports a business app and a new app's records are covered by roles at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet


@dataclass(frozen=True)
class RecordType:
    key: str
    label: str


_RECORD_TYPES: dict[str, RecordType] = {}


def register_record_type(key: str, label: str) -> None:
    _RECORD_TYPES[key] = RecordType(key=key, label=label)


def record_types() -> list[RecordType]:
    return sorted(_RECORD_TYPES.values(), key=lambda rt: rt.key)


def record_type_choices() -> list[tuple[str, str]]:
    return [(rt.key, rt.label) for rt in record_types()]


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation, shown to users who may read `record_type`."""

    url_name: str
    label: str
    record_type: str | None
    order: int
    # A number to show beside the label (requests awaiting the user's answer): user -> the rows it counts.
    # The top bar counts all its badges in one query (core.pagination.counts).
    badge: Callable[[Any], QuerySet] | None = None
    badge_label: str = ""


_NAV_ITEMS: list[NavItem] = []


def register_nav_item(
    url_name: str, label: str, *, record_type: str | None, order: int,
    badge: Callable[[Any], QuerySet] | None = None, badge_label: str = "",
) -> None:
    if all(item.url_name != url_name for item in _NAV_ITEMS):
        _NAV_ITEMS.append(NavItem(url_name=url_name, label=label, record_type=record_type, order=order,
                                  badge=badge, badge_label=badge_label))


def nav_items() -> list[NavItem]:
    return sorted(_NAV_ITEMS, key=lambda item: item.order)


@dataclass(frozen=True)
class Linkable:
    """A record type that activities and notes can be about: its model and its page."""

    key: str
    model_label: str  # "directory.Account"
    detail_url_name: str
    label: str


_LINKABLES: dict[str, Linkable] = {}


def register_linkable(key: str, model_label: str, detail_url_name: str, label: str) -> None:
    _LINKABLES[key] = Linkable(key=key, model_label=model_label, detail_url_name=detail_url_name, label=label)


def linkables() -> dict[str, Linkable]:
    return dict(_LINKABLES)


def detail_url(record: Any) -> str | None:
    """The page of a record of a linkable type (an account, a deal, a support item), or None."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(_LINKABLES[record.record_type].detail_url_name, args=[record.public_id])
    except (KeyError, NoReverseMatch):
        return None


# Links about a user that a business app provides (the calendar feed's address), for core's
# GET /api/v1/me: core names them without importing the app.
UserLink = Callable[[Any, Any], str | None]  # (request, user) -> an absolute URL, or None
_USER_LINKS: dict[str, UserLink] = {}


def register_user_link(name: str, resolver: UserLink) -> None:
    _USER_LINKS[name] = resolver


def user_link(name: str, request: Any, user: Any) -> str | None:
    """One registered link of the user; None if no app registered it, or it is off."""
    resolver = _USER_LINKS.get(name)
    return resolver(request, user) if resolver is not None else None


@dataclass(frozen=True)
class RecordPanel:
    """A section of a record's page that another app fills (an account's opportunities, its orders),
    loaded after the page by htmx from `url_name`, which takes the record's ref."""

    url_name: str
    label: str
    order: int


_RECORD_PANELS: dict[str, list[RecordPanel]] = {}


def register_record_panel(record_type: str, url_name: str, label: str, *, order: int) -> None:
    panels = _RECORD_PANELS.setdefault(record_type, [])
    if all(panel.url_name != url_name for panel in panels):
        panels.append(RecordPanel(url_name=url_name, label=label, order=order))
        panels.sort(key=lambda panel: panel.order)


def record_panels(record_type: str) -> list[RecordPanel]:
    return list(_RECORD_PANELS.get(record_type, []))


# Listeners told of every create and change of a business record (automation's event rules):
# (kind "created" or "updated", the record, its changes {field: [old, new]}).
RecordListener = Callable[[str, Any, dict[str, Any]], None]
_RECORD_LISTENERS: list[RecordListener] = []


def register_record_listener(listener: RecordListener) -> None:
    if listener not in _RECORD_LISTENERS:
        _RECORD_LISTENERS.append(listener)


def record_event(kind: str, record: Any, changes: dict[str, Any]) -> None:
    for listener in _RECORD_LISTENERS:
        listener(kind, record, changes)
