from django.db import migrations

from rapport.core.migration_ops import without_like_indexes


class Migration(migrations.Migration):
    dependencies = [("directory", "0007_contact_dav_name_contact_vcard_source")]

    operations = [without_like_indexes("directory", {"Account": ("public_id",), "Contact": ("public_id", "uid")})]
