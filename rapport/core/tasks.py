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

    Every index is read whole, one statement (so one transaction, outside a migration) per table. Sampled
    statistics (PRAGMA analysis_limit) read only the first entries of each index: for the orders' owner index
    they found a thousand orders per owner where there are 5,000, and SQLite then sorted every order a user
    may see to show 50 of them (the order list: 2.5-3.0 s instead of 5-7 ms on the medium data set); a larger
    sample still misled it on the overdue support items (docs/performance.md). The whole medium data set
    takes about 20 s; every writer waits while one table is read (SQLite has one write lock), readers do not."""
    with db.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=0")
        if not tables:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                           "ORDER BY name")
            tables = tuple(row[0] for row in cursor.fetchall())
        for table in tables:
            cursor.execute(f"ANALYZE {db.ops.quote_name(table)}")
