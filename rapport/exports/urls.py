"""Pages of the exports app."""

from django.urls import URLPattern, path

from rapport.exports import views

urlpatterns: list[URLPattern] = [
    path("exports/<slug:resource>/", views.export_download, name="export_download"),
]
