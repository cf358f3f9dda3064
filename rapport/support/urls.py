"""Pages of the support app."""

from django.urls import URLPattern, path

from rapport.support.views import items, requests

urlpatterns: list[URLPattern] = [
    path("support/", items.support_list, name="support_list"),
    path("support/new/", items.support_form, name="support_new"),
    path("support/awaiting/", requests.support_awaiting, name="support_awaiting"),
    path("support/about/<str:ref>/", items.record_support_items, name="record_support_items"),
    path("support/answer/<str:token>/<str:action>/", requests.support_answer, name="support_answer"),
    path("support/<str:public_id>/", items.support_detail, name="support_detail"),
    path("support/<str:public_id>/edit/", items.support_form, name="support_edit"),
    path("support/<str:public_id>/delete/", items.support_delete, name="support_delete"),
    path("support/<str:public_id>/restore/", items.support_restore, name="support_restore"),
    path("support/<str:public_id>/copy/", items.support_copy_edit, name="support_copy_edit"),
    path("support/<str:public_id>/assign/", requests.support_assign, name="support_assign"),
    path("support/<str:public_id>/accept/", requests.support_accept, name="support_accept"),
    path("support/<str:public_id>/decline/", requests.support_decline, name="support_decline"),
]
