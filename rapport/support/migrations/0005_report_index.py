from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import analyze_on_sqlite


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0009_no_second_index_on_leading_columns'),
        ('sales', '0004_no_like_index_on_random_ids'),
        ('support', '0004_no_like_index_on_random_ids'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='supportitem',
            index=models.Index(fields=['status', 'priority', 'created_at', 'deleted_at', 'visibility', 'owner', 'assignee'], name='support_report_idx'),
        ),
        analyze_on_sqlite("support_supportitem"),
    ]
