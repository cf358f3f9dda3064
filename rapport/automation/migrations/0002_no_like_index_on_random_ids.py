from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial")]

    operations = [without_like_indexes("automation", {"FollowUp": ("public_id",)})]
