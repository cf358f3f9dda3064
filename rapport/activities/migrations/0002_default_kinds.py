"""The kinds of activity every install starts with; administrators add more in the admin."""

from django.db import migrations

DEFAULT_KINDS = [("call", "Call", 10), ("meeting", "Meeting", 20), ("email", "Email", 30), ("todo", "To-do", 40)]


def create_kinds(apps, schema_editor):
    ActivityKind = apps.get_model("activities", "ActivityKind")
    for key, label, position in DEFAULT_KINDS:
        ActivityKind.objects.get_or_create(key=key, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]
    operations = [migrations.RunPython(create_kinds, migrations.RunPython.noop)]
