"""The permission matrix entries of the search app. See routes.py for the form.

Everyone signed in may search; what a search shows is each record type's own visible_to (tests/search/
test_every_persona.py checks every persona against every owner and visibility, pages and API). The URLs
carry a query, since the API refuses a search for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from tests.permissions.routes import Call, Route, api, page
from tests.permissions.rules import EVERYONE, table
from tests.permissions.world import World

QUERY = "q=pat%20subject"


@dataclass(frozen=True)
class SearchRoute(Route):
    """A search route, asked for the cast's contact subjects ("Pat Subject private", …)."""

    def url(self, world: World, *, value: str | None = None) -> str:
        base = self.path if self.is_api else reverse(self.key)
        return f"{base}?{QUERY}"


def _search(route: Route) -> SearchRoute:
    return SearchRoute(key=route.key, calls=route.calls, subject=route.subject)


ROUTES: list[Route] = [
    _search(page("search", Call("GET", table(EVERYONE, 200)))),
    _search(page("search_suggest", Call("GET", table(EVERYONE, 200)))),
    _search(api("GET /api/v1/search", table(EVERYONE, 200))),
]
