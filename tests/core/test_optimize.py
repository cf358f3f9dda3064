"""The scheduler's periodic statistics refresh."""

from __future__ import annotations

import pytest
from django.db import connection

from rapport.core.scheduler import periodic_jobs
from rapport.core.tasks import optimize_database


@pytest.mark.django_db
def test_the_planner_statistics_are_refreshed_on_sqlite_and_left_to_autovacuum_on_postgresql():
    assert "optimize_database" in periodic_jobs()
    result = optimize_database.call()
    if connection.vendor == "sqlite":
        assert result == "analyzed"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 1
    else:
        assert result == "not needed"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics; PostgreSQL's are autovacuum's")
def test_the_statistics_count_every_row_rather_than_a_sample(personas):
    # A sample (PRAGMA analysis_limit) reads the first entries of each index: for an owner index it saw a
    # thousand orders per owner where there were 5,000, and SQLite then sorted all of a user's orders to
    # show a page of them. Whole indexes are read, and the setting left on the connection does not matter.
    from rapport.core.bulk import insert_rows
    from rapport.directory.models import Contact

    others = Contact.objects.count()
    insert_rows(Contact, [{"owner_id": personas.owner.pk, "created_by_id": personas.owner.pk,
                           "last_name": f"Person {n:04d}", "name_key": f"person {n:04d}"} for n in range(3000)])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=100")
    optimize_database.call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'directory_contact' AND idx = %s",
                       [next(name for name, info in connection.introspection.get_constraints(
                           cursor, "directory_contact").items() if info["columns"] == ["owner_id"]
                             and info["index"])])
        rows, per_owner = map(int, cursor.fetchone()[0].split()[:2])
    assert rows == others + 3000
    assert per_owner >= 3000 // (Contact.objects.values("owner_id").distinct().count())
