"""Pages of the projects app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
