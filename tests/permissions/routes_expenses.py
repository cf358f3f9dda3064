"""The permission matrix entries of the expenses app: pages and API. See routes.py for the form."""

from __future__ import annotations

from tests.permissions.routes import Route

ROUTES: list[Route] = []
