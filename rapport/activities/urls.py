from django.urls import path

from rapport.activities import feed_views, views

urlpatterns = [
    # --- Pages: My Home, calendar, activities, notes (views.py) ---
    path("home/", views.my_home, name="my_home"),
    path("home/quick/", views.home_quick, name="home_quick"),
    path("calendar/", views.calendar, name="calendar"),
    path("activities/new/", views.activity_form, name="activity_create"),
    path("activities/about/<str:ref>/", views.record_activities, name="record_activities"),
    path("activities/<str:public_id>/", views.activity_detail, name="activity_detail"),
    path("activities/<str:public_id>/edit/", views.activity_form, name="activity_edit"),
    path("activities/<str:public_id>/delete/", views.activity_delete, name="activity_delete"),
    path("activities/<str:public_id>/restore/", views.activity_restore, name="activity_restore"),
    path("activities/<str:public_id>/status/", views.activity_status, name="activity_status"),
    path("activities/<str:public_id>/move/", views.activity_move, name="activity_move"),
    path("activities/<str:public_id>/skip/", views.activity_occurrence, name="activity_skip"),
    path("notes/about/<str:ref>/", views.record_notes, name="record_notes"),
    path("notes/<str:public_id>/edit/", views.note_edit, name="note_edit"),
    path("notes/<str:public_id>/delete/", views.note_delete, name="note_delete"),
    # --- Calendar feed, ICS import, calendar settings (feed_views.py) ---
    path("calendar/feed/<slug:token>.ics", feed_views.calendar_feed, name="calendar_feed"),
    path("settings/calendar/", feed_views.settings_calendar, name="settings_calendar"),
    path("settings/calendar/import/", feed_views.calendar_import, name="calendar_import"),
]
