"""Migration steps shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def without_like_indexes(app_label: str, fields: dict[str, tuple[str, ...]]) -> migrations.RunPython:
    """Drop PostgreSQL's second index on these unique text columns (Django adds a varchar_pattern_ops
    "_like" index beside the unique one, for LIKE 'abc%'). Public ids and uids are random and only ever
    looked up whole, so that index served no query; but every row written went into it at a random place,
    which on PostgreSQL was half the cost of inserting a task (a rule sweep writes 78,000 of them).
    Other databases have no such index; going back makes it again."""

    def each_field(apps: Any) -> list[tuple[Any, Any]]:
        found = []
        for model_name, names in fields.items():
            model = apps.get_model(app_label, model_name)
            found.extend((model, model._meta.get_field(name)) for name in names)
        return found

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in each_field(apps):
            name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="_like")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in each_field(apps):
            sql = schema_editor._create_like_index_sql(model, field)
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)
