"""Pages of the reports app."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
