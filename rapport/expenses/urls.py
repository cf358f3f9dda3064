"""Pages of the expenses app."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
