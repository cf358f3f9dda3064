"""The permission matrix's entries for automation, one module per part: pages, API."""

from __future__ import annotations

from tests.permissions import routes_automation_api, routes_automation_pages

AUTOMATION_ROUTES = [*routes_automation_pages.ROUTES, *routes_automation_api.ROUTES]
