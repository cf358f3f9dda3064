"""Permission-matrix subjects and snapshot tables of the imports app (see world_emails.py for the form).

The subject is an import job of `owner`'s, uploaded and mapped but not started: a job is its owner's and the
administrators' alone, whatever anyone's role (there is no visibility to vary).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

MATRIX_CSV = b"First name,Last name,Email\nMatrix,Imported,matrix-imported@example.com\n"


def _job(personas: Personas) -> Any:
    from rapport.imports.services import import_upload

    return import_upload(actor=personas.owner, file_name="matrix.csv", data=MATRIX_CSV, record_type="contact")


def _rows(model_label: str) -> Callable[[], Any]:
    def rows() -> Any:
        from django.apps import apps

        return apps.get_model(model_label).objects.order_by("pk").values()

    return rows


RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {"import job": _job}
SNAPSHOT: dict[str, Callable[[], Any]] = {
    "import_jobs": _rows("imports.ImportJob"),
    "import_files": _rows("imports.ImportFile"),
    "import_problems": _rows("imports.ImportProblem"),
}
