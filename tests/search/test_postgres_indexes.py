"""PostgreSQL searches each record type through its own partial GIN index (search migration 0003): one
index for all made every word start gather the matches of every type (docs/performance.md). A type made
searchable later must bring its index (a migration of its own), or its searches read the whole table."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from rapport.search.registry import searchable_types

ON_POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="the partial GIN indexes are PostgreSQL's")


def test_the_migration_covers_every_searchable_type():
    """Checked on every database, so that a new searchable type fails CI on SQLite too."""
    migration = importlib.import_module("rapport.search.migrations.0003_type_indexes")
    assert {t.key for t in searchable_types()} <= set(migration.TYPES)


@ON_POSTGRES
@pytest.mark.django_db
def test_every_searchable_type_has_its_own_full_text_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_entry'")
        definitions = dict(cursor.fetchall())
    for search_type in searchable_types():
        definition = definitions.get(f"search_entry_{search_type.key}_document_idx", "")
        assert "USING gin (document)" in definition, search_type.key
        assert f"WHERE ((record_type)::text = '{search_type.key}'::text)" in definition, search_type.key
    assert "search_entry_document_idx" not in definitions  # the one index for all types is gone
