"""URL routes: pages of each app, the admin, and the API."""

from django.contrib import admin
from django.urls import include, path, re_path

from rapport.api import api
from rapport.core import views as core_views
from rapport.sync import dav_views

urlpatterns = [
    path("", include("rapport.core.urls")),
    path("", include("rapport.directory.urls")),
    path("", include("rapport.activities.urls")),
    path("", include("rapport.sales.urls")),
    path("", include("rapport.support.urls")),
    path("", include("rapport.mail.urls")),
    path("", include("rapport.automation.urls")),
    path("", include("rapport.templating.urls")),
    path("", include("rapport.campaigns.urls")),
    path("", include("rapport.search.urls")),
    path("", include("rapport.imports.urls")),
    path("", include("rapport.exports.urls")),
    path("", include("rapport.reports.urls")),
    path("", include("rapport.documents.urls")),
    path("", include("rapport.projects.urls")),
    path("", include("rapport.expenses.urls")),
    path("", include("rapport.sync.urls")),
    # The admin signs in through Rapport's own page, so the sign-in throttle covers it too.
    path("admin/login/", core_views.login_view, name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # CalDAV and CardDAV (rapport.sync): everything under /dav/ goes to the embedded Radicale.
    re_path(r"^dav(?P<path>/.*)?$", dav_views.dav, name="dav"),
    path(".well-known/caldav", dav_views.well_known, name="well_known_caldav"),
    path(".well-known/carddav", dav_views.well_known, name="well_known_carddav"),
]
