import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import without_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('automation', '0002_no_like_index_on_random_ids'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Only the indexes are dropped: a plain AlterField would copy each table on SQLite.
    operations = [
        without_field_indexes(
            "automation",
            migrations.AlterField(
                model_name='followup',
                name='assignee',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='followup',
                name='rule',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='follow_ups', to='automation.rule'),
            ),
        ),
    ]
