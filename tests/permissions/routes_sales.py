"""The permission matrix's entries for the sales area, one module per part (so parts are written
side by side): leads, opportunities, orders, workflows and relationship stages, the API."""

from __future__ import annotations

from tests.permissions import (
    routes_leads,
    routes_opportunities,
    routes_orders,
    routes_sales_api,
    routes_workflows,
)

SALES_ROUTES = [*routes_leads.ROUTES, *routes_opportunities.ROUTES, *routes_orders.ROUTES,
                *routes_workflows.ROUTES, *routes_sales_api.ROUTES]
