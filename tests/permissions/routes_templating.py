"""The permission matrix entries of templates: pages and API (rapport.templating). See routes.py for the form."""

from __future__ import annotations

from tests.permissions.routes import Route

ROUTES: list[Route] = []
