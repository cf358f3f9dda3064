from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("support", "0003_due_sort")]

    operations = [without_like_indexes("support", {"SupportItem": ("public_id",)})]
