"""Keeping the global search index current (owned by the search work; this is its agreed interface).

Saves through rapport.core.records reach the index by themselves (a record listener for changes, a
lifecycle listener for soft deletes and restores), and so does any `save()` of a searchable model (a
post_save receiver: factories, mail intake). A write that goes around them (a bulk import, a merge, a
set-based update) calls `index_records` / `unindex_records` in its own transaction. All of it runs in
the caller's transaction: the index changes exactly when the records do.

`reindex()` rebuilds the whole index (`rapport manage search_reindex`, the seed, the demo).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_save

from rapport.core.bulk import insert_rows
from rapport.search import backends
from rapport.search.models import SearchEntry, SearchWord
from rapport.search.text import index_text, typo_word, variants

CHUNK = 500
REBUILD_CHUNK = 2000
_INDEXED = "_search_indexed_version"


def _type_for(model: type[models.Model]) -> Any:
    from rapport.search.registry import searchable_for

    return searchable_for(model)


def _entry(search_type: Any, record: Any) -> dict[str, Any]:
    """A record's index row, as the values core.bulk.insert_rows writes (no model instance on this hot path)."""
    document = search_type.document(record)
    return {"record_type": search_type.key, "record_id": record.pk, "owner_id": record.owner_id,
            "visibility": record.visibility, "title": index_text(document.title, limit=2000),
            "body": index_text(document.text)}


def _title_words(entries: Iterable[dict[str, Any]]) -> set[str]:
    return {word for entry in entries for word in entry["title"].split() if typo_word(word)}


def _add(entries: list[dict[str, Any]]) -> None:
    """Write new index rows set-based (ids not read back), and teach the typo dictionary their title words."""
    insert_rows(SearchEntry, entries, returning=False)
    learn_words(_title_words(entries))


def learn_words(found: set[str]) -> None:
    """Put the words the typo dictionary does not know yet into it, under all their spellings."""
    if not found:
        return
    known = {word for variant, word in SearchWord.objects.filter(variant__in=found, word__in=found)
             .values_list("variant", "word") if variant == word}
    new = found - known
    if new:
        SearchWord.objects.bulk_create([SearchWord(variant=variant, word=word) for word in sorted(new)
                                        for variant in sorted(variants(word))],
                                       batch_size=1000, ignore_conflicts=True)


def index_instances(search_type: Any, records: Sequence[Any]) -> None:
    """(Re)index records as loaded: alive ones get their row written anew, deleted ones lose it."""
    if not records:
        return
    loaded = list(records)
    partial = [record.pk for record in loaded if record.get_deferred_fields() - set(search_type.defer)]
    if partial:  # loaded with only() some columns: read the rest in one query, not one per field and record
        fresh = search_type.model._default_manager.defer(*search_type.defer).in_bulk(partial)
        loaded = [fresh.get(record.pk, record) for record in loaded]
    entries = [_entry(search_type, record) for record in loaded if getattr(record, "deleted_at", None) is None]
    SearchEntry.objects.filter(record_type=search_type.key, record_id__in=[r.pk for r in loaded]).delete()
    _add(entries)
    for record in records:
        setattr(record, _INDEXED, record.version)


def index_records(model: type[models.Model], pks: Iterable[int]) -> None:
    """(Re)index these records of `model`, set-based: as they are now, or removed if gone or deleted."""
    search_type = _type_for(model)
    if search_type is None:
        return
    ids = list(dict.fromkeys(pks))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        records = list(search_type.model._default_manager.filter(pk__in=chunk).defer(*search_type.defer))
        found = {record.pk for record in records}
        index_instances(search_type, records)
        gone = [pk for pk in chunk if pk not in found]
        if gone:
            SearchEntry.objects.filter(record_type=search_type.key, record_id__in=gone).delete()


def index_new(model: type[models.Model], records: Sequence[Any]) -> None:
    """Index records just inserted in bulk, as built in memory with their new pk: unlike index_records there
    is no row of theirs to replace and nothing to read back (half of an import's indexing time)."""
    search_type = _type_for(model)
    if search_type is None:
        return
    for start in range(0, len(records), CHUNK):
        _add([_entry(search_type, record) for record in records[start:start + CHUNK]])


def unindex_records(model: type[models.Model], pks: Iterable[int]) -> None:
    """Remove these records of `model` from the index (after a hard delete or a merge)."""
    search_type = _type_for(model)
    if search_type is None:
        return
    ids = list(pks)
    for start in range(0, len(ids), CHUNK):
        SearchEntry.objects.filter(record_type=search_type.key, record_id__in=ids[start:start + CHUNK]).delete()


# --- Listeners ------------------------------------------------------------------------------------------


def _saved(sender: type[models.Model], instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    search_type = _type_for(sender)
    if search_type is not None:
        index_instances(search_type, [instance])


def connect_model(model: type[models.Model]) -> None:
    post_save.connect(_saved, sender=model, dispatch_uid=f"search-index-{model._meta.label_lower}")


def on_record_event(kind: str, record: Any, changes: dict[str, Any]) -> None:
    """core.registry's record listener: a create or a change of a record."""
    if getattr(record, _INDEXED, None) == getattr(record, "version", None):
        return  # its save() indexed it already, as it is now
    search_type = _type_for(type(record))
    if search_type is not None:
        index_instances(search_type, [record])


def on_lifecycle_event(kind: str, record: Any) -> None:
    """core.records' lifecycle listener: a soft delete drops the row, a restore writes it again."""
    search_type = _type_for(type(record))
    if search_type is None:
        return
    if kind == "deleted":
        SearchEntry.objects.filter(record_type=search_type.key, record_id=record.pk).delete()
    elif kind == "restored":
        index_instances(search_type, [record])


# --- Rebuilding -------------------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]


def progress_line(stream: Any = None) -> Progress:
    """A one-line progress report on stderr: "search index  contacts  12,000 / 100,000"."""
    out = stream or sys.stderr
    state: dict[str, Any] = {"label": "", "at": 0.0}

    def report(label: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if label == state["label"] and not final and now - state["at"] < 0.5:
            return
        state.update(label=label, at=now)
        out.write(f"\rsearch index  {label:<16} {done:>12,} / {total:,}" + ("\n" if final else ""))
        out.flush()

    return report


def reindex(*, keys: Sequence[str] | None = None, progress: Progress | None = None) -> dict[str, int]:
    """Rebuild the index of the given record types (default: all) from the records, in one transaction;
    returns how many rows each type has now."""
    from rapport.search.registry import searchable_types

    types = [t for t in searchable_types() if keys is None or t.key in keys]
    counts: dict[str, int] = {}
    with transaction.atomic():
        backends.before_rebuild()
        if keys is None:
            SearchEntry.objects.all().delete()
            SearchWord.objects.all().delete()
        else:
            SearchEntry.objects.filter(record_type__in=[t.key for t in types]).delete()
        found: set[str] = set()
        for search_type in types:
            counts[search_type.key] = _rebuild_type(search_type, found, progress)
        for start in range(0, len(ordered := sorted(found)), REBUILD_CHUNK):
            learn_words(set(ordered[start:start + REBUILD_CHUNK]))
        backends.after_rebuild()
    return counts


def _rebuild_type(search_type: Any, found: set[str], progress: Progress | None) -> int:
    manager = search_type.model._default_manager
    alive = manager.filter(deleted_at__isnull=True).defer(*search_type.defer)
    total = alive.count()
    done = 0
    last = 0
    label = str(search_type.label)
    if progress is not None:
        progress(label, 0, total)
    while True:
        chunk = list(alive.filter(pk__gt=last).order_by("pk")[:REBUILD_CHUNK])
        if not chunk:
            break
        entries = [_entry(search_type, record) for record in chunk]
        insert_rows(SearchEntry, entries, returning=False)
        found |= _title_words(entries)
        last = chunk[-1].pk
        done += len(chunk)
        if progress is not None:
            progress(label, min(done, total), total)
    if progress is not None and done < total:
        progress(label, total, total)
    return done
