"""Pages of the imports app: the wizard at /imports/ (no navigation entry; the Accounts and Contacts lists link it)."""

from django.urls import URLPattern, path

from rapport.imports import views

urlpatterns: list[URLPattern] = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<str:public_id>/", views.import_detail, name="import_detail"),
    path("imports/<str:public_id>/preview/", views.import_preview, name="import_preview"),
    path("imports/<str:public_id>/start/", views.import_start, name="import_start"),
    path("imports/<str:public_id>/progress/", views.import_progress, name="import_progress"),
    path("imports/<str:public_id>/errors.csv", views.import_errors_csv, name="import_errors_csv"),
    path("imports/<str:public_id>/rejects.csv", views.import_rejects_csv, name="import_rejects_csv"),
]
