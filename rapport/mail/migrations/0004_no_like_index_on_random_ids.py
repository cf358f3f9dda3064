from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("mail", "0003_logged_email")]

    operations = [without_like_indexes("mail", {"EmailMessage": ("public_id",)})]
