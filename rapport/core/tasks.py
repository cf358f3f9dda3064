"""Background jobs of core."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django_tasks import task


@task()
def optimize_database() -> str:
    """Keep the query planner's statistics current. PostgreSQL's autovacuum does this by itself; SQLite
    only when asked, and without statistics a new table's joins can scan instead of seek."""
    if connection.vendor != "sqlite":
        return "not needed"
    analyze_sqlite(connection)
    return "analyzed"


def analyze_sqlite(db: Any, *tables: str) -> None:
    """Refresh SQLite's planner statistics of these tables (of all, when none is named) on a connection.
    Sampled: seconds even on a large database, and close enough for the planner."""
    statements = [f"ANALYZE {db.ops.quote_name(table)}" for table in tables] or ["ANALYZE"]
    with db.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        for statement in statements:
            cursor.execute(statement)
