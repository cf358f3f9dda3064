"""Pinned query counts of the import pages and API: the same for 3 jobs (and bad rows) as for 30.

The list pages cost one query for the page of jobs whatever their number; a report one for its problems.
The preview runs its rows a batch at a time, so its count does not grow with the rows either.
If a change adds a query on purpose, update the number here and say why in the commit.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.imports import services
from tests.conftest import client_for
from tests.imports import files
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db

# Session + user (2), rights (1), the top bar (support requests awaiting the user, pending email: 1), then:
PAGES = {
    "list": ("/imports/", 5),  # the page of jobs (1)
    "report": ("/imports/{job}/", 6),  # the job (1), its problems (1)
    "errors": ("/imports/{job}/errors.csv", 5),  # the job (1), its problems (1), no top bar
    "rejects": ("/imports/{job}/rejects.csv", 5),
}
API = {
    "list": ("imports", 3),  # token (1, and its last-used stamp 1), the page of jobs (1)
    "detail": ("imports/{job}", 3),
    "errors": ("imports/{job}/errors", 4),
}


def populate(user, n: int) -> str:
    job = None
    for _ in range(n):
        job = run_import(user, files.people_csv(n, bad={2: "bad", 3: "worse"}))
    return job.public_id


def count(call) -> int:
    call()
    with CaptureQueriesContext(connection) as queries:
        result = call()
        assert result.status_code == 200, result.content[:300]
        if getattr(result, "streaming", False):
            b"".join(result.streaming_content)
    return len(queries)


def measure(personas, n: int, api_for) -> tuple[dict, dict]:
    job = populate(personas.owner, n)
    client = client_for(personas.owner)
    api = api_for(personas.owner)
    pages = {name: count(lambda url=url: client.get(url.format(job=job))) for name, (url, _n) in PAGES.items()}
    calls = {name: count(lambda path=path: api.get(path.format(job=job))) for name, (path, _n) in API.items()}
    return pages, calls


def test_query_counts_are_pinned_and_flat(personas, api_for):
    small = measure(personas, 3, api_for)
    large = measure(personas, 30, api_for)
    assert large == small
    assert small == ({name: n for name, (_url, n) in PAGES.items()}, {name: n for name, (_url, n) in API.items()})


def test_the_preview_costs_the_same_for_3_rows_as_for_20(personas):
    def preview_queries(rows: int) -> int:
        job = services.import_upload(actor=personas.owner, file_name="p.csv",
                                     data=files.people_csv(rows, company="Acme").encode(), record_type="contact")
        client = client_for(personas.owner)
        return count(lambda: client.get(f"/imports/{job.public_id}/preview/"))

    assert preview_queries(3) == preview_queries(40)
