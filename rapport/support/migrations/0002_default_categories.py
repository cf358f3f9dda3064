"""The support categories a new company starts with; administrators change them in the admin."""

from django.db import migrations

DEFAULT_CATEGORIES = ["Question", "Problem", "Complaint", "Request", "Billing", "Feature request"]


def create_categories(apps, schema_editor):
    SupportCategory = apps.get_model("support", "SupportCategory")
    for position, name in enumerate(DEFAULT_CATEGORIES, start=1):
        SupportCategory.objects.get_or_create(name=name, defaults={"position": position * 10})


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
