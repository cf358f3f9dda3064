"""The default job functions. Admins may change them afterwards in Settings or the admin."""

from django.db import migrations

DEFAULT_ROLES = [
    # slug, name, description, is_admin, create, read, update, delete
    ("admin", "Administrator", "Every right, and the Settings pages.", True, "all", "all", "all", "all"),
    ("manager", "Manager", "Works with every record and changes the team's.", False, "all", "all", "team", "team"),
    ("sales", "Sales", "Creates records and changes their own.", False, "own", "all", "own", "own"),
    ("support", "Support", "Creates records and changes their own.", False, "own", "all", "own", "own"),
    ("marketing", "Marketing", "Creates records and changes their own; deletes nothing.", False,
     "own", "all", "own", "none"),
    ("read-only", "Read-only", "Reads what is shared with them; changes nothing.", False,
     "none", "all", "none", "none"),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for slug, name, description, is_admin, create, read, update, delete in DEFAULT_ROLES:
        Role.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name, "description": description, "is_admin": is_admin, "create_scope": create,
                "read_scope": read, "update_scope": update, "delete_scope": delete,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
