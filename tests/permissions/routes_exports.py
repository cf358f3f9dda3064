"""The permission matrix entries of the exports app: the export page and one API export per list. See
routes.py for the form.

An export is a read of a list: every signed-in user with the read right on its records gets 200 and a file
of what they may see (every default role reads every type, so everyone here). Exactly what each persona's
file holds is checked by tests/exports/test_visibility.py: the matrix's `lists` check reads
`response.content`, which a streamed download does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from tests.permissions.routes import Call, Route, api
from tests.permissions.rules import EVERYONE, table
from tests.permissions.world import World

EXPORTS = ("accounts", "contacts", "leads", "opportunities", "orders", "support-items", "emails", "templates",
           "distribution-lists", "campaigns", "activities", "projects", "expenses")


@dataclass(frozen=True)
class ExportPage(Route):
    """The export page names the list it exports: the contacts, as CSV, XLSX and vCard are all one view."""

    def url(self, world: World, *, value: str | None = None) -> str:
        return reverse(self.key, args=[value or "contacts"]) + "?format=csv"


ROUTES: list[Route] = [
    ExportPage(key="export_download", calls=(Call("GET", table(EVERYONE, 200)),)),
    *(api(f"GET /api/v1/{key}/export", table(EVERYONE, 200)) for key in EXPORTS),
]
