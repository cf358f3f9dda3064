"""Pages of the campaigns app: distribution lists, campaigns, the record panel, unsubscribing."""

from django.urls import URLPattern, path

from rapport.campaigns import views

urlpatterns: list[URLPattern] = [
    path("distribution-lists/", views.distribution_list_list, name="distribution_list_list"),
    path("distribution-lists/new/", views.distribution_list_create, name="distribution_list_create"),
    path("distribution-lists/about/<str:ref>/", views.record_distribution_lists, name="record_distribution_lists"),
    path("distribution-lists/<str:public_id>/", views.distribution_list_detail, name="distribution_list_detail"),
    path("distribution-lists/<str:public_id>/edit/", views.distribution_list_edit, name="distribution_list_edit"),
    path("distribution-lists/<str:public_id>/delete/", views.distribution_list_delete,
         name="distribution_list_delete"),
    path("distribution-lists/<str:public_id>/restore/", views.distribution_list_restore,
         name="distribution_list_restore"),
    path("distribution-lists/<str:public_id>/members/add/", views.distribution_list_member_add,
         name="distribution_list_member_add"),
    path("distribution-lists/<str:public_id>/members/remove/", views.distribution_list_member_remove,
         name="distribution_list_member_remove"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<str:public_id>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<str:public_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<str:public_id>/delete/", views.campaign_delete, name="campaign_delete"),
    path("campaigns/<str:public_id>/restore/", views.campaign_restore, name="campaign_restore"),
    path("campaigns/<str:public_id>/start/", views.campaign_start, name="campaign_start"),
    path("campaigns/<str:public_id>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<str:public_id>/preview/", views.campaign_preview, name="campaign_preview"),
    # Public: the link in every campaign message (no sign-in; the random token is the credential).
    path("unsubscribe/<str:token>/", views.campaign_unsubscribe, name="campaign_unsubscribe"),
]
