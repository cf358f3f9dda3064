"""Pages of the sync app: the settings page where clients are set up. The protocol itself is under /dav/."""

from django.urls import path

from rapport.sync import views

urlpatterns = [
    path("settings/sync/", views.sync_settings, name="sync_settings"),
    path("settings/sync/<int:app_password_id>/revoke/", views.app_password_revoke, name="sync_app_password_revoke"),
]
