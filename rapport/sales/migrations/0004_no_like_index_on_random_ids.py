from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_list_orderings_indexes")]

    operations = [without_like_indexes("sales", {"Order": ("public_id",), "Opportunity": ("public_id",), "Lead": ("public_id",)})]
