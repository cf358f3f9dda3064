"""The permission matrix entries of logged email: pages and API (rapport.mail). See routes.py for the form."""

from __future__ import annotations

from tests.permissions.routes import Route

ROUTES: list[Route] = []
