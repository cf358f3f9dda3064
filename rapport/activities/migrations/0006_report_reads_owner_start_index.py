from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import analyze_on_sqlite


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0005_no_second_index_on_leading_columns'),
        ('directory', '0009_no_second_index_on_leading_columns'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_owner_start_idx',
        ),
        migrations.AddIndex(
            model_name='activity',
            index=models.Index(fields=['owner', 'starts_at', 'kind', 'status', 'visibility', 'deleted_at'], name='activity_owner_start_idx'),
        ),
        analyze_on_sqlite("activities_activity"),
    ]
