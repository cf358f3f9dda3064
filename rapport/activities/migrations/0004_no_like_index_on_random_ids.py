from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("activities", "0003_activity_dav_name")]

    operations = [without_like_indexes("activities", {"Activity": ("public_id", "uid"), "Note": ("public_id",)})]
