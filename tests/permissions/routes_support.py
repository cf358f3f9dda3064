"""The permission matrix's entries for the support desk, one module per part: pages, API."""

from __future__ import annotations

from tests.permissions import routes_support_api, routes_support_pages

SUPPORT_ROUTES = [*routes_support_pages.ROUTES, *routes_support_api.ROUTES]
