"""Radicale's plugins: Rapport's tables as its storage, app passwords as its sign-in, and its rights.

Radicale (pinned exactly in pyproject.toml) speaks CalDAV and CardDAV; everything it stores or reads
goes through the three classes here, which Radicale loads by this module's name (`Storage`, `Auth`,
`Rights`). Its plugin interface has changed within 3.x more than once, so this module keeps to the
few methods Radicale calls and tests/sync/ holds the contract: an upgrade is a small, tested port.

A collection is a query (rapport.sync.collections): the user's own calendar, tasks and contacts can be
written, the team and company calendars only read. Items are drawn on demand, in batches, by
rapport.sync.calendar_items and rapport.sync.contact_items.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from radicale import auth as radicale_auth
from radicale import item as radicale_item
from radicale import pathutils
from radicale import rights as radicale_rights
from radicale import storage as radicale_storage
from radicale.item import filter as radicale_filter

from rapport.activities.models import Activity, ActivityAssignee, ActivityType
from rapport.core.models import User
from rapport.directory.models import Contact
from rapport.sync import changes
from rapport.sync.collections import (
    CALENDAR,
    COMPANY,
    CONTACTS,
    SHARED_FUTURE,
    SHARED_PAST,
    TASKS,
    TEAM,
    CollectionInfo,
    collection_info,
    collections_for,
)
from rapport.sync.errors import DavRefusal
from rapport.sync.hrefs import item_href
from rapport.sync.models import SyncCollection

# How many items are drawn at a time when a client reads many (a multiget, a full listing with data).
RENDER_BATCH = 500
# The most items a shared (team or company) calendar holds: the earliest in its window come first.
SHARED_LIMIT = 5000


# --- The request in flight ------------------------------------------------------------------------

@dataclass
class RequestState:
    """What one DAV request has learnt so far; Radicale calls the storage many times per request."""

    refusal: DavRefusal | None = None
    # A PUT's body as the client sent it: Radicale hands the storage its own re-serialisation, which
    # reorders properties and loses data (a vCard's inline PHOTO), so the storage stores this instead.
    body: str | None = None
    writing: bool = False
    users: dict[str, User | None] = field(default_factory=dict)
    rows: dict[str, SyncCollection] = field(default_factory=dict)
    # Radicale asks for the rights of a collection once per item it lists: 10,000 times for a calendar.
    rights: dict[tuple[str, str], str] = field(default_factory=dict)


_state: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar("rapport_dav_state", default=None)


@contextlib.contextmanager
def request_scope() -> Iterator[RequestState]:
    """Around one request to Radicale: afterwards, `state.refusal` says whether the storage refused it."""
    state = RequestState()
    reset = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(reset)


def _current() -> RequestState:
    state = _state.get()
    if state is None:  # called outside a request (a test driving the plugin directly)
        state = RequestState()
        _state.set(state)
    return state


def refuse(status: int, message: str) -> DavRefusal:
    """Record the refusal for the view to answer with, and return it to be raised."""
    refusal = DavRefusal(status, message)
    _current().refusal = refusal
    return refusal


def _user(username: str) -> User | None:
    users = _current().users
    if username not in users:
        users[username] = (User.objects.select_related("team").filter(username=username, is_active=True)
                           .first())
    return users[username]


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _http_date(moment: dt.datetime | None) -> str:
    """An HTTP date (RFC 9110), written by hand: a listing writes one per item, 10,000 for a big calendar."""
    m = (moment or timezone.now()).astimezone(dt.UTC)
    return (f"{DAYS[m.weekday()]}, {m.day:02d} {MONTHS[m.month - 1]} {m.year} "
            f"{m.hour:02d}:{m.minute:02d}:{m.second:02d} GMT")


# --- Sources: how one kind of collection reads and writes Rapport's tables --------------------------

class Listed(NamedTuple):  # a tuple: a listing makes one per item
    pk: int
    etag: str
    updated_at: dt.datetime


class Source:
    """One collection's records: listing, drawing, finding by UID, writing and deleting."""

    extension = ""
    item_name = ""  # VCALENDAR or VCARD
    component = ""

    def __init__(self, user: User, info: CollectionInfo) -> None:
        self.user = user
        self.info = info

    def queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def listing(self) -> dict[str, Listed]:
        raise NotImplementedError

    def listed(self, record: Any) -> Listed:
        """How the listing shows one record (read again under the write lock)."""
        raise NotImplementedError

    def texts(self, records: list[Any]) -> dict[int, str]:
        raise NotImplementedError

    def uids(self, uid: str) -> list[str]:
        return [uid]

    def put(self, *, text: str, record: Any | None, href: str) -> Any:
        raise NotImplementedError

    def delete(self, record: Any) -> None:
        raise NotImplementedError

    def in_range(self, qs: QuerySet[Any], start: dt.datetime, end: dt.datetime) -> QuerySet[Any]:
        return qs

    def records(self, pks: Iterable[int]) -> list[Any]:
        return list(self.queryset().filter(pk__in=list(pks)))


class ActivitySource(Source):
    extension = "ics"
    item_name = "VCALENDAR"

    def __init__(self, user: User, info: CollectionInfo) -> None:
        super().__init__(user, info)
        self.component = info.component
        self.activity_type = ActivityType.TASK if info.component == "VTODO" else ActivityType.EVENT
        self._shared: list[int] | None = None

    def _assignments(self) -> QuerySet[ActivityAssignee]:
        if self.info.name in (CALENDAR, TASKS):
            return ActivityAssignee.objects.filter(user_id=self.user.pk)
        now = timezone.now()
        window = ActivityAssignee.objects.filter(starts_at__lt=now + SHARED_FUTURE).filter(
            Q(last_ends_at__isnull=True) | Q(last_ends_at__gte=now - SHARED_PAST))
        if self.info.name == TEAM:
            return window.filter(user__team_id=self.user.team_id or 0)
        return window

    def queryset(self) -> QuerySet[Activity]:
        qs = (Activity.objects.visible_to(self.user)
              .filter(activity_type=self.activity_type, pk__in=self._assignments().values("activity_id"))
              .select_related("kind"))
        if self.info.name in (TEAM, COMPANY):
            if self._shared is None:  # chosen once: the listing and every batch drawn agree on them
                self._shared = list(qs.order_by("starts_at", "pk").values_list("pk", flat=True)[:SHARED_LIMIT])
            qs = qs.filter(pk__in=self._shared)
        return qs

    @staticmethod
    def _etag(pk: int, version: int, kind_label: str) -> str:
        # The text names the kind (CATEGORIES): renaming a kind changes every item of it.
        return f'"a{pk}-{version}-{zlib.crc32(kind_label.encode()):x}"'

    def listing(self) -> dict[str, Listed]:
        rows = self.queryset().values_list("pk", "uid", "dav_name", "version", "updated_at", "kind__label")
        return {item_href(uid, dav_name, self.extension): Listed(pk, self._etag(pk, version, label), updated)
                for pk, uid, dav_name, version, updated, label in rows}

    def listed(self, record: Any) -> Listed:
        return Listed(record.pk, self._etag(record.pk, record.version, record.kind.label), record.updated_at)

    def texts(self, records: list[Any]) -> dict[int, str]:
        from rapport.sync.calendar_items import calendar_texts

        return calendar_texts(records)

    def uids(self, uid: str) -> list[str]:
        from rapport.sync.calendar_items import stored_uids

        return stored_uids(uid, self.user)

    def put(self, *, text: str, record: Any | None, href: str) -> Any:
        from rapport.sync.calendar_items import calendar_put

        return calendar_put(actor=self.user, text=text, component=self.component, activity=record, href=href)

    def delete(self, record: Any) -> None:
        from rapport.activities.services import activity_delete

        activity_delete(actor=self.user, activity=record, version=record.version)

    def in_range(self, qs: QuerySet[Any], start: dt.datetime, end: dt.datetime) -> QuerySet[Any]:
        # An item overlaps the range when it starts before its end and ends after its start; a
        # recurring one ends with its last occurrence (none: it never ends).
        ends = (Q(rrule="", ends_at__gt=start)
                | ~Q(rrule="") & (Q(recurrence_ends_at__isnull=True) | Q(recurrence_ends_at__gt=start)))
        return qs.filter(Q(starts_at__lt=end) & ends)


class ContactSource(Source):
    extension = "vcf"
    item_name = "VCARD"
    component = "VCARD"

    def queryset(self) -> QuerySet[Contact]:
        return (Contact.objects.visible_to(self.user).filter(owner_id=self.user.pk)
                .select_related("account", "owner"))

    def listing(self) -> dict[str, Listed]:
        rows = self.queryset().values_list("pk", "uid", "dav_name", "version", "updated_at", "account__version")
        # The card shows the account's name, so the account's version is part of the card's.
        return {item_href(uid, dav_name, self.extension):
                Listed(pk, f'"c{pk}-{version}-{account_version or 0}"', updated)
                for pk, uid, dav_name, version, updated, account_version in rows}

    def listed(self, record: Any) -> Listed:
        account_version = record.account.version if record.account_id is not None else 0
        return Listed(record.pk, f'"c{record.pk}-{record.version}-{account_version}"', record.updated_at)

    def texts(self, records: list[Any]) -> dict[int, str]:
        from rapport.sync.contact_items import contact_texts

        return contact_texts(records)

    def put(self, *, text: str, record: Any | None, href: str) -> Any:
        from rapport.sync.contact_items import contact_put

        return contact_put(actor=self.user, text=text, contact=record, href=href)

    def delete(self, record: Any) -> None:
        from rapport.directory.services import contact_delete

        contact_delete(actor=self.user, contact=record, version=record.version)


def source_for(user: User, info: CollectionInfo) -> Source:
    return ContactSource(user, info) if info.name == CONTACTS else ActivitySource(user, info)


# --- Items ----------------------------------------------------------------------------------------

class LazyItem(radicale_item.Item):
    """An item whose text is drawn only when Radicale reads it, together with the rest of its batch."""

    def __init__(self, *, draw: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(text="", **kwargs)
        self._text = None
        self._draw = draw

    def serialize(self) -> str:
        if self._text is None:
            assert self.href is not None
            self._text = self._draw(self.href)
        return self._text

    @property
    def vobject_item(self) -> Any:
        if self._vobject_item is None:
            self.serialize()
        return super().vobject_item


# --- Collections ----------------------------------------------------------------------------------

class Root(radicale_storage.BaseCollection):
    """The server's root: it lists nothing (whose accounts exist is nobody's business)."""

    @property
    def path(self) -> str:
        return ""

    def get_meta(self, key: str | None = None) -> Any:
        return None if key is not None else {}

    def get_all(self) -> Iterable[radicale_item.Item]:
        return []

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        return [(href, None) for href in hrefs]

    @property
    def last_modified(self) -> str:
        return _http_date(None)


class Principal(Root):
    """A user's home: /dav/<username>/, holding their collections."""

    def __init__(self, user: User) -> None:
        self.user = user

    @property
    def path(self) -> str:
        return self.user.username


class Collection(radicale_storage.BaseCollection):
    """One of a user's calendars, task lists or address books."""

    def __init__(self, user: User, info: CollectionInfo) -> None:
        self.user = user
        self.info = info
        self.source = source_for(user, info)
        self._listing: dict[str, Listed] | None = None
        self._texts: dict[str, str] = {}
        self._client_props: dict[str, str] | None = None
        self._order: tuple[dict[str, Listed], list[str]] | None = None

    @property
    def path(self) -> str:
        return f"{self.user.username}/{self.info.name}"

    # -- reading --

    def listing(self) -> dict[str, Listed]:
        if self._listing is None:
            self._listing = self.source.listing()
        return self._listing

    def _row(self) -> SyncCollection:
        """The collection's change log, brought up to date once per request."""
        rows = _current().rows
        if self.path not in rows:
            def live(fresh: bool) -> tuple[dict[str, str], bool]:
                read_now = fresh or self._listing is None
                if read_now:
                    self._listing = self.source.listing()
                assert self._listing is not None
                return {href: listed.etag for href, listed in self._listing.items()}, read_now

            rows[self.path] = changes.record_changes(changes.collection_row(self.user, self.info.name), live)
        return rows[self.path]

    def _draw(self, href: str) -> str:
        """The text of an item, drawing it with the next listed items not drawn yet (one batch)."""
        if href not in self._texts:
            listing = self.listing()
            batch = {href: listing[href].pk}
            for name in self._ordered()[self._ordered().index(href):]:
                if len(batch) >= RENDER_BATCH:
                    break
                if name not in self._texts:
                    batch[name] = listing[name].pk
            self._render(batch)
        return self._texts[href]

    def _ordered(self) -> list[str]:
        """The listed hrefs in order, sorted once per listing (Radicale reads items in this order)."""
        listing = self.listing()
        if self._order is None or self._order[0] is not listing:
            self._order = (listing, sorted(listing))
        return self._order[1]

    def _render(self, pks_by_href: Mapping[str, int]) -> None:
        records = self.source.records(pks_by_href.values())
        texts = self.source.texts(records)
        for href, pk in pks_by_href.items():
            if pk in texts:
                self._texts[href] = texts[pk]

    def _item(self, href: str, listed: Listed) -> radicale_item.Item:
        return LazyItem(draw=self._draw, collection=self, href=href, etag=listed.etag,
                        last_modified=_http_date(listed.updated_at), name=self.source.item_name,
                        component_name=self.source.component)

    def get_all(self) -> Iterable[radicale_item.Item]:
        listing = self.listing()
        return [self._item(href, listing[href]) for href in self._ordered()]

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        names = list(dict.fromkeys(hrefs))
        listing = self.listing()
        self._render({name: listing[name].pk for name in names if name in listing and name not in self._texts})
        return [(name, self._item(name, listing[name]) if name in self._texts else None) for name in names]

    def get_filtered(self, filters: Iterable[Any]) -> Iterable[tuple[radicale_item.Item, bool]]:
        tag, start, end, _simple = radicale_filter.simplify_prefilters(filters, self.info.tag)
        if tag is not None and tag != self.source.component:
            return []
        listing = self.listing()
        if (start, end) == (radicale_filter.TIMESTAMP_MIN, radicale_filter.TIMESTAMP_MAX):
            wanted = set(listing)
        else:
            pks = set(self.source.in_range(self.source.queryset(), dt.datetime.fromtimestamp(start, dt.UTC),
                                           dt.datetime.fromtimestamp(end, dt.UTC)).values_list("pk", flat=True))
            wanted = {href for href, listed in listing.items() if listed.pk in pks}
        found = sorted(wanted)
        for batch_start in range(0, len(found), RENDER_BATCH):
            batch = found[batch_start:batch_start + RENDER_BATCH]
            self._render({name: listing[name].pk for name in batch if name not in self._texts})
        # Radicale checks every filter on the items found (False: "not checked here").
        return [(self._item(name, listing[name]), False) for name in found if name in self._texts]

    def has_uid(self, uid: str) -> bool:
        return self.source.queryset().filter(uid__in=self.source.uids(uid)).exists()

    @property
    def etag(self) -> str:
        row = self._row()
        return f'"{row.pk}-{row.seq}"'

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        row = self._row()
        token = changes.token(row)
        if not old_token:
            return token, sorted(self.listing())
        return token, changes.changed_since(row, changes.parse_token(row, old_token))

    @property
    def tag(self) -> str:
        # Radicale reads it once per listed item: never a query.
        return self.info.tag

    def _props(self) -> dict[str, str]:
        if self._client_props is None:
            row = SyncCollection.objects.filter(user=self.user, name=self.info.name).only("props").first()
            self._client_props = dict(row.props) if row is not None else {}
        return self._client_props

    def get_meta(self, key: str | None = None) -> Any:
        meta: dict[str, str] = {"tag": self.info.tag, "D:displayname": self.info.title}
        if self.info.tag == "VCALENDAR":
            meta["C:supported-calendar-component-set"] = self.info.component
            meta["C:calendar-description"] = self.info.description
        else:
            meta["CR:addressbook-description"] = self.info.description
        meta.update({name: value for name, value in self._props().items() if name not in PROTECTED_META})
        return meta.get(key) if key is not None else meta

    def set_meta(self, props: Mapping[str, str]) -> None:
        if not self.info.writable:
            raise refuse(403, _("%(name)s is read only.") % {"name": self.info.title})
        row = changes.collection_row(self.user, self.info.name)
        row.props = {name: value for name, value in props.items() if name not in PROTECTED_META}
        row.save(update_fields=["props"])
        self._client_props = None

    @property
    def last_modified(self) -> str:
        row = self._row()
        return _http_date(row.changed_at)

    # -- writing (under Storage.acquire_lock("w"), so inside one transaction) --

    def locked(self, href: str) -> Any | None:
        """The record behind an item, locked against other writers for the rest of the request."""
        listed = self.listing().get(href)
        if listed is None:
            return None
        record = self.source.queryset().select_for_update(of=("self",)).filter(pk=listed.pk).first()
        listing = self.listing()
        if record is None:
            listing.pop(href, None)
        else:
            # Radicale compares If-Match with the ETag it is given: the one of the row now locked, not the
            # one listed before the lock (a save committed in between would otherwise be overwritten).
            listing[href] = self.source.listed(record)
        return record

    def upload(self, href: str, item: radicale_item.Item) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        if not self.info.writable:
            raise refuse(403, _("%(name)s is read only.") % {"name": self.info.title})
        record = self.locked(href)
        old = self.listing().get(href)
        try:
            body = _current().body
            saved = self.source.put(text=body if body is not None else item.serialize(), record=record, href=href)
        except DavRefusal as exc:
            raise refuse(exc.status, exc.message) from exc
        except PermissionDenied as exc:
            raise refuse(403, str(exc) or _("You may not change this item.")) from exc
        self._listing = None
        self._texts.pop(href, None)
        listed = self.listing().get(href)
        if listed is None or listed.pk != saved.pk:
            # Saved, but no longer in this collection (assigned elsewhere): the client must not keep it.
            raise refuse(409, _("Saved, but the item no longer belongs in %(name)s.") % {"name": self.info.title})
        return self._item(href, listed), self._item(href, old) if old is not None else None

    def delete(self, href: str | None = None) -> None:
        if href is None:
            raise refuse(403, _("Rapport's calendars and address books cannot be deleted."))
        if not self.info.writable:
            raise refuse(403, _("%(name)s is read only.") % {"name": self.info.title})
        record = self.locked(href)
        if record is None:
            raise refuse(404, _("No such item."))
        try:
            self.source.delete(record)
        except PermissionDenied as exc:
            raise refuse(403, str(exc) or _("You may not delete this item.")) from exc
        self._listing = None


# Meta Rapport decides; a client's PROPPATCH may set anything else (a colour, an order).
PROTECTED_META = frozenset({"tag", "C:supported-calendar-component-set"})


# --- The plugins ----------------------------------------------------------------------------------

class Storage(radicale_storage.BaseStorage):
    """Rapport's tables as Radicale's storage."""

    # Names are database values, not file names: any UID or client-chosen href is fine.
    _is_collision_free = True
    _supports_unicode = True
    _supports_problematic_chars = True

    def discover(self, path: str, depth: str = "0", child_context_manager: Any = None,
                 user_groups: Any = frozenset()) -> Iterator[Any]:
        parts = [part for part in pathutils.strip_path(path).split("/") if part]
        if not parts:
            yield Root()
            return
        user = _user(parts[0])
        if user is None:
            return
        if len(parts) == 1:
            yield Principal(user)
            if depth != "0":
                yield from (Collection(user, info) for info in collections_for(user))
            return
        info = collection_info(user, parts[1])
        if info is None or len(parts) > 3:
            return
        collection = Collection(user, info)
        if len(parts) == 2:
            yield collection
            if depth != "0":
                yield from collection.get_all()
            return
        href = parts[2]
        if _current().writing and collection.locked(href) is None:
            return
        listed = collection.listing().get(href)
        if listed is None:
            return
        yield collection._item(href, listed)

    def move(self, item: radicale_item.Item, to_collection: radicale_storage.BaseCollection, to_href: str) -> None:
        raise refuse(403, _("Moving items between collections is not supported; copy and delete instead."))

    def create_collection(self, href: str, items: Any = None, props: Any = None) -> Any:
        raise refuse(403, _("Rapport's collections are fixed; new calendars or address books cannot be made here."))

    @contextlib.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        if mode != "w":
            yield
            return
        state = _current()
        with transaction.atomic():
            state.writing = True
            try:
                yield
            finally:
                state.writing = False
                state.rows.clear()

    def verify(self) -> bool:
        return True


class Auth(radicale_auth.BaseAuth):
    """Sign-in with the Rapport username and an app password (never the sign-in password)."""

    def _login(self, login: str, password: str) -> str:
        from rapport.sync.services import app_password_authenticate

        user = app_password_authenticate(username=login, password=password)
        return user.username if user is not None else ""


class Rights(radicale_rights.BaseRights):
    """A user reads and writes their own calendar, tasks and contacts, and reads their shared calendars."""

    def authorization(self, user: str, user_groups: Any, path: str) -> str:
        known = _current().rights
        key = (user, path)
        if key not in known:
            known[key] = self._authorization(user, path)
        return known[key]

    def _authorization(self, user: str, path: str) -> str:
        if not user:
            return ""
        parts = [part for part in pathutils.strip_path(path).split("/") if part]
        if not parts:
            return "R"
        if parts[0] != user:
            return ""
        if len(parts) == 1:
            return "R"
        if len(parts) == 2:
            account = _user(user)
            info = collection_info(account, parts[1]) if account is not None else None
            if info is None:
                return ""
            return "rw" if info.writable else "r"
        return ""
