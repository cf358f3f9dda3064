"""Pages of the templating app."""

from django.urls import URLPattern, path

from rapport.templating import views

urlpatterns: list[URLPattern] = [
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_form, name="template_create"),
    path("templates/<str:public_id>/", views.template_detail, name="template_detail"),
    path("templates/<str:public_id>/edit/", views.template_form, name="template_edit"),
    path("templates/<str:public_id>/delete/", views.template_delete, name="template_delete"),
    path("templates/<str:public_id>/restore/", views.template_restore, name="template_restore"),
    path("templates/<str:public_id>/letters/", views.template_letters, name="template_letters"),
]
