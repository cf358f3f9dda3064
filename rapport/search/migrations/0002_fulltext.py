"""The full-text side of the search index, per database (see rapport/search/backends.py).

SQLite: the FTS5 table over search_entry and the triggers that keep it in step.
PostgreSQL: pg_trgm, the generated tsvector column with its GIN index, and a trigram index over the
typo dictionary's words.
Each step runs only on its own database.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# Contentless: search_entry holds the text; "kind" is "@" + the record type, one token ("@" is a letter here).
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(kind, title, body, content='', "
    "tokenize=\"unicode61 remove_diacritics 2 tokenchars '@'\", prefix='2 3 4')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, kind, title, body) VALUES (new.id, '@' || new.record_type, new.title, new.body); "
    "END",
    "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, kind, title, body) "
    "VALUES ('delete', old.id, '@' || old.record_type, old.title, old.body); END",
    "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, kind, title, body) "
    "VALUES ('delete', old.id, '@' || old.record_type, old.title, old.body); "
    "INSERT INTO search_fts(rowid, kind, title, body) VALUES (new.id, '@' || new.record_type, new.title, new.body); "
    "END",
)
POSTGRES = (
    "ALTER TABLE search_entry ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(array_to_tsvector(ARRAY['@' || record_type::text]), 'D') || "
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B')) STORED",
    # No pending list: a search never scans megabytes of not-yet-merged entries (each save updates the index).
    "CREATE INDEX search_entry_document_idx ON search_entry USING gin (document) WITH (fastupdate = off)",
    "CREATE INDEX search_word_trgm_idx ON search_word USING gin (word gin_trgm_ops) WHERE variant = word",
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [SQLITE_FTS, *SQLITE_TRIGGERS] if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else []
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in ("search_entry_ai", "search_entry_ad", "search_entry_au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS search_word_trgm_idx")
        schema_editor.execute("DROP INDEX IF EXISTS search_entry_document_idx")
        schema_editor.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS document")


class PostgresTrigramExtension(TrigramExtension):
    """pg_trgm, on PostgreSQL only (Django's operation skips other databases going forwards, not back)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        PostgresTrigramExtension(),
        migrations.RunPython(forwards, backwards),
    ]
