from django.urls import path

from rapport.core import settings_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    # Settings: for every signed-in user
    path("settings/", settings_views.settings_index, name="settings_index"),
    path("settings/profile/", settings_views.profile, name="settings_profile"),
    path("settings/password/", settings_views.password_change, name="settings_password"),
    path("settings/tokens/", settings_views.tokens, name="settings_tokens"),
    path("settings/tokens/<str:prefix>/revoke/", settings_views.token_revoke, name="settings_token_revoke"),
    # Settings: administrators only
    path("settings/users/", settings_views.user_list, name="settings_users"),
    path("settings/users/new/", settings_views.user_form, name="settings_user_create"),
    path("settings/users/<str:public_id>/edit/", settings_views.user_form, name="settings_user_edit"),
    path("settings/teams/", settings_views.team_list, name="settings_teams"),
    path("settings/teams/new/", settings_views.team_form, name="settings_team_create"),
    path("settings/teams/<str:public_id>/edit/", settings_views.team_form, name="settings_team_edit"),
    path("settings/roles/", settings_views.role_list, name="settings_roles"),
    path("settings/roles/new/", settings_views.role_form, name="settings_role_create"),
    path("settings/roles/<slug:slug>/edit/", settings_views.role_form, name="settings_role_edit"),
]
