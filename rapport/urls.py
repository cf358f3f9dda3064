"""URL routes: pages of each app, the admin, and the API."""

from django.contrib import admin
from django.urls import include, path

from rapport.api import api

urlpatterns = [
    path("", include("rapport.core.urls")),
    path("", include("rapport.directory.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
