"""The permission matrix entries of distribution lists and campaigns: pages and API. See routes.py."""

from __future__ import annotations

from tests.permissions.routes import Route

ROUTES: list[Route] = []
