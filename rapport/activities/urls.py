from django.urls import path

from rapport.activities import views

urlpatterns: list = [
    # --- Pages: My Home, calendar, activities, notes (views.py) ---
    # --- Calendar feed, ICS import, calendar settings (feed_views.py) ---
]
