import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import without_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0004_no_like_index_on_random_ids'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Only the indexes are dropped: a plain AlterField would copy each table on SQLite.
    operations = [
        without_field_indexes(
            "activities",
            migrations.AlterField(
                model_name='activity',
                name='owner',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='activityassignee',
                name='activity',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='activities.activity'),
            ),
            migrations.AlterField(
                model_name='activityassignee',
                name='user',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
            ),
            migrations.AlterField(
                model_name='activitylink',
                name='activity',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='links', to='activities.activity'),
            ),
        ),
    ]
