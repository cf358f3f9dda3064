"""The import runs in the worker: queued on commit, run once, progress readable while it runs."""

from __future__ import annotations

import pytest

from rapport.directory.models import Contact
from rapport.imports import services
from rapport.imports.models import ImportJob
from tests.imports import files

pytestmark = pytest.mark.django_db


def uploaded(user) -> ImportJob:
    return services.import_upload(actor=user, file_name="p.csv", data=files.outlook_csv(), record_type="contact")


def test_starting_queues_the_job_once_the_transaction_commits(personas, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    job = uploaded(personas.owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.import_start(actor=personas.owner, job=job)
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.filter(task_path="rapport.imports.tasks.run_import").ready()
    assert queued.count() == 1 and queued.get().args_kwargs["args"] == [job.pk]


def test_the_task_runs_the_import_and_a_second_run_does_nothing(personas, settings,
                                                               django_capture_on_commit_callbacks):
    from rapport.imports.tasks import run_import

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = uploaded(personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_start(actor=personas.owner, job=job)
    job.refresh_from_db()
    assert job.status == "done" and Contact.objects.count() == 2
    assert run_import.call(job.pk) == "not claimed"
    assert services.import_execute(job.pk) is None and Contact.objects.count() == 2
    assert not job.__class__.objects.filter(pk=job.pk, upload__isnull=False).exists()  # the file is not kept


def test_a_started_job_cannot_be_started_or_mapped_again(personas):
    from django.core.exceptions import ValidationError

    job = uploaded(personas.owner)
    services.import_start(actor=personas.owner, job=job)
    with pytest.raises(ValidationError):
        services.import_start(actor=personas.owner, job=job)
    with pytest.raises(ValidationError):
        services.import_configure(actor=personas.owner, job=job, mapping=job.mapping)


def test_progress_is_read_from_the_workers_file_while_it_runs(personas):
    job = uploaded(personas.owner)
    services.import_start(actor=personas.owner, job=job)
    ImportJob.objects.filter(pk=job.pk).update(status="running", total_rows=10)
    job.refresh_from_db()
    services._write_progress(job, 4, 10)
    assert services.import_progress(job) == (4, 10)
    services._clear_progress(job)
    assert services.import_progress(job) == (0, 10)


def test_a_job_left_running_by_a_dead_worker_is_taken_again_after_an_hour(personas):
    import datetime as dt

    from django.utils import timezone

    job = uploaded(personas.owner)
    services.import_start(actor=personas.owner, job=job)
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    assert services.import_execute(job.pk) is None
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - dt.timedelta(hours=2))
    assert services.import_execute(job.pk).status == "done" and Contact.objects.count() == 2
