"""The permission matrix entries of the imports app. See routes.py for the form.

Importing creates records, so it takes the create right (CREATE: everyone but the read-only user). An import
job is its owner's: only they map and start it; an administrator may look at it (its page, preview, progress
and report) but not act on it; everyone else is told it does not exist.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

from tests.permissions.routes import Call, Route, api, page
from tests.permissions.rules import CREATE, EVERYONE, PERSONAS, everyone, table
from tests.permissions.world import World
from tests.permissions.world_imports import MATRIX_CSV

JOB = "import job"
# Who sees a job: its owner and the administrators.
JOB_READERS = {persona: ("ok" if persona in ("owner", "admin") else 404) for persona in PERSONAS}
# Who acts on it: its owner; an administrator sees it but may not act (403).
JOB_OWNER = {persona: ("ok" if persona == "owner" else 403 if persona == "admin" else 404) for persona in PERSONAS}


def _upload(world: World, actor: str) -> dict[str, Any]:
    """The upload form: a small CSV read whole on every post (the CSRF test posts one body twice)."""
    return {"record_type": "contact",
            "file": SimpleNamespace(name="matrix.csv", content_type="text/csv", read=lambda: MATRIX_CSV)}


def _mapping(world: World, actor: str) -> dict[str, Any]:
    """The columns form, choosing "update" for duplicates (the subject has "skip"), so an allowed post changes it."""
    job = world.subject(JOB)
    data = {f"column_{i}": key for i, key in enumerate(job.mapping)}
    return {**data, "duplicates": "update", "visibility": "everyone"}


def _api_upload(world: World, actor: str) -> dict[str, Any]:
    return {"record_type": "contact", "file_name": "matrix.csv",
            "content_base64": base64.b64encode(MATRIX_CSV).decode()}


ROUTES: list[Route] = [
    # Pages
    page("import_list", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(CREATE, 302), writes=True, body=_upload)),
    page("import_detail", Call("GET", table(JOB_READERS, 200)),
         Call("POST", table(JOB_OWNER, 302), writes=True, body=_mapping), subject=JOB),
    page("import_preview", Call("GET", table(JOB_READERS, 200)), subject=JOB),
    page("import_start", Call("GET", everyone(405)), Call("POST", table(JOB_OWNER, 302), writes=True), subject=JOB),
    page("import_progress", Call("GET", table(JOB_READERS, 200)), subject=JOB),
    page("import_errors_csv", Call("GET", table(JOB_READERS, 200)), subject=JOB),
    page("import_rejects_csv", Call("GET", table(JOB_READERS, 200)), subject=JOB),

    # API
    api("POST /api/v1/imports", table(CREATE, 202), writes=True, body=_api_upload),
    api("GET /api/v1/imports", table(EVERYONE, 200)),
    api("GET /api/v1/imports/{import_id}", table(JOB_READERS, 200), subject=JOB),
    api("GET /api/v1/imports/{import_id}/errors", table(JOB_READERS, 200), subject=JOB),
]
