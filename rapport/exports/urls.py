"""Pages of the exports app."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
