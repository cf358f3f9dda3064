"""Pages of the reports app."""

from django.urls import URLPattern, path

from rapport.reports import views

urlpatterns: list[URLPattern] = [
    path("reports/", views.report_index, name="report_index"),
    path("reports/dashboard/", views.report_dashboard, name="report_dashboard"),
    path("reports/saved/new/", views.saved_report_create, name="saved_report_create"),
    path("reports/saved/<str:public_id>/", views.saved_report_detail, name="saved_report_detail"),
    path("reports/saved/<str:public_id>/edit/", views.saved_report_edit, name="saved_report_edit"),
    path("reports/saved/<str:public_id>/delete/", views.saved_report_delete, name="saved_report_delete"),
    path("reports/saved/<str:public_id>/restore/", views.saved_report_restore, name="saved_report_restore"),
    # Report kinds are slugs such as "pipeline-by-stage"; none is named "saved" or "dashboard".
    path("reports/<slug:kind>/", views.report_view, name="report_view"),
    path("reports/<slug:kind>/export/", views.report_export, name="report_export"),
]
