"""Name keys compare byte by byte on PostgreSQL, as on SQLite, so that prefix searches
(key >= 'mul' AND key < 'mul' || U+10FFFF) are exact and use the index whatever the server's locale
(as directory 0002 does for accounts and contacts)."""

from django.db import migrations

KEY_COLUMNS = {"templating_template": {"name_key": 150}}


def binary_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in KEY_COLUMNS.items():
        for column, length in columns.items():
            schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "C"')


def default_collation(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in KEY_COLUMNS.items():
        for column, length in columns.items():
            schema_editor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("templating", "0001_initial")]
    operations = [migrations.RunPython(binary_collation, default_collation)]
