import django.db.models.deletion
from django.db import migrations, models

from rapport.core.migration_ops import without_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0005_history_merged_distinct'),
    ]

    # Drop only the indexes (a plain AlterField would copy each table on SQLite); see without_field_indexes.
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[without_field_indexes("core", {"HistoryEntry": ("content_type",)})],
            state_operations=[
                migrations.AlterField(
                    model_name='historyentry',
                    name='content_type',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='contenttypes.contenttype'),
                ),
            ],
        ),
    ]
