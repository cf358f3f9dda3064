from django.urls import path

from rapport.directory import merge_views, views
from rapport.directory.views import ACCOUNT_PAGES, CONTACT_PAGES

urlpatterns = [
    path("accounts/lookup/", views.account_lookup, name="account_lookup"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    # Before accounts/<public_id>/, which would take "stages" for an account's id.
    path("accounts/stages/", views.account_stages, name="account_stages"),
]
# Likely duplicates and merging (merge_views); "duplicates" before <public_id>/ as "stages" is.
for pages, prefix in ((ACCOUNT_PAGES, "accounts"), (CONTACT_PAGES, "contacts")):
    name = pages.name
    urlpatterns += [
        path(f"{prefix}/duplicates/", merge_views.record_duplicates, {"pages": pages}, name=f"{name}_duplicates"),
        path(f"{prefix}/<str:public_id>/merge/", merge_views.record_merge, {"pages": pages}, name=f"{name}_merge"),
        path(f"{prefix}/<str:public_id>/not-duplicate/", merge_views.record_not_duplicate, {"pages": pages},
             name=f"{name}_not_duplicate"),
    ]
for pages, prefix in ((ACCOUNT_PAGES, "accounts"), (CONTACT_PAGES, "contacts")):
    name = pages.name
    urlpatterns += [
        path(f"{prefix}/", views.record_list, {"pages": pages}, name=f"{name}_list"),
        path(f"{prefix}/new/", views.record_form, {"pages": pages}, name=f"{name}_create"),
        path(f"{prefix}/<str:public_id>/", views.record_detail, {"pages": pages}, name=f"{name}_detail"),
        path(f"{prefix}/<str:public_id>/edit/", views.record_form, {"pages": pages}, name=f"{name}_edit"),
        path(f"{prefix}/<str:public_id>/delete/", views.record_delete, {"pages": pages}, name=f"{name}_delete"),
        path(f"{prefix}/<str:public_id>/restore/", views.record_restore, {"pages": pages}, name=f"{name}_restore"),
    ]
