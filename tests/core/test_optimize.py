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
