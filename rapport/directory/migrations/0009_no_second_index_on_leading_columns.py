import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from rapport.core.migration_ops import without_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0008_no_like_index_on_random_ids'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Only the indexes are dropped: a plain AlterField would copy each table on SQLite.
    operations = [
        without_field_indexes(
            "directory",
            migrations.AlterField(
                model_name='account',
                name='owner',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='account',
                name='parent',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='children', to='directory.account', verbose_name='parent account'),
            ),
            migrations.AlterField(
                model_name='contact',
                name='account',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='contacts', to='directory.account', verbose_name='account'),
            ),
            migrations.AlterField(
                model_name='contact',
                name='owner',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
        ),
    ]
