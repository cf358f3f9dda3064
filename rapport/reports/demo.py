"""Saved reports of the demo company (called by rapport.demo.load_demo once its users exist)."""

from __future__ import annotations

from typing import Any

from rapport.core.models import Visibility
from rapport.reports import services

DEMO_REPORTS = [
    # (username, name, kind, filters, visibility)
    ("manager", "Team pipeline", "pipeline-by-stage", {"team": "mine"}, Visibility.TEAM),
    ("manager", "Won and lost this quarter", "won-lost", {"period": "this-quarter", "team": "mine"}, Visibility.TEAM),
    ("manager", "Open support by priority", "support", {"status": "open"}, Visibility.EVERYONE),
    ("sales1", "My deals by close month", "pipeline-by-month", {"owner": "me", "period": "next-12-months"},
     Visibility.PRIVATE),
    ("sales1", "My activities this month", "activities", {"owner": "me", "period": "this-month"}, Visibility.PRIVATE),
]


def demo_reports(users: dict[str, Any]) -> dict[str, int]:
    """A few saved reports: the manager's shared with the team and everyone, a seller's private ones."""
    made = 0
    for username, name, kind, filters, visibility in DEMO_REPORTS:
        owner = users.get(username)
        if owner is None:
            continue
        services.saved_report_create(actor=owner, data={"name": name, "kind": kind, "filters": filters,
                                                        "visibility": visibility})
        made += 1
    return {"saved reports": made}
