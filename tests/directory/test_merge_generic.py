"""A relation the merge was never told about is carried all the same.

The test declares, at run time, three models a later app could bring (documents, projects): a foreign
key to Contact with a unique constraint, a GenericForeignKey, and a (record_type, record_id) pair; it
creates their tables, merges two contacts, and checks every row now names the one kept (the row that
would break the unique constraint dropped, the kept one's winning). The tables are dropped and the
models forgotten afterwards.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from rapport.core.models import Visibility
from rapport.directory import merge, services
from tests.conftest import restore_migration_data

pytestmark = pytest.mark.django_db(transaction=True)
# The probe models are declared for this test only and never shown: no __str__ needed.
# ruff: noqa: DJ008

LABEL = "directory"


def _declare() -> list[type[models.Model]]:
    class MergeProbeDocument(models.Model):
        contact = models.ForeignKey("directory.Contact", on_delete=models.CASCADE, related_name="+")
        folder = models.CharField(max_length=20)

        class Meta:
            app_label = LABEL
            constraints = [models.UniqueConstraint(fields=["contact", "folder"], name="merge_probe_once")]

    class MergeProbeTag(models.Model):
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
        object_id = models.PositiveBigIntegerField()
        target = GenericForeignKey("content_type", "object_id")
        tag = models.CharField(max_length=20)

        class Meta:
            app_label = LABEL

    class MergeProbeLink(models.Model):
        subject_type = models.CharField(max_length=30)
        subject_id = models.BigIntegerField()
        project = models.CharField(max_length=40)

        class Meta:
            app_label = LABEL

    return [MergeProbeDocument, MergeProbeTag, MergeProbeLink]


@pytest.fixture
def probes():
    restore_migration_data()
    declared = _declare()
    with connection.schema_editor() as editor:
        for model in declared:
            editor.create_model(model)
    try:
        yield declared
    finally:
        with connection.schema_editor() as editor:
            for model in declared:
                editor.delete_model(model)
        for model in declared:
            del apps.all_models[LABEL][model._meta.model_name]
        apps.clear_cache()


def test_a_relation_declared_later_is_carried(probes):
    from tests.conftest import build_personas

    document, tag, link = probes
    owner = build_personas().owner
    make = {"actor": owner, "confirm_duplicate": True}
    kept = services.contact_create(data={"last_name": "Kept", "visibility": Visibility.EVERYONE}, **make)
    gone = services.contact_create(data={"last_name": "Gone", "visibility": Visibility.EVERYONE}, **make)
    document.objects.create(contact=kept, folder="contracts")
    clash = document.objects.create(contact=gone, folder="contracts")  # the kept one's row wins
    moved = document.objects.create(contact=gone, folder="letters")
    tag.objects.create(target=gone, tag="vip")
    link.objects.create(subject_type="contact", subject_id=gone.pk, project="Roll-out")
    link.objects.create(subject_type="account", subject_id=gone.pk, project="Another type, same id")

    result = merge.contact_merge(actor=owner, contact=kept, other=gone, version=kept.version,
                                 other_version=gone.version)

    assert set(document.objects.values_list("contact_id", "folder")) == {(kept.pk, "contracts"), (kept.pk, "letters")}
    assert not document.objects.filter(pk=clash.pk).exists() and document.objects.get(pk=moved.pk).contact_id == kept.pk
    assert tag.objects.get().object_id == kept.pk
    assert set(link.objects.values_list("subject_type", "subject_id")) == {("contact", kept.pk), ("account", gone.pk)}
    assert result.carried[document._meta.label] == 1 and result.carried[tag._meta.label] == 1
