"""A CSV file with any line ending imports: LF, CRLF (Windows), and a lone CR (Excel's "CSV (Macintosh)")."""

from __future__ import annotations

import pytest

from rapport.directory.models import Contact
from tests.imports.conftest import run_import

pytestmark = pytest.mark.django_db

ROWS = ["First name,Last name,E-mail,Remarks", "Ann,Lee,ann@x.test,\"two{end}lines\"", "Bo,Ng,bo@x.test,plain"]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_every_line_ending_imports_every_row(personas, end):
    job = run_import(personas.owner, end.join(row.format(end=end) for row in ROWS) + end)
    assert (job.status, job.created_count, job.total_rows) == ("done", 2, 2), job.message
    assert dict(Contact.objects.values_list("last_name", "remarks")) == {"Lee": f"two{end}lines", "Ng": "plain"}
