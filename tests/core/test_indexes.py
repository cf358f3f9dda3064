"""The tables a sweep and an import write in bulk carry one index per leading column, not two.

Django gives every foreign key an index of its own; where a composite index or a unique constraint already
starts with that column, the single-column index served no lookup the wider one could not, and every row
written went into both (rapport.core.migration_ops.without_field_indexes dropped them). A lookup by each
of these columns must still find an index that starts with it, or deleting a user or an account would
read the whole table."""

from __future__ import annotations

import pytest
from django.db import connection

from rapport.activities.models import Activity, ActivityAssignee, ActivityLink
from rapport.automation.models import FollowUp
from rapport.core.models import HistoryEntry
from rapport.directory.models import Account, Contact

pytestmark = pytest.mark.django_db

BULK_WRITTEN = {
    Contact: ("account_id",),
    Account: ("owner_id", "parent_id"),
    Activity: ("owner_id",),
    ActivityAssignee: ("activity_id", "user_id"),
    ActivityLink: ("activity_id",),
    FollowUp: ("assignee_id", "rule_id"),
    HistoryEntry: ("content_type_id",),
}


def _indexes(table: str) -> list[tuple[str, list[str]]]:
    """(name, columns) of each index and unique constraint on a table (foreign keys and checks left out)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [(name, info["columns"]) for name, info in constraints.items()
            if (info["index"] or info["unique"]) and not info["primary_key"] and info["columns"]]


@pytest.mark.parametrize("model", list(BULK_WRITTEN), ids=lambda model: model.__name__)
def test_each_leading_column_has_one_index_not_two(model):
    indexes = _indexes(model._meta.db_table)
    for column in BULK_WRITTEN[model]:
        leading = [name for name, columns in indexes if columns[0] == column]
        alone = [name for name, columns in indexes if columns == [column]]
        assert leading, f"no index starts with {model._meta.db_table}.{column}: its lookups would scan the table"
        assert not alone, f"{model._meta.db_table}.{column} has an index of its own besides {leading}"


def test_a_contact_s_owner_has_an_index_of_its_own_for_the_list_s_total():
    # The total counts one owner's contacts that pass a filter: read by the owner's own index, in the table's
    # order, rather than by the name index that also starts with the owner (14 ms instead of 37 on the
    # benchmark's 85,454 contacts of one owner).
    indexes = _indexes(Contact._meta.db_table)
    assert [columns for _name, columns in indexes if columns == ["owner_id"]] == [["owner_id"]]
    assert any(columns[:2] == ["owner_id", "name_key"] for _name, columns in indexes)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL plans from its statistics")
def test_the_support_report_counts_from_its_index_alone(personas):
    """The report groups every visible item by status and priority: read from the index, in its order, it
    reads no row of the table and sorts nothing (1.4 s on the benchmark's 500,000 items before)."""
    from django.test.utils import CaptureQueriesContext

    from rapport.reports.filters import ReportFilters
    from rapport.reports.selectors import support

    with CaptureQueriesContext(connection) as captured:
        support(user=personas.owner, filters=ReportFilters())
    [grouped] = [q["sql"] for q in captured.captured_queries
                 if "support_supportitem" in q["sql"] and "GROUP BY" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {grouped}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "COVERING INDEX support_report_idx" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
