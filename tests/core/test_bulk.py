"""core.bulk: the set-based INSERTs that imports and rule sweeps write through, checked against what
Django's own save() would have stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from rapport.activities.models import Activity, ActivityStatus, ActivityType
from rapport.activities.selectors import default_task_kind
from rapport.core.bulk import insert_objects, insert_rows
from rapport.core.models import HistoryEntry
from rapport.directory.models import Account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_inserted_objects_get_their_ids_timestamps_defaults_and_json_as_save_would():
    owner = UserFactory()
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    before = timezone.now()
    kind = default_task_kind()
    tasks = [Activity(owner=owner, created_by=owner, kind=kind, activity_type=ActivityType.TASK,
                      subject=f"Call {n} Ødegård", status=ActivityStatus.OPEN, starts_at=due + dt.timedelta(hours=n),
                      ends_at=due + dt.timedelta(hours=n), all_day=True) for n in range(5)]
    insert_objects(tasks)
    assert len({task.pk for task in tasks}) == 5 and all(task.pk for task in tasks)
    stored = Activity.objects.in_bulk([task.pk for task in tasks])
    for n, task in enumerate(tasks):  # each object got its own row's id
        row = stored[task.pk]
        assert (row.subject, row.starts_at, row.public_id) == (f"Call {n} Ødegård", due + dt.timedelta(hours=n),
                                                               task.public_id)
        assert row.owner_id == owner.pk and row.created_at >= before
        assert row.version == Activity._meta.get_field("version").default
    activity_type = ContentType.objects.get_for_model(Activity)
    entries = insert_objects([HistoryEntry(content_type=activity_type, object_id=task.pk,
                                           kind=HistoryEntry.Kind.CREATED,
                                           changes={"rule": [None, "Welcome «new» customers"], "n": n})
                              for n, task in enumerate(tasks)])
    for n, entry in enumerate(entries):
        assert HistoryEntry.objects.get(pk=entry.pk).changes == {"rule": [None, "Welcome «new» customers"], "n": n}


def test_a_row_given_as_values_takes_the_defaults_of_the_columns_it_leaves_out():
    owner = UserFactory()
    now = timezone.now()
    ids = insert_rows(Account, [{"name": "Ångström AB", "name_key": "angstrom ab", "owner_id": owner.pk,
                                 "created_by_id": owner.pk, "public_id": f"acc{n}", "created_at": now,
                                 "updated_at": now} for n in range(450)])  # more than one statement's rows
    assert len(ids) == 450
    account = Account.objects.get(pk=ids[-1])
    assert (account.name, account.public_id, account.email, account.version) == ("Ångström AB", "acc449", "", 1)


def test_values_every_row_shares_are_given_once_and_a_missing_timestamp_is_the_call_s_now():
    owner, other = UserFactory(), UserFactory()
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    before = timezone.now()
    ids = insert_rows(Activity, [{"owner_id": (owner, other)[n % 2].pk, "subject": f"Call {n} Ödön"}
                                 for n in range(450)],  # more than one statement's rows on SQLite
                      same={"created_by_id": owner.pk, "kind_id": default_task_kind().pk, "starts_at": due,
                            "ends_at": due, "activity_type": ActivityType.TASK, "status": ActivityStatus.OPEN})
    stored = Activity.objects.in_bulk(ids)
    assert len(stored) == 450
    for n, pk in enumerate(ids):  # each id is its own row's, the shared values on every row
        row = stored[pk]
        assert (row.subject, row.owner_id, row.created_by_id, row.starts_at, row.activity_type) == (
            f"Call {n} Ödön", (owner, other)[n % 2].pk, owner.pk, due, ActivityType.TASK)
        assert row.created_at >= before and row.created_at == row.updated_at
    assert len({row.public_id for row in stored.values()}) == 450  # a callable default is called per row
    entries = insert_rows(HistoryEntry, [{"object_id": pk} for pk in ids[:3]], same={
        "content_type_id": ContentType.objects.get_for_model(Activity).pk, "kind": HistoryEntry.Kind.CREATED,
        "changes": {"rule": [None, "Relance «J+60»"]}})
    assert [entry.changes for entry in HistoryEntry.objects.filter(pk__in=entries)] == [
        {"rule": [None, "Relance «J+60»"]}] * 3

