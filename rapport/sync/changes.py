"""The change log of a synced collection: sync tokens, and what changed since one.

DESIGN.md asks for a per-collection change sequence with tombstones, so that "what changed since
token T" is one indexed query. Rapport records it when a client reads the collection rather than on
every write: a record leaves a user's calendar not only when it is edited or deleted but when a role,
a team or a colleague's sharing changes what the user may see, and tracing every such change to the
calendars it touches would put a cost on every write in the product. So each read compares what the
collection holds now (href and ETag of every item, one query) with the entries stored at the last
read, and gives every difference the next sequence number; an item that is gone stays as a tombstone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from django.db import transaction
from django.utils import timezone

from rapport.core.models import User
from rapport.sync.models import SyncCollection, SyncEntry

TOKEN_PREFIX = "urn:rapport:sync:"
# Tombstones older than this are removed by prune_tombstones; a client holding an older token resyncs.
TOMBSTONE_AGE = dt.timedelta(days=60)


class BadToken(ValueError):
    """A sync token this collection cannot answer: unknown, from another collection, or expired."""


def collection_row(user: User, name: str) -> SyncCollection:
    row, _created = SyncCollection.objects.get_or_create(user=user, name=name)
    return row


def token(row: SyncCollection) -> str:
    return f"{TOKEN_PREFIX}{row.pk}:{row.seq}"


def parse_token(row: SyncCollection, text: str) -> int:
    """The sequence number a client's token stands for in this collection; BadToken if it stands for none."""
    if not text.startswith(TOKEN_PREFIX):
        raise BadToken(f"Not a Rapport sync token: {text[:80]!r}")
    collection_id, _sep, seq_text = text[len(TOKEN_PREFIX):].partition(":")
    if collection_id != str(row.pk) or not seq_text.isdigit():
        raise BadToken("This sync token belongs to another collection.")
    seq = int(seq_text)
    if seq > row.seq:
        raise BadToken("This sync token is newer than the collection.")
    if seq < row.pruned_seq:
        raise BadToken("This sync token has expired; the client must sync again from the start.")
    return seq


@transaction.atomic
def record_changes(row: SyncCollection,
                   live_items: Callable[[bool], tuple[Mapping[str, str], bool]]) -> SyncCollection:
    """Bring the collection's entries up to date with what it holds now; return the row.

    `live_items(fresh)` gives what it holds (href → ETag), and whether it read that just now: with
    fresh=False it may give a listing the request read a moment before the collection's row was locked,
    which is as good where it shows no change; where it shows one, the listing is read again under the
    lock, since one read before the lock
    could miss an item another request has just recorded and record it as gone (a client would delete
    it). Every new, changed, returned or vanished item gets one new sequence number, so a token taken
    before this call sees all of them and one taken after sees none. A read that finds no change writes
    nothing.
    """
    row = SyncCollection.objects.select_for_update().get(pk=row.pk)
    stored = {href: (etag, deleted, pk) for pk, href, etag, deleted in
              SyncEntry.objects.filter(collection=row).values_list("pk", "href", "etag", "deleted")}
    live, read_now = live_items(False)
    created, changed, gone = _differences(row, stored, live)
    if (created or changed or gone) and not read_now:
        created, changed, gone = _differences(row, stored, live_items(True)[0])
    if created or changed or gone:
        now = timezone.now()
        for entry in (*created, *changed, *gone):
            entry.changed_at = now
        SyncEntry.objects.bulk_create(created, batch_size=1000)
        SyncEntry.objects.bulk_update(changed + gone, ["etag", "seq", "deleted", "changed_at"], batch_size=1000)
        row.seq += 1
        row.changed_at = now
        row.save(update_fields=["seq", "changed_at"])
    return row


def _differences(row: SyncCollection, stored: Mapping[str, tuple[str, bool, int]], live: Mapping[str, str],
                 ) -> tuple[list[SyncEntry], list[SyncEntry], list[SyncEntry]]:
    """The entries to create, to change and to mark gone, each at the next sequence number."""
    seq = row.seq + 1
    created: list[SyncEntry] = []
    changed: list[SyncEntry] = []
    for href, etag in live.items():
        before = stored.get(href)
        if before is None:
            created.append(SyncEntry(collection=row, href=href, etag=etag, seq=seq))
        elif before[0] != etag or before[1]:
            changed.append(SyncEntry(pk=before[2], collection=row, href=href, etag=etag, seq=seq, deleted=False))
    gone = [SyncEntry(pk=pk, collection=row, href=href, etag=etag, seq=seq, deleted=True)
            for href, (etag, deleted, pk) in stored.items() if not deleted and href not in live]
    return created, changed, gone


def changed_since(row: SyncCollection, seq: int) -> list[str]:
    """The hrefs that changed or went away after sequence number `seq` (one range of an index)."""
    return list(SyncEntry.objects.filter(collection=row, seq__gt=seq).order_by("seq", "href")
                .values_list("href", flat=True))


def prune_tombstones(*, older_than: dt.timedelta = TOMBSTONE_AGE) -> int:
    """Remove tombstones older than `older_than`; a token from before them then answers "resync".

    Returns how many were removed. A token stays good while every removal after it is still recorded,
    so the collection remembers the newest sequence number it dropped and refuses tokens below it.
    """
    cutoff = timezone.now() - older_than
    removed = 0
    old = SyncEntry.objects.filter(deleted=True, changed_at__lt=cutoff)
    for collection_id in old.values_list("collection_id", flat=True).distinct():
        with transaction.atomic():
            row = SyncCollection.objects.select_for_update().get(pk=collection_id)
            mine = old.filter(collection=row)
            newest = max(mine.values_list("seq", flat=True), default=0)
            count, _detail = mine.delete()
            if count and newest > row.pruned_seq:
                row.pruned_seq = newest
                row.save(update_fields=["pruned_seq"])
            removed += count
    return removed
