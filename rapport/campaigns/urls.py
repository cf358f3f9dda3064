"""Pages of the campaigns app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
