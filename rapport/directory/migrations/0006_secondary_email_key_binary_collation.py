# The contact's other email key compares byte by byte on PostgreSQL too, as the other key columns do
# (migration 0002): the duplicates list walks email keys in ranges, and both email columns must agree
# on what lies between two keys.

from django.db import migrations


def binary_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "directory_contact" ALTER COLUMN "secondary_email_key" TYPE varchar(254) COLLATE "C"')


def default_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE "directory_contact" ALTER COLUMN "secondary_email_key" TYPE varchar(254) COLLATE "default"')


class Migration(migrations.Migration):

    dependencies = [
        ("directory", "0005_secondary_email_key"),
    ]

    operations = [
        migrations.RunPython(binary_collation, default_collation),
    ]
