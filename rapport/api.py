"""The JSON API at /api/v1/: assembles each app's router (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from ninja import NinjaAPI

from rapport.activities.api import router as activities_router
from rapport.automation.api import router as automation_router
from rapport.campaigns.api import router as campaigns_router
from rapport.core.api import router as core_router
from rapport.core.apitools import API_AUTH, install_error_handlers
from rapport.directory.api import router as directory_router
from rapport.documents.api import router as documents_router
from rapport.expenses.api import router as expenses_router
from rapport.exports.api import router as exports_router
from rapport.imports.api import router as imports_router
from rapport.mail.api import router as mail_router
from rapport.projects.api import router as projects_router
from rapport.reports.api import router as reports_router
from rapport.sales.api import router as sales_router
from rapport.search.api import router as search_router
from rapport.support.api import router as support_router
from rapport.templating.api import router as templating_router

api = NinjaAPI(
    title="Rapport API",
    version="1",
    description="Rapport's JSON API. Authenticate with a session (and CSRF token) or "
    "`Authorization: Bearer <token>`. Lists are cursor-paginated: {items, next}.",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
# Exports first: GET /<resource>/export must win over the apps' GET /<resource>/{id}.
api.add_router("/", exports_router)
api.add_router("/", core_router)
api.add_router("/", directory_router)
api.add_router("/", activities_router)
api.add_router("/", sales_router)
api.add_router("/", support_router)
api.add_router("/", automation_router)
api.add_router("/", mail_router)
api.add_router("/", templating_router)
api.add_router("/", campaigns_router)
api.add_router("/", search_router)
api.add_router("/", imports_router)
api.add_router("/", reports_router)
api.add_router("/", documents_router)
api.add_router("/", projects_router)
api.add_router("/", expenses_router)
