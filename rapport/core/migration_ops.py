"""Migration steps shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rapport.core.tasks import analyze_sqlite


def _each_field(apps: Any, app_label: str, fields: dict[str, tuple[str, ...]]) -> list[tuple[Any, Any]]:
    """(historical model, field) for each named field."""
    found = []
    for model_name, names in fields.items():
        model = apps.get_model(app_label, model_name)
        found.extend((model, model._meta.get_field(name)) for name in names)
    return found


def without_like_indexes(app_label: str, fields: dict[str, tuple[str, ...]]) -> migrations.RunPython:
    """Drop PostgreSQL's second index on these unique text columns (Django adds a varchar_pattern_ops
    "_like" index beside the unique one, for LIKE 'abc%'). Public ids and uids are random and only ever
    looked up whole, so that index served no query; but every row written went into it at a random place,
    which on PostgreSQL was half the cost of inserting a task (a rule sweep writes 78,000 of them).
    Other databases have no such index; going back makes it again."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in _each_field(apps, app_label, fields):
            name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="_like")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in _each_field(apps, app_label, fields):
            sql = schema_editor._create_like_index_sql(model, field)
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)


def without_field_indexes(app_label: str, *changes: migrations.AlterField) -> migrations.SeparateDatabaseAndState:
    """These AlterFields (each turning a foreign key's `db_index` off), with the database dropping just the
    single-column index Django made for each, by the name Django gave it. Where a composite index or a
    unique constraint already starts with the column, every lookup the small index served, the wider one
    serves, while every row written went into both. On SQLite a plain AlterField would copy the whole
    table to drop one index (five million activities on the benchmark's data set). Going back makes the
    indexes again."""
    return _field_indexes(app_label, changes, make=False)


def with_field_indexes(app_label: str, *changes: migrations.AlterField) -> migrations.SeparateDatabaseAndState:
    """The way back of without_field_indexes, as a migration of its own: these AlterFields (each turning a
    foreign key's `db_index` on), with the database making just the single-column index, by the name Django
    gives it, without copying the table on SQLite. Going back drops them."""
    return _field_indexes(app_label, changes, make=True)


def _field_indexes(app_label: str, changes: tuple[migrations.AlterField, ...], *,
                   make: bool) -> migrations.SeparateDatabaseAndState:
    fields: dict[str, tuple[str, ...]] = {}
    for change in changes:
        fields[change.model_name] = (*fields.get(change.model_name, ()), change.name)

    def drop(apps: Any, schema_editor: Any) -> None:
        for model, field in _each_field(apps, app_label, fields):
            name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps: Any, schema_editor: Any) -> None:
        # IF NOT EXISTS, as the drop's IF EXISTS: a database that kept the index (a migration faked) is fine.
        for model, field in _each_field(apps, app_label, fields):
            sql = str(schema_editor._create_index_sql(model, fields=[field]))
            schema_editor.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))

    forwards, backwards = (create, drop) if make else (drop, create)
    return migrations.SeparateDatabaseAndState(database_operations=[migrations.RunPython(forwards, backwards)],
                                               state_operations=list(changes))


def analyze_on_sqlite(*tables: str) -> migrations.RunPython:
    """Refresh SQLite's planner statistics of these tables after a migration made an index on them: until
    then SQLite knows nothing of the new index and may plan around it (the periodic optimize_database job
    would catch up within hours). PostgreSQL's autovacuum does this by itself."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            analyze_sqlite(schema_editor.connection, *tables)

    return migrations.RunPython(forwards, migrations.RunPython.noop)
