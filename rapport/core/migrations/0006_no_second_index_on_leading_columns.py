import django.db.models.deletion
from django.db import migrations, models

from rapport.core.migration_ops import without_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0005_history_merged_distinct'),
    ]

    # Only the indexes are dropped: a plain AlterField would copy each table on SQLite.
    operations = [
        without_field_indexes(
            "core",
            migrations.AlterField(
                model_name='historyentry',
                name='content_type',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='contenttypes.contenttype'),
            ),
        ),
    ]
