"""PostgreSQL: one partial GIN index over `search_entry.document` per record type, instead of one for all.

A word start ("mül") asked of the single index gathered every matching entry of every type — all the
activities' "Müller"s — before keeping the type's own: about 30 ms per type even where the type held none,
eight times per keystroke (issue 4, docs/performance.md). A type's own index holds its rows only.

The types are those searchable when this was written. A record type made searchable later adds its own
index in a migration of its own (`CREATE INDEX search_entry_<key>_document_idx ... WHERE record_type =
'<key>'`); tests/search/test_postgres_indexes.py fails until it does. SQLite is untouched: FTS5 selects the
type by its "@type" token.
"""

from django.db import migrations

TYPES = ("account", "contact", "lead", "opportunity", "order", "project", "support_item", "activity", "note",
         "document", "email")


def _create(key: str) -> str:
    return (f"CREATE INDEX search_entry_{key}_document_idx ON search_entry USING gin (document) "
            f"WITH (fastupdate = off) WHERE record_type = '{key}'")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Building several GIN indexes over millions of rows: the default 64 MB spills to disk many times over.
    schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for key in TYPES:
        schema_editor.execute(_create(key))
    schema_editor.execute("DROP INDEX IF EXISTS search_entry_document_idx")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE INDEX search_entry_document_idx ON search_entry USING gin (document) "
                          "WITH (fastupdate = off)")
    for key in TYPES:
        schema_editor.execute(f"DROP INDEX IF EXISTS search_entry_{key}_document_idx")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext")]

    operations = [migrations.RunPython(forwards, backwards)]
