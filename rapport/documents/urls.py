"""Pages of the documents app."""

from django.urls import URLPattern, path

from rapport.documents import views

urlpatterns: list[URLPattern] = [
    path("documents/about/<str:ref>/", views.record_documents, name="record_documents"),
    path("documents/<str:public_id>/", views.document_detail, name="document_detail"),
    path("documents/<str:public_id>/edit/", views.document_edit, name="document_edit"),
    path("documents/<str:public_id>/versions/", views.document_version_add, name="document_version_add"),
    path("documents/<str:public_id>/download/", views.document_download, name="document_download"),
    path("documents/<str:public_id>/versions/<int:number>/download/", views.document_download,
         name="document_version_download"),
    path("documents/<str:public_id>/delete/", views.document_delete, name="document_delete"),
    path("documents/<str:public_id>/restore/", views.document_restore, name="document_restore"),
]
