"""Background jobs of core."""

from __future__ import annotations

from django.db import connection
from django_tasks import task


@task()
def optimize_database() -> str:
    """Keep the query planner's statistics current. PostgreSQL's autovacuum does this by itself; SQLite
    only when asked, and without statistics a new table's joins can scan instead of seek."""
    if connection.vendor != "sqlite":
        return "not needed"
    with connection.cursor() as cursor:
        # Sampled statistics: seconds even on a large database, and close enough for the planner.
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
    return "analyzed"
