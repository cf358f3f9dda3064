"""PostgreSQL searches each record type through its own partial GIN index (search migration 0003): one
index for all made every word start gather the matches of every type (docs/performance.md). A type made
searchable later must bring its index, or its searches read the whole table."""

from __future__ import annotations

import pytest
from django.db import connection

from rapport.search.registry import searchable_types

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the partial GIN indexes are PostgreSQL's"),
]


def test_every_searchable_type_has_its_own_full_text_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_entry'")
        definitions = dict(cursor.fetchall())
    for search_type in searchable_types():
        definition = definitions.get(f"search_entry_{search_type.key}_document_idx", "")
        assert "USING gin (document)" in definition, search_type.key
        assert f"WHERE ((record_type)::text = '{search_type.key}'::text)" in definition, search_type.key
    assert "search_entry_document_idx" not in definitions  # the one index for all types is gone
